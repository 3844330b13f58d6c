//! `/health`, `/version`, `/readyz`.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health))
        .route("/version", web::get().to(version))
        .route("/readyz", web::get().to(readyz));
}

async fn health() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("healthy")
}

async fn version() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "requestDate": crate::domain::time::now(),
    }))
}

/// Ready when the data folder is writable.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let dir = state.registry.tenants_dir();
    let ready = std::fs::metadata(&dir)
        .map(|m| m.is_dir() && !m.permissions().readonly())
        .unwrap_or(false);
    let body =
        json!({"status": if ready { "ok" } else { "unavailable" }, "checks": {"dataDir": ready}});
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
