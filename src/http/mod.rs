//! HTTP adapter: routes, extractors, DTOs and the error envelope. Handlers parse and validate
//! the request, call one `ledger::` use case and map its result.

mod accounts;
mod asset_rates;
mod balances;
mod body;
mod error;
mod extract;
mod ledger_items;
mod ledgers;
mod organizations;
mod reply;
mod system;
mod transactions;

use std::sync::Arc;

use actix_web::web;

use crate::auth::Verifier;
use crate::config::Config;
use crate::store::Registry;

pub use extract::REQUEST_BODY_BYTES_MAX;

/// What every handler can reach.
pub struct AppState {
    pub config: Config,
    pub registry: Arc<Registry>,
    /// Present when requests must carry a verified token.
    pub verifier: Option<Verifier>,
}

/// Registers every route. Literal paths are registered before parameterised ones.
pub fn configure(cfg: &mut web::ServiceConfig) {
    system::routes(cfg);
    organizations::routes(cfg);
    ledgers::routes(cfg);
    ledger_items::routes(cfg);
    balances::routes(cfg);
    accounts::routes(cfg);
    transactions::routes(cfg);
    asset_rates::routes(cfg);
}

/// The 404 for paths no route matches, in the envelope Midaz's HTTP framework uses for it
/// (a numeric `code`), which differs from the business-error envelope.
pub async fn not_found(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    actix_web::HttpResponse::NotFound().json(serde_json::json!({
        "code": 404,
        "title": "request_failed",
        "message": format!("Cannot {} {}", req.method(), req.path()),
    }))
}
