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
mod metadata_indexes;
mod metrics;
pub mod openapi;
mod organizations;
mod records;
mod reply;
pub mod routes;
mod routing;
mod system;
mod transactions;

use std::sync::Arc;

use actix_web::web;

use crate::Engine;
use crate::auth::Verifier;
use crate::config::Config;

pub use extract::REQUEST_BODY_BYTES_MAX;
pub use routes::{Access, LEDGER_SCOPE, Route};

/// What every handler can reach.
pub struct AppState {
    pub config: Config,
    /// The tenants, opened on first use.
    pub engine: Arc<Engine>,
    /// Present when requests must carry a verified token.
    pub verifier: Option<Verifier>,
    pub metrics: metrics::HttpMetrics,
}

/// Every route of the API, in the order they are matched: each handler module lists its own
/// (see [`routes`](mod@routes)). The admin API's are served only when it is enabled.
pub fn route_table() -> Vec<Route> {
    [
        system::routes(),
        admin::routes(),
        metrics::routes(),
        organizations::routes(),
        ledgers::routes(),
        // Ledger-scoped, hot ones first.
        transactions::routes(),
        balances::routes(),
        accounts::routes(),
        ledger_items::routes(),
        asset_rates::routes(),
        routing::routes(),
        metadata_indexes::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// `(method, path template)` of every route in [`route_table`]; with `admin`, the admin API's
/// too. The OpenAPI document must describe exactly these (`tests/api/openapi.rs` compares both
/// ways and checks the server answers each).
pub fn routes(admin: bool) -> Vec<(String, String)> {
    route_table()
        .into_iter()
        .filter(|route| admin || route.info.access != Access::Admin)
        .map(|route| (route.method.to_string(), route.path))
        .collect()
}

/// Fails unless the route table is one the server may start with ([`routes::check`]).
pub fn check_route_table() -> anyhow::Result<()> {
    routes::check(&route_table()).map_err(|problem| anyhow::anyhow!("route table: {problem}"))
}

/// Registers every route of [`route_table`].
pub fn configure(cfg: &mut web::ServiceConfig) {
    routes::configure(cfg, route_table());
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
