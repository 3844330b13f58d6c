//! Test harness: the real server on a free port with a temporary data folder, and a client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::{Arc, mpsc};

use ledgerlite::config::Config;
use ledgerlite::startup::Application;
use ledgerlite::store::Registry;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

/// HS256 secret used by multi-tenant test servers.
pub const SECRET: &str = "test-secret-0123456789abcdef0123456789";

pub struct TestApp {
    pub base: String,
    pub data_dir: PathBuf,
    pub config: Config,
    pub client: reqwest::Client,
    /// Bearer token sent with every request made through [`TestApp::call`], if any.
    pub token: Option<String>,
    /// The server's tenant registry, for tests that reach behind the API (fault injection).
    pub registry: Arc<Registry>,
    _dir: tempfile::TempDir,
}

/// A single-tenant server with default settings.
/// What a balance (its JSON) holds, signed so that every transaction conserves the sum over an
/// asset's balances: `available + onHold` of a credit-direction balance, `onHold − available`
/// of a debit-direction one (every `@external/…` balance since Midaz v3.8).
pub fn position(balance: &Value) -> rust_decimal::Decimal {
    let amount = |field: &str| -> rust_decimal::Decimal {
        balance[field]
            .as_str()
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("{field} of {balance}"))
    };
    match balance["direction"].as_str() {
        Some("credit") => amount("available") + amount("onHold"),
        Some("debit") => amount("onHold") - amount("available"),
        other => panic!("direction {other:?} of {balance}"),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A multi-tenant server (HS256 with [`SECRET`]); tune further with `tune`.
pub async fn spawn_multi_tenant(tune: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with(|config| {
        config.multi_tenant = true;
        config.jwt_secret = Some(SECRET.to_owned());
        tune(config);
    })
    .await
}

/// A server whose configuration `tune` may change before it starts.
pub async fn spawn_app_with(tune: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::with_data_dir(dir.path().join("data"));
    config.addr = "127.0.0.1:0".to_owned();
    tune(&mut config);
    let (port_tx, port_rx) = mpsc::channel();
    let server_config = config.clone();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match Application::build(server_config) {
                Ok(app) => {
                    let _ = port_tx.send(Ok((app.port(), app.registry())));
                    let _ = app.run_until_stopped().await;
                }
                Err(error) => {
                    let _ = port_tx.send(Err(error.to_string()));
                }
            }
        });
    });
    let (port, registry) = port_rx
        .recv()
        .expect("server thread")
        .expect("server starts");
    TestApp {
        base: format!("http://127.0.0.1:{port}"),
        data_dir: config.data_dir.clone(),
        config,
        client: reqwest::Client::new(),
        token: None,
        registry,
        _dir: dir,
    }
}

/// A token for `tenant` signed with [`SECRET`], valid for an hour, with extra `claims`.
pub fn token_for(tenant: &str, claims: Value) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let mut body = json!({"tenantId": tenant, "exp": now + 3600, "iat": now});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), claims.as_object()) {
        for (k, v) in extra {
            body.insert(k.clone(), v.clone());
        }
    }
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &body,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("sign")
}

/// A response read whole: status, headers and JSON body (`Value::Null` when empty or not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub async fn from(response: Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            body,
        }
    }

    /// The Midaz error code of an error body.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

impl TestApp {
    /// This app with `token` sent as Bearer on every call.
    pub fn with_token(&self, token: String) -> Self {
        Self {
            base: self.base.clone(),
            data_dir: self.data_dir.clone(),
            config: self.config.clone(),
            client: self.client.clone(),
            token: Some(token),
            registry: Arc::clone(&self.registry),
            _dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Reply::from(request.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, None).await
    }

    pub async fn head(&self, path: &str) -> Reply {
        self.call(Method::HEAD, path, None).await
    }

    /// Creates an organization and returns its id.
    pub async fn organization(&self) -> String {
        let reply = self
            .post("/v1/organizations", json!({"legalName": "Acme Ltd", "legalDocument": "123", "address": {"country": "US"}}))
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body["id"].as_str().expect("id").to_owned()
    }

    /// Creates an organization and a ledger; returns `/v1/organizations/{org}/ledgers/{ledger}`.
    pub async fn ledger(&self) -> String {
        let org = self.organization().await;
        let reply = self
            .post(
                &format!("/v1/organizations/{org}/ledgers"),
                json!({"name": "Main"}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        format!(
            "/v1/organizations/{org}/ledgers/{}",
            reply.body["id"].as_str().expect("id")
        )
    }

    /// Creates a currency asset `code` in the ledger at `ledger` (a path from [`TestApp::ledger`]).
    pub async fn asset(&self, ledger: &str, code: &str) -> Value {
        let reply = self
            .post(
                &format!("{ledger}/assets"),
                json!({"name": code, "type": "currency", "code": code}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body
    }

    /// Creates a deposit account with `alias` in `asset`.
    pub async fn account(&self, ledger: &str, alias: &str, asset: &str) -> Value {
        let reply = self
            .post(
                &format!("{ledger}/accounts"),
                json!({"alias": alias, "assetCode": asset, "type": "deposit"}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body
    }

    /// A new ledger with the USD asset and the deposit accounts `payer` and `payee`, `payer`
    /// funded with 100 USD by an inflow; returns the ledger path.
    pub async fn funded_ledger(&self, payer: &str, payee: &str) -> String {
        let ledger = self.ledger().await;
        self.asset(&ledger, "USD").await;
        self.account(&ledger, payer, "USD").await;
        self.account(&ledger, payee, "USD").await;
        let inflow = self
            .post(
                &format!("{ledger}/transactions/inflow"),
                transfer(None, payer, "100"),
            )
            .await;
        assert_eq!(inflow.status, 201, "{}", inflow.body);
        ledger
    }
}

/// The `/metrics` text of the server at `base`.
pub async fn metrics_text(base: &str) -> String {
    reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The real `ledgerlite` binary, serving a data folder on a free port.
pub struct Binary {
    pub child: std::process::Child,
    pub base: String,
}

/// Starts the release-under-test binary on `data_dir` (single tenant, `synchronous=FULL`) and
/// waits until `/health` answers.
pub async fn start_binary(data_dir: &std::path::Path) -> Binary {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // `serve` spelled out here; `.ci/run` starts the binary without a command (the default).
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ledgerlite"))
        .arg("serve")
        .env("LEDGERLITE_DATA_DIR", data_dir)
        .env("LEDGERLITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEDGERLITE_SYNC", "full")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if reqwest::get(format!("{base}/health"))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return Binary { child, base };
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("server did not start");
}

/// A proptest runner configuration that is reproducible by default: `cases` and a fixed
/// `seed` unless `PROPTEST_CASES` / `PROPTEST_RNG_SEED` say otherwise, failing cases saved in
/// (and replayed first from) `regressions`, relative to the package root.
pub fn seeded_config(
    cases: u32,
    seed: u64,
    shrink_iterations_max: u32,
    regressions: &'static str,
) -> proptest::test_runner::Config {
    use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};
    let from_env = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            from_env.cases
        } else {
            cases
        },
        rng_seed: match from_env.rng_seed {
            RngSeed::Random => RngSeed::Fixed(seed),
            fixed => fixed,
        },
        max_shrink_iters: shrink_iterations_max,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..from_env
    }
}

/// `SELECT count(*)` of `table` in the SQLite file at `db`, opened read-only.
pub fn count(db: &std::path::Path, table: &str) -> i64 {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
        row.get(0)
    })
    .unwrap()
}

/// Asserts that a JSON-lines tenant export (`{"type": …, "data": {…}}` per line) holds exactly
/// as many rows of each kind as the tenant file `db` holds in the matching table, for every
/// table of its schema but those excluded from exports on purpose, and nothing else; returns
/// the rows of each kind.
pub fn assert_export_matches(
    export: &str,
    db: &std::path::Path,
) -> std::collections::HashMap<String, i64> {
    let mut kinds: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    for line in export.lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        assert!(row["data"].is_object(), "{line}");
        *kinds
            .entry(row["type"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let mut expected = std::collections::HashMap::new();
    for table in tables(db) {
        let excluded = ledgerlite::store::export::EXPORT_EXCLUDED
            .iter()
            .any(|(name, _)| *name == table);
        let kind = match table.as_str() {
            "ledger_transaction" => "transaction".to_owned(),
            _ => table.clone(),
        };
        let rows = count(db, &table);
        if !excluded && rows > 0 {
            expected.insert(kind, rows);
        }
    }
    assert_eq!(
        kinds,
        expected,
        "rows per type of the export and of {}",
        db.display()
    );
    kinds
}

/// Edits the available amount of the balance of `alias` straight in the tenant file, behind
/// the server's back, as a tamper for the audit to find; returns the balance id.
pub fn tamper_balance(conn: &rusqlite::Connection, alias: &str, available: &str) -> String {
    let balance: String = conn
        .query_row("SELECT id FROM balance WHERE alias = ?", [alias], |r| {
            r.get(0)
        })
        .unwrap();
    conn.execute(
        "UPDATE balance SET available = ? WHERE id = ?",
        [available, &balance],
    )
    .unwrap();
    balance
}

/// A `/transactions/json` body moving `value` USD from `from` to `to`; without `from`, the
/// `/transactions/inflow` body crediting `to` from the outside.
pub fn transfer(from: Option<&str>, to: &str, value: &str) -> Value {
    let mut send = json!({"asset": "USD", "value": value,
        "distribute": {"to": [{"accountAlias": to, "amount": {"asset": "USD", "value": value}}]}});
    if let Some(from) = from {
        send["source"] =
            json!({"from": [{"accountAlias": from, "amount": {"asset": "USD", "value": value}}]});
    }
    json!({ "send": send })
}

/// Fills the tenant served at `base` (with `token`, if any) through the API with every kind
/// of row the schema holds: an organization, a ledger, an asset, a portfolio, a segment, an
/// account type, accounts (one in the portfolio and segment, one with an additional balance),
/// a unique metadata index, an asset rate, and transactions: an inflow (sent with an
/// idempotency key), a committed transfer that is then reverted, a pending transfer committed
/// and one cancelled. Returns the ledger's path.
pub async fn fill_every_kind(base: &str, token: Option<&str>) -> String {
    let client = reqwest::Client::new();
    let send = async |method: Method, path: &str, body: Value| -> Value {
        let mut request = client.request(method, format!("{base}{path}")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let reply = Reply::from(request.send().await.unwrap()).await;
        assert!(reply.status.is_success(), "{path}: {}", reply.body);
        reply.body
    };
    let org = send(
        Method::POST,
        "/v1/organizations",
        json!({"legalName": "Acme", "legalDocument": "1"}),
    )
    .await;
    let org = org["id"].as_str().unwrap();
    let ledger = send(
        Method::POST,
        &format!("/v1/organizations/{org}/ledgers"),
        json!({"name": "L"}),
    )
    .await;
    let ledger = format!(
        "/v1/organizations/{org}/ledgers/{}",
        ledger["id"].as_str().unwrap()
    );
    let at = |rest: &str| format!("{ledger}{rest}");
    let asset = json!({"name": "Dollar", "type": "currency", "code": "USD"});
    send(Method::POST, &at("/assets"), asset).await;
    let portfolio = send(Method::POST, &at("/portfolios"), json!({"name": "P"})).await;
    let segment = send(Method::POST, &at("/segments"), json!({"name": "S"})).await;
    let account_type = json!({"name": "Deposit", "keyValue": "deposit"});
    send(Method::POST, &at("/account-types"), account_type).await;
    let a = json!({"alias": "@a", "assetCode": "USD", "type": "deposit",
        "portfolioId": portfolio["id"], "segmentId": segment["id"]});
    let a = send(Method::POST, &at("/accounts"), a).await;
    let b = json!({"alias": "@b", "assetCode": "USD", "type": "deposit"});
    send(Method::POST, &at("/accounts"), b).await;
    let balance = format!("/accounts/{}/balances", a["id"].as_str().unwrap());
    send(Method::POST, &at(&balance), json!({"key": "savings"})).await;
    let index = json!({"metadataKey": "tier", "unique": true});
    let indexes = "/v1/settings/metadata-indexes/entities/account";
    send(Method::POST, indexes, index).await;
    let rate = json!({"from": "USD", "to": "BRL", "rate": 5.25, "scale": 2, "ttl": 3600});
    send(Method::PUT, &at("/asset-rates"), rate).await;
    let mut route_ids = Vec::new();
    for side in ["source", "destination"] {
        let route = json!({"title": side, "operationType": side});
        route_ids.push(send(Method::POST, &at("/operation-routes"), route).await["id"].clone());
    }
    let route = json!({"title": "Transfer", "operationRoutes": route_ids});
    send(Method::POST, &at("/transaction-routes"), route).await;
    let mut inflow = client
        .post(format!("{base}{}", at("/transactions/inflow")))
        .header("X-Idempotency", "fill-inflow")
        .json(&transfer(None, "@a", "100"));
    if let Some(token) = token {
        inflow = inflow.bearer_auth(token);
    }
    assert_eq!(inflow.send().await.unwrap().status(), 201);
    let json_path = at("/transactions/json");
    let moved = send(Method::POST, &json_path, transfer(Some("@a"), "@b", "30")).await;
    let revert = format!("/transactions/{}/revert", moved["id"].as_str().unwrap());
    send(Method::POST, &at(&revert), json!({})).await;
    for (value, then) in [("10", "commit"), ("5", "cancel")] {
        let mut body = transfer(Some("@a"), "@b", value);
        body["pending"] = json!(true);
        let pending = send(Method::POST, &json_path, body).await;
        let id = pending["id"].as_str().unwrap();
        send(
            Method::POST,
            &at(&format!("/transactions/{id}/{then}")),
            json!({}),
        )
        .await;
    }
    ledger
}

/// The tables of the tenant file `db` (but SQLite's own).
fn tables(db: &std::path::Path) -> Vec<String> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// The tables of the tenant file `db` that hold no row: after [`fill_every_kind`], none.
pub fn empty_tables(db: &std::path::Path) -> Vec<String> {
    let mut empty = tables(db);
    empty.retain(|table| count(db, table) == 0);
    empty
}
