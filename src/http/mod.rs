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
pub mod openapi;
mod organizations;
mod reply;
mod system;
mod transactions;

use std::sync::Arc;

use actix_web::web;

use crate::auth::Verifier;
use crate::config::Config;
use crate::store::Registry;

pub use admin::ADMIN_ROUTES;
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

/// Every route [`configure`] registers, as `(method, path template)`: the OpenAPI document
/// must describe exactly these (`tests/api/openapi.rs` compares both ways and checks the server
/// answers each). Add a route here when adding it to a handler module. The admin API's routes
/// are listed apart, in [`ADMIN_ROUTES`], since they exist only when it is enabled.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/version"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("HEAD", "/v1/organizations/metrics/count"),
    ("POST", "/v1/organizations"),
    ("GET", "/v1/organizations"),
    ("GET", "/v1/organizations/{id}"),
    ("PATCH", "/v1/organizations/{id}"),
    ("DELETE", "/v1/organizations/{id}"),
    (
        "HEAD",
        "/v1/organizations/{organization_id}/ledgers/metrics/count",
    ),
    ("POST", "/v1/organizations/{organization_id}/ledgers"),
    ("GET", "/v1/organizations/{organization_id}/ledgers"),
    ("GET", "/v1/organizations/{organization_id}/ledgers/{id}"),
    ("PATCH", "/v1/organizations/{organization_id}/ledgers/{id}"),
    ("DELETE", "/v1/organizations/{organization_id}/ledgers/{id}"),
    (
        "GET",
        "/v1/organizations/{organization_id}/ledgers/{id}/settings",
    ),
    (
        "PATCH",
        "/v1/organizations/{organization_id}/ledgers/{id}/settings",
    ),
    // Below: ledger-scoped, relative to LEDGER_SCOPE (a leading `@`).
    ("HEAD", "@/assets/metrics/count"),
    ("POST", "@/assets"),
    ("GET", "@/assets"),
    ("GET", "@/assets/{id}"),
    ("PATCH", "@/assets/{id}"),
    ("DELETE", "@/assets/{id}"),
    ("HEAD", "@/portfolios/metrics/count"),
    ("POST", "@/portfolios"),
    ("GET", "@/portfolios"),
    ("GET", "@/portfolios/{id}"),
    ("PATCH", "@/portfolios/{id}"),
    ("DELETE", "@/portfolios/{id}"),
    ("HEAD", "@/segments/metrics/count"),
    ("POST", "@/segments"),
    ("GET", "@/segments"),
    ("GET", "@/segments/{id}"),
    ("PATCH", "@/segments/{id}"),
    ("DELETE", "@/segments/{id}"),
    ("HEAD", "@/account-types/metrics/count"),
    ("POST", "@/account-types"),
    ("GET", "@/account-types"),
    ("GET", "@/account-types/{id}"),
    ("PATCH", "@/account-types/{id}"),
    ("DELETE", "@/account-types/{id}"),
    ("HEAD", "@/accounts/metrics/count"),
    ("POST", "@/accounts"),
    ("GET", "@/accounts"),
    ("GET", "@/accounts/{id}"),
    ("PATCH", "@/accounts/{id}"),
    ("DELETE", "@/accounts/{id}"),
    ("GET", "@/accounts/alias/{alias}"),
    ("GET", "@/accounts/external/{code}"),
    ("HEAD", "@/transactions/metrics/count"),
    ("POST", "@/transactions/json"),
    ("POST", "@/transactions/inflow"),
    ("POST", "@/transactions/outflow"),
    ("POST", "@/transactions/annotation"),
    ("POST", "@/transactions/batch"),
    ("GET", "@/transactions"),
    ("GET", "@/transactions/{transaction_id}"),
    ("PATCH", "@/transactions/{transaction_id}"),
    ("POST", "@/transactions/{transaction_id}/commit"),
    ("POST", "@/transactions/{transaction_id}/cancel"),
    ("POST", "@/transactions/{transaction_id}/revert"),
    (
        "PATCH",
        "@/transactions/{transaction_id}/operations/{operation_id}",
    ),
    ("GET", "@/accounts/{account_id}/operations"),
    ("GET", "@/accounts/{account_id}/operations/{operation_id}"),
    ("GET", "@/balances"),
    ("GET", "@/balances/{balance_id}"),
    ("PATCH", "@/balances/{balance_id}"),
    ("DELETE", "@/balances/{balance_id}"),
    ("GET", "@/balances/{balance_id}/history"),
    ("GET", "@/accounts/{account_id}/balances"),
    ("POST", "@/accounts/{account_id}/balances"),
    ("GET", "@/accounts/{account_id}/balances/history"),
    ("GET", "@/accounts/alias/{alias}/balances"),
    ("GET", "@/accounts/external/{code}/balances"),
    ("PUT", "@/asset-rates"),
    ("GET", "@/asset-rates/{external_id}"),
    ("GET", "@/asset-rates/from/{asset_code}"),
];

/// [`ROUTES`] with the ledger scope spelled out.
pub fn routes() -> impl Iterator<Item = (&'static str, String)> {
    ROUTES.iter().map(|(method, path)| {
        let path = match path.strip_prefix('@') {
            Some(scoped) => format!("{LEDGER_SCOPE}{scoped}"),
            None => (*path).to_owned(),
        };
        (*method, path)
    })
}

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
