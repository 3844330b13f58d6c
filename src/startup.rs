//! Building and running the HTTP server, and what a failed start tells the operator.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
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

/// How the process ends when a command fails: each class of failure has its own exit code
/// (README, "Command line").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The command ran and was refused (tenant not found, in use, exists…).
    Refused = 1,
    /// A setting is missing or invalid (clap's usage errors exit 2 as well).
    Config = 2,
    /// The listen address is taken or may not be used.
    Address = 3,
    /// The data folder cannot be used.
    DataDir = 4,
    /// `verify` found problems.
    Verification = 5,
}

/// A failure the operator must fix: one line naming the setting, the value and what to do,
/// and the exit code of its class.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self {
            exit,
            message: message.into(),
        }
    }
}

/// An I/O error in words, without the `(os error N)` suffix.
pub fn reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// Binds the listen address, or says which setting to change and how.
fn bind(addr: &str) -> Result<TcpListener, Failure> {
    use std::io::ErrorKind;
    const SETTING: &str = "--addr / LEDGERLITE_ADDR";
    TcpListener::bind(addr).map_err(|error| match error.kind() {
        ErrorKind::AddrInUse => Failure::new(
            Exit::Address,
            format!(
                "cannot listen on {addr} ({SETTING}): the address is already in use, perhaps by \
                 another ledgerlite or Midaz (v3.6+ also serves on 3002); stop it or choose \
                 another address, e.g. --addr 127.0.0.1:3003"
            ),
        ),
        ErrorKind::PermissionDenied => Failure::new(
            Exit::Address,
            format!(
                "cannot listen on {addr} ({SETTING}): permission denied (ports below 1024 need \
                 privileges); choose a port of 1024 or above"
            ),
        ),
        ErrorKind::AddrNotAvailable => Failure::new(
            Exit::Address,
            format!(
                "cannot listen on {addr} ({SETTING}): the address is not one of this machine's; \
                 use 127.0.0.1:PORT, or 0.0.0.0:PORT for every interface"
            ),
        ),
        ErrorKind::InvalidInput => Failure::new(
            Exit::Config,
            format!(
                "{SETTING} {addr:?} is not a listen address: give host:port, e.g. \
                 127.0.0.1:3002 (a port alone is not enough)"
            ),
        ),
        _ => Failure::new(
            Exit::Address,
            format!("cannot listen on {addr} ({SETTING}): {}", reason(&error)),
        ),
    })
}

/// The data folder as an absolute path, created if missing (only the folder itself: a
/// missing parent is more likely a typo than a wish), refused if it is not a folder.
pub fn data_dir(path: &Path) -> Result<PathBuf, Failure> {
    const SETTING: &str = "--data-dir / LEDGERLITE_DATA_DIR";
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let shown = absolute.display();
    let failure = |what: String| Failure::new(Exit::DataDir, what);
    match std::fs::metadata(&absolute) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(failure(format!(
                "the data folder {shown} ({SETTING}) is a file, not a folder; point \
                 --data-dir at a folder"
            )));
        }
        Err(_) => {
            let parent = absolute.parent().filter(|p| p.is_dir()).ok_or_else(|| {
                let parent = absolute.parent().unwrap_or(&absolute).display();
                failure(format!(
                    "the data folder {shown} ({SETTING}) does not exist, nor does its parent \
                     {parent}; create it (mkdir -p {shown}) or point --data-dir elsewhere"
                ))
            })?;
            std::fs::create_dir(&absolute).map_err(|e| {
                failure(format!(
                    "cannot create the data folder {shown} ({SETTING}) in {}: {}; fix the \
                     permissions or point --data-dir elsewhere",
                    parent.display(),
                    reason(&e)
                ))
            })?;
        }
    }
    Ok(absolute)
}

/// Opens the registry on a checked data folder; a folder it cannot write is named.
pub fn open_registry(config: &Config) -> Result<Registry, Failure> {
    let dir = data_dir(&config.data_dir)?;
    Registry::new(config.store()).map_err(|e| {
        Failure::new(
            Exit::DataDir,
            format!(
                "cannot use the data folder {} (--data-dir / LEDGERLITE_DATA_DIR): {}; fix its \
                 permissions or point --data-dir elsewhere",
                dir.display(),
                reason(&e)
            ),
        )
    })
}

/// A bound, not yet running server.
pub struct Application {
    addr: SocketAddr,
    data_dir: PathBuf,
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
    /// Checks the token settings, binds `config.addr` (port 0 picks a free port), opens the
    /// data folder and builds the server. In single-tenant mode the `default` tenant is created
    /// here. The disk is touched last: a start refused for a setting or the address leaves no
    /// folder behind. Over 70 lines because the request middleware is a closure inside the
    /// server factory: its service type cannot be named, so it cannot move to a function.
    pub fn build(config: Config) -> anyhow::Result<Self> {
        let verifier = if config.token_required() {
            Some(
                Verifier::from_config(&config)
                    .map_err(|e| Failure::new(Exit::Config, e.to_string()))?,
            )
        } else {
            None
        };
        http::check_route_table()?;
        let listener = bind(&config.addr)?;
        let addr = listener.local_addr()?;
        let registry = Arc::new(open_registry(&config)?);
        let data_dir = std::path::absolute(&config.data_dir)?;
        if !config.multi_tenant {
            registry.create(&TenantId::default_tenant())?;
        }
        let timeouts = ClientTimeouts::of(&config);
        let state = web::Data::new(AppState {
            metrics: Default::default(),
            config,
            engine: Arc::new(crate::Engine::with_registry(Arc::clone(&registry))),
            verifier,
        });
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
            addr,
            data_dir,
            server,
            registry,
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The address the server listens on (the port chosen when `--addr` asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The data folder, absolute.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn registry(&self) -> Arc<Registry> {
        Arc::clone(&self.registry)
    }

    /// Runs until SIGINT/SIGTERM, then drains in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
