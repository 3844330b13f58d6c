//! HTTP adapter: routes, extractors, DTOs and the error envelope. Handlers parse and validate
//! the request, call one `ledger::` use case and map its result.

mod accounts;
mod admin;
mod asset_rates;
mod balances;
mod body;
mod error;
mod extract;
mod ledger_items;
mod ledgers;
mod metrics;
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
    pub metrics: metrics::HttpMetrics,
}

/// The prefix of every ledger-scoped route.
pub const LEDGER_SCOPE: &str = "/v1/organizations/{organization_id}/ledgers/{ledger_id}";

/// Registers every route. Ledger-scoped routes live in one scope, so a request is matched
/// against the prefix once and then against that scope's routes only, hot ones first; the
/// organization and ledger routes the scope's prefix would swallow come before it.
pub fn configure(cfg: &mut web::ServiceConfig) {
    system::routes(cfg);
    admin::routes(cfg);
    metrics::routes(cfg);
    organizations::routes(cfg);
    ledgers::routes(cfg);
    cfg.service(
        web::scope(LEDGER_SCOPE)
            .configure(transactions::routes)
            .configure(balances::routes)
            .configure(accounts::routes)
            .configure(ledger_items::routes)
            .configure(asset_rates::routes)
            .default_service(web::to(not_found)),
    );
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
