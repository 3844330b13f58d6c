//! Building and running the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, Service};
use actix_web::http::KeepAlive;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{App, HttpServer, web};
use tracing::Instrument;

use crate::auth::Verifier;
use crate::config::Config;
use crate::domain::tenant::TenantId;
use crate::http::{self, AppState, REQUEST_BODY_BYTES_MAX};
use crate::store::Registry;

/// How long shutdown waits for in-flight requests, in seconds.
pub const SHUTDOWN_GRACE_SECONDS: u64 = 30;
/// Default time a client has to send a request's head (line and headers), in milliseconds;
/// a client still sending then gets 408 and its connection is closed
/// (`LEDGERLITE_CLIENT_REQUEST_TIMEOUT_MS`).
pub const CLIENT_REQUEST_TIMEOUT_MS: u64 = 5_000;
/// Default time a closing connection has to shut down before it is dropped, in milliseconds
/// (`LEDGERLITE_CLIENT_DISCONNECT_TIMEOUT_MS`).
pub const CLIENT_DISCONNECT_TIMEOUT_MS: u64 = 1_000;
/// Default time an idle keep-alive connection stays open, in milliseconds
/// (`LEDGERLITE_KEEP_ALIVE_MS`; 0 disables keep-alive).
pub const KEEP_ALIVE_MS: u64 = 5_000;
/// Largest request head (request line and headers) in bytes. Fixed by actix-http (its HTTP/1
/// decoder's buffer, not configurable); a larger head gets 431 and the connection is closed.
pub const REQUEST_HEAD_BYTES_MAX: usize = 131_072;
/// Most headers in one request. Fixed by actix-http (not configurable); more get 431.
pub const REQUEST_HEADERS_COUNT_MAX: usize = 96;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    registry: Arc<Registry>,
}

/// What slow or idle clients are allowed, from the configuration.
struct ClientTimeouts {
    request_ms: u64,
    disconnect_ms: u64,
    keep_alive_ms: u64,
}

impl ClientTimeouts {
    fn of(config: &Config) -> Self {
        Self {
            request_ms: config.client_request_timeout_ms,
            disconnect_ms: config.client_disconnect_timeout_ms,
            keep_alive_ms: config.keep_alive_ms,
        }
    }

    fn keep_alive(&self) -> KeepAlive {
        match self.keep_alive_ms {
            0 => KeepAlive::Disabled,
            ms => KeepAlive::Timeout(Duration::from_millis(ms)),
        }
    }
}

impl Application {
    /// Opens the data folder, binds `config.addr` (port 0 picks a free port) and builds the
    /// server. In single-tenant mode the `default` tenant is created here.
    pub fn build(config: Config) -> anyhow::Result<Self> {
        let registry = Arc::new(Registry::new(config.store())?);
        if !config.multi_tenant {
            registry.create(&TenantId::default_tenant())?;
        }
        let verifier = if config.token_required() {
            Some(Verifier::from_config(&config)?)
        } else {
            None
        };
        let timeouts = ClientTimeouts::of(&config);
        let listener = TcpListener::bind(&config.addr)?;
        let port = listener.local_addr()?.port();
        let state = web::Data::new(AppState {
            metrics: Default::default(),
            config,
            engine: Arc::new(crate::Engine::with_registry(Arc::clone(&registry))),
            verifier,
        });
        http::check_route_table()?;
        let doc = http::openapi::document(state.config.admin_token.is_some());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(REQUEST_BODY_BYTES_MAX))
                .wrap_fn(move |req, srv| {
                    let id = req.headers().get(&REQUEST_ID).cloned().unwrap_or_else(|| {
                        HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
                            .unwrap_or(HeaderValue::from_static("-"))
                    });
                    let span = tracing::info_span!(
                        "request",
                        request_id = id.to_str().unwrap_or("-"),
                        method = %req.method(),
                        route = req.match_pattern().as_deref().unwrap_or("-"),
                        tenant = tracing::field::Empty,
                    );
                    let started = std::time::Instant::now();
                    let route = req.match_pattern().unwrap_or_else(|| "-".to_owned());
                    let method = req.method().to_string();
                    let recorder = req.app_data::<web::Data<AppState>>().cloned();
                    let response = span.in_scope(|| srv.call(req));
                    async move {
                        let mut response = response.await?;
                        let status = response.status().as_u16();
                        let micros =
                            u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                        tracing::info!(status, micros, "request finished");
                        if let Some(state) = recorder {
                            state
                                .metrics
                                .record(&route, &method, status, started.elapsed());
                            let failure = response.response().error();
                            if let Some(error) =
                                failure.and_then(|e| e.as_error::<crate::error::Error>())
                            {
                                state.metrics.error(error.spec().code);
                            }
                        }
                        response.headers_mut().insert(REQUEST_ID, id);
                        Ok(response)
                    }
                    .instrument(span)
                })
                .configure(http::configure)
                .configure(|cfg| http::openapi::routes(cfg, doc.clone()))
                .default_service(web::to(http::not_found))
        })
        .shutdown_timeout(SHUTDOWN_GRACE_SECONDS)
        .client_request_timeout(Duration::from_millis(timeouts.request_ms))
        .client_disconnect_timeout(Duration::from_millis(timeouts.disconnect_ms))
        .keep_alive(timeouts.keep_alive())
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            registry,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn registry(&self) -> Arc<Registry> {
        Arc::clone(&self.registry)
    }

    /// Runs until SIGINT/SIGTERM, then drains in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
