//! `/health`, `/version`, `/readyz`.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::routes::{Access, Route};

pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::new::<__path_health>(Access::Public, |r| r.to(health)),
        Route::new::<__path_version>(Access::Public, |r| r.to(version)),
        Route::new::<__path_readyz>(Access::Public, |r| r.to(readyz)),
    ]
}

/// Liveness: plain text `healthy`.
#[utoipa::path(get, path = "/health", tag = "System",
    responses((status = 200, body = String, content_type = "text/plain", example = "healthy")))]
async fn health() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("healthy")
}

/// `GET /version`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct Version {
    #[schema(example = "0.1.0")]
    version: &'static str,
    #[schema(format = DateTime)]
    request_date: String,
}

/// The server version and the time of the request.
#[utoipa::path(get, path = "/version", tag = "System", responses((status = 200, body = Version)))]
async fn version() -> HttpResponse {
    HttpResponse::Ok().json(Version {
        version: env!("CARGO_PKG_VERSION"),
        request_date: crate::domain::time::now(),
    })
}

/// `GET /readyz`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct Readiness {
    status: ReadinessStatus,
    checks: ReadinessChecks,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum ReadinessStatus {
    Ok,
    Unavailable,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ReadinessChecks {
    data_dir: bool,
}

/// Readiness: ready when the data folder is writable.
#[utoipa::path(get, path = "/readyz", tag = "System", responses(
    (status = 200, body = Readiness, description = "Ready"),
    (status = 503, body = Readiness, description = "Not ready"),
))]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let dir = state.engine.registry().tenants_dir();
    let ready = std::fs::metadata(&dir)
        .map(|m| m.is_dir() && !m.permissions().readonly())
        .unwrap_or(false);
    let body = Readiness {
        status: if ready {
            ReadinessStatus::Ok
        } else {
            ReadinessStatus::Unavailable
        },
        checks: ReadinessChecks { data_dir: ready },
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
