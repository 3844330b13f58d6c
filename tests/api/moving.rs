//! Moving a tenant between nodes (#16): freezing it (writes 503 `TENANT_READ_ONLY` with
//! `Retry-After`, reads served), marking it moved (421 `TENANT_MOVED` with the new node's
//! URL), undoing both, from the admin API and the command line; and that a write already on
//! its way when the freeze lands never commits after the freeze returned.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use serde_json::{Value, json};

use crate::cli::{cli, ok};
use crate::common::{TestApp, count, spawn_multi_tenant, token_for, transfer};
use ledgerlite::domain::tenant::TenantId;
use ledgerlite::error::Kind;
use ledgerlite::store::Missing;

/// The admin credential of the test servers.
const ADMIN: &str = "admin-token-0123456789abcdef";

/// A multi-tenant server with the admin API and tenants acme and beta; (acme's client, the
/// admin's client, the server, which must outlive them: it owns the data folder).
async fn acme() -> (TestApp, TestApp, TestApp) {
    let app = spawn_multi_tenant(|config| config.admin_token = Some(ADMIN.to_owned())).await;
    let admin = app.with_token(ADMIN.to_owned());
    for id in ["acme", "beta"] {
        let created = admin.post("/admin/v1/tenants", json!({"id": id})).await;
        assert_eq!(created.status, 201, "{}", created.body);
    }
    let tenant = app.with_token(token_for("acme", json!({})));
    (tenant, admin, app)
}

/// Pays `value` from @a to @b, under a description of its own (the same body twice would
/// be an idempotent replay).
async fn pay(tenant: &TestApp, ledger: &str, value: &str) -> crate::common::Reply {
    static PAID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut body = transfer(Some("@a"), "@b", value);
    let n = PAID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    body["description"] = format!("pay {n}").into();
    tenant
        .post(&format!("{ledger}/transactions/json"), body)
        .await
}

/// `available` of every balance of the ledger, by alias, as the API reads them.
async fn balances(tenant: &TestApp, ledger: &str) -> Value {
    let reply = tenant.get(&format!("{ledger}/balances")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let mut by_alias = serde_json::Map::new();
    for item in reply.body["items"].as_array().unwrap() {
        by_alias.insert(
            item["alias"].as_str().unwrap().to_owned(),
            item["available"].clone(),
        );
    }
    Value::Object(by_alias)
}

fn transactions(app: &TestApp, tenant: &str) -> i64 {
    count(
        &app.data_dir.join(format!("tenants/{tenant}.sqlite")),
        "ledger_transaction",
    )
}

#[tokio::test]
async fn a_frozen_tenant_refuses_writes_with_retry_after_and_serves_reads() {
    let (tenant, admin, _app) = acme().await;
    let ledger = tenant.funded_ledger("@a", "@b").await;
    let beta = tenant.with_token(token_for("beta", json!({})));
    let beta_ledger = beta.funded_ledger("@a", "@b").await;

    let frozen = admin.post("/admin/v1/tenants/acme/freeze", json!({})).await;
    assert_eq!(frozen.status, 200, "{}", frozen.body);
    assert_eq!(frozen.body, json!({"id": "acme", "status": "read-only"}));
    assert!(tenant.data_dir.join("tenants/acme.read-only").is_file());
    let before = (
        transactions(&tenant, "acme"),
        balances(&tenant, &ledger).await,
    );

    let refused = pay(&tenant, &ledger, "10").await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.code(), "TENANT_READ_ONLY");
    assert_eq!(refused.header("retry-after").as_deref(), Some("5"));
    let organization = tenant
        .post(
            "/v1/organizations",
            json!({"legalName": "Late", "legalDocument": "1"}),
        )
        .await;
    assert_eq!(organization.status, 503);
    assert_eq!(organization.code(), "TENANT_READ_ONLY");
    // Reads are served, and the refused writes changed nothing.
    assert_eq!(
        (
            transactions(&tenant, "acme"),
            balances(&tenant, &ledger).await
        ),
        before
    );
    assert_eq!(
        before.1,
        json!({"@external/USD": "100", "@a": "100", "@b": "0"})
    );
    assert_eq!(
        tenant.get("/v1/organizations").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        admin.get("/admin/v1/tenants").await.body["items"],
        json!([{"id": "acme", "status": "read-only"}, {"id": "beta", "status": "active"}])
    );
    // Another tenant writes on.
    assert_eq!(pay(&beta, &beta_ledger, "1").await.status, 201);

    let unfrozen = admin
        .post("/admin/v1/tenants/acme/unfreeze", json!({}))
        .await;
    assert_eq!(unfrozen.body, json!({"id": "acme", "status": "active"}));
    assert!(!tenant.data_dir.join("tenants/acme.read-only").exists());
    assert_eq!(pay(&tenant, &ledger, "10").await.status, 201);
    assert_eq!(transactions(&tenant, "acme"), before.0 + 1);

    for action in ["freeze", "unfreeze", "move", "unmove"] {
        let unknown = admin
            .post(&format!("/admin/v1/tenants/ghost/{action}"), json!({}))
            .await;
        assert_eq!(unknown.status, 404, "{action}");
        assert_eq!(unknown.code(), "TENANT_NOT_FOUND");
    }
    assert!(!tenant.data_dir.join("tenants/ghost.read-only").exists());
    assert!(!tenant.data_dir.join("tenants/ghost.moved").exists());
}

#[tokio::test]
async fn a_moved_tenant_answers_421_with_the_new_node_until_it_is_unmoved() {
    let (tenant, admin, _app) = acme().await;
    let ledger = tenant.funded_ledger("@a", "@b").await;
    let before = transactions(&tenant, "acme");

    let bad = admin
        .post("/admin/v1/tenants/acme/move?to=ftp://node-b", json!({}))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(bad.code(), "0047");
    assert!(!tenant.data_dir.join("tenants/acme.moved").exists());
    assert!(!tenant.data_dir.join("tenants/acme.read-only").exists());

    let moved = admin
        .post(
            "/admin/v1/tenants/acme/move?to=https://node-b.example:3002",
            json!({}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(
        moved.body,
        json!({"id": "acme", "status": "moved", "movedTo": "https://node-b.example:3002"})
    );
    for reply in [
        tenant.get("/v1/organizations").await,
        tenant.get(&format!("{ledger}/balances")).await,
        pay(&tenant, &ledger, "10").await,
    ] {
        assert_eq!(reply.status, 421, "{}", reply.body);
        assert_eq!(reply.code(), "TENANT_MOVED");
        assert_eq!(reply.body["location"], "https://node-b.example:3002");
        assert_eq!(
            reply.header("location").as_deref(),
            Some("https://node-b.example:3002")
        );
    }
    assert_eq!(transactions(&tenant, "acme"), before);

    // Un-moving (an operator's mistake) leaves it frozen: reads again, writes still refused.
    let unmoved = admin.post("/admin/v1/tenants/acme/unmove", json!({})).await;
    assert_eq!(unmoved.body, json!({"id": "acme", "status": "read-only"}));
    assert_eq!(tenant.get(&format!("{ledger}/balances")).await.status, 200);
    assert_eq!(pay(&tenant, &ledger, "10").await.code(), "TENANT_READ_ONLY");
    admin
        .post("/admin/v1/tenants/acme/unfreeze", json!({}))
        .await;
    assert_eq!(pay(&tenant, &ledger, "10").await.status, 201);

    // Without a URL: the code alone, no Location.
    let moved = admin.post("/admin/v1/tenants/acme/move", json!({})).await;
    assert_eq!(moved.body, json!({"id": "acme", "status": "moved"}));
    let reply = tenant.get("/v1/organizations").await;
    assert_eq!(reply.status, 421);
    assert_eq!(reply.code(), "TENANT_MOVED");
    assert_eq!(reply.header("location"), None);
    assert_eq!(reply.body.get("location"), None);
    assert_eq!(transactions(&tenant, "acme"), before + 1);
}

/// A write that passed the request's check before the freeze (it holds the open tenant and
/// its writer) reaches the writer after the freeze returned: the writer refuses it, so
/// nothing commits once the freeze has answered.
#[tokio::test]
async fn a_write_on_its_way_when_the_freeze_lands_is_refused_by_the_writer() {
    let (tenant, admin, _app) = acme().await;
    let ledger = tenant.funded_ledger("@a", "@b").await;
    let before = transactions(&tenant, "acme");
    let registry = std::sync::Arc::clone(&tenant.registry);
    let id = TenantId::parse("acme").unwrap();
    let open = registry.open(&id, Missing::Fail).unwrap();

    let frozen = admin.post("/admin/v1/tenants/acme/freeze", json!({})).await;
    assert_eq!(frozen.status, 200);
    let late = tokio::task::spawn_blocking(move || {
        open.writer()
            .write_blocking(|conn| Ok(conn.execute_batch("CREATE TABLE late_probe (v INTEGER)")?))
    })
    .await
    .unwrap();
    assert_eq!(late.map_err(|e| e.kind), Err(Kind::TenantReadOnly));
    let file = tenant.data_dir.join("tenants/acme.sqlite");
    let probes: i64 = rusqlite::Connection::open(file)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'late_probe'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(probes, 0, "the late write did not commit");
    assert_eq!(transactions(&tenant, "acme"), before);
    assert_eq!(
        balances(&tenant, &ledger).await,
        json!({"@external/USD": "100", "@a": "100", "@b": "0"})
    );
}

/// Clients write as fast as they can while the tenant is frozen: every write answered 201
/// committed, every other one was refused with `TENANT_READ_ONLY`, and nothing committed after
/// the freeze answered.
#[tokio::test]
async fn writes_racing_the_freeze_either_commit_before_it_answers_or_are_refused() {
    let (tenant, admin, _app) = acme().await;
    let ledger = tenant.funded_ledger("@a", "@b").await;
    let before = transactions(&tenant, "acme");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let (tenant, ledger, stop) = (
                tenant.with_token(tenant.token.clone().unwrap()),
                ledger.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let (mut acknowledged, mut refused) = (0, 0);
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let reply = pay(&tenant, &ledger, "0.01").await;
                    match reply.status.as_u16() {
                        201 => acknowledged += 1,
                        503 => {
                            assert_eq!(reply.code(), "TENANT_READ_ONLY");
                            refused += 1;
                        }
                        other => panic!("{other}: {}", reply.body),
                    }
                }
                (acknowledged, refused)
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let frozen = admin.post("/admin/v1/tenants/acme/freeze", json!({})).await;
    assert_eq!(frozen.status, 200);
    let at_freeze = transactions(&tenant, "acme");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut acknowledged, mut refused) = (0, 0);
    for writer in writers {
        let (a, r) = writer.await.unwrap();
        acknowledged += a;
        refused += r;
    }
    assert!(
        acknowledged > 0 && refused > 0,
        "{acknowledged} acknowledged, {refused} refused"
    );
    assert_eq!(
        transactions(&tenant, "acme"),
        at_freeze,
        "nothing committed after the freeze"
    );
    assert_eq!(at_freeze, before + acknowledged);
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn list(data: &Path) -> String {
    stdout(&ok(data, &["tenant", "list"]))
}

#[test]
fn the_cli_freezes_moves_and_undoes_both() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(&data, &["tenant", "create", "acme"]);
    ok(&data, &["tenant", "create", "beta"]);
    assert_eq!(
        stdout(&ok(&data, &["tenant", "freeze", "acme"])),
        "froze acme (read-only)\n"
    );
    assert_eq!(list(&data), "acme read-only\nbeta\n");
    assert_eq!(
        stdout(&ok(
            &data,
            &["tenant", "move", "acme", "--to", "http://10.0.0.2:3002"]
        )),
        "moved acme to http://10.0.0.2:3002 (moved)\n"
    );
    assert_eq!(list(&data), "acme moved http://10.0.0.2:3002\nbeta\n");
    let refused = cli(&data, &["tenant", "move", "beta", "--to", "node-b"]);
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(list(&data), "acme moved http://10.0.0.2:3002\nbeta\n");
    assert_eq!(
        stdout(&ok(&data, &["tenant", "unmove", "acme"])),
        "unmoved acme (read-only)\n"
    );
    assert_eq!(
        stdout(&ok(&data, &["tenant", "unfreeze", "acme"])),
        "unfroze acme (active)\n"
    );
    assert_eq!(list(&data), "acme\nbeta\n");
    let missing = cli(&data, &["tenant", "freeze", "ghost"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(!data.join("tenants/ghost.read-only").exists());
    // Deleting a tenant removes its markers with it, but a moved tenant's `.moved`: that one
    // goes with `unmove`.
    ok(&data, &["tenant", "freeze", "beta"]);
    ok(&data, &["tenant", "delete", "beta", "--yes"]);
    assert!(left_of(&data, "beta").is_empty());
    ok(
        &data,
        &["tenant", "move", "acme", "--to", "http://10.0.0.2:3002"],
    );
    let out = ok(&data, &["tenant", "delete", "acme", "--yes"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "acme.moved: requests for acme are still answered 421 TENANT_MOVED; `tenant unmove \
             acme` removes it"
        ),
        "{out:?}"
    );
    assert_eq!(left_of(&data, "acme"), ["acme.moved"]);
    assert_eq!(list(&data), "");
    assert_eq!(
        stdout(&ok(&data, &["tenant", "unmove", "acme"])),
        "unmoved acme (active)\n"
    );
    assert!(left_of(&data, "acme").is_empty());
    let missing = cli(&data, &["tenant", "unmove", "acme"]);
    assert_eq!(missing.status.code(), Some(1));
}

/// The files of the tenants folder whose names start with `id`, sorted.
fn left_of(data: &Path, id: &str) -> Vec<String> {
    let mut left: Vec<String> = std::fs::read_dir(data.join("tenants"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(id))
        .collect();
    left.sort();
    left
}

/// Leaves a commit in the tenant's write-ahead log, as a server replicated by Litestream does
/// (it never checkpoints): the log is not empty afterwards.
fn leave_a_commit_in_the_wal(data: &Path, id: &str) {
    let conn = rusqlite::Connection::open(data.join(format!("tenants/{id}.sqlite"))).unwrap();
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )
    .unwrap();
    conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    conn.execute_batch("CREATE TABLE wal_probe (v INTEGER)")
        .unwrap();
    drop(conn);
    let wal = std::fs::metadata(data.join(format!("tenants/{id}.sqlite-wal"))).unwrap();
    assert!(wal.len() > 0);
}

/// A tenant in use keeps its write-ahead log, and so does one replicated by Litestream: a
/// non-empty log refuses its deletion. A moved tenant's log does not (no server writes it,
/// and Litestream would never let it empty): it can be deleted, its `.moved` marker kept.
#[test]
fn a_moved_tenant_with_a_wal_can_be_deleted_and_keeps_its_marker() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(&data, &["tenant", "create", "acme"]);
    ok(&data, &["tenant", "create", "beta"]);
    for id in ["acme", "beta"] {
        leave_a_commit_in_the_wal(&data, id);
    }
    ok(&data, &["tenant", "freeze", "beta"]);
    let refused = cli(&data, &["tenant", "delete", "beta", "--yes"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("looks live: beta.sqlite-wal"),
        "{refused:?}"
    );
    assert_eq!(
        left_of(&data, "beta"),
        [
            "beta.read-only",
            "beta.sqlite",
            "beta.sqlite-shm",
            "beta.sqlite-wal"
        ]
    );

    ok(
        &data,
        &["tenant", "move", "acme", "--to", "http://10.0.0.2:3002"],
    );
    ok(&data, &["tenant", "delete", "acme", "--yes"]);
    assert_eq!(left_of(&data, "acme"), ["acme.moved"]);
    assert_eq!(
        std::fs::read_to_string(data.join("tenants/acme.moved")).unwrap(),
        "http://10.0.0.2:3002"
    );
}

/// The runbook deletes the old node's copy after a move: its requests are still answered 421
/// `TENANT_MOVED` with the new node's URL, as long as the `.moved` marker is there; `unmove`
/// then removes the marker and the tenant is unknown.
#[tokio::test]
async fn a_moved_tenant_answers_421_after_its_file_is_deleted() {
    let (tenant, admin, _app) = acme().await;
    let ledger = tenant.funded_ledger("@a", "@b").await;
    let moved = admin
        .post(
            "/admin/v1/tenants/acme/move?to=https://node-b.example:3002",
            json!({}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let deleted = admin.delete("/admin/v1/tenants/acme?yes=true").await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(left_of(&tenant.data_dir, "acme"), ["acme.moved"]);

    for reply in [
        tenant.get("/v1/organizations").await,
        tenant.get(&format!("{ledger}/balances")).await,
        pay(&tenant, &ledger, "10").await,
    ] {
        assert_eq!(reply.status, 421, "{}", reply.body);
        assert_eq!(reply.code(), "TENANT_MOVED");
        assert_eq!(reply.body["location"], "https://node-b.example:3002");
        assert_eq!(
            reply.header("location").as_deref(),
            Some("https://node-b.example:3002")
        );
    }
    // Nothing was created by those requests.
    assert_eq!(left_of(&tenant.data_dir, "acme"), ["acme.moved"]);
    assert_eq!(
        admin.get("/admin/v1/tenants").await.body["items"],
        json!([{"id": "beta", "status": "active"}])
    );
    let frozen = admin.post("/admin/v1/tenants/acme/freeze", json!({})).await;
    assert_eq!(frozen.status, 404, "{}", frozen.body);
    assert_eq!(left_of(&tenant.data_dir, "acme"), ["acme.moved"]);

    let unmoved = admin.post("/admin/v1/tenants/acme/unmove", json!({})).await;
    assert_eq!(unmoved.status, 200, "{}", unmoved.body);
    assert!(left_of(&tenant.data_dir, "acme").is_empty());
    let unknown = tenant.get("/v1/organizations").await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert_eq!(unknown.code(), "TENANT_NOT_FOUND");
    assert!(left_of(&tenant.data_dir, "acme").is_empty());
}

/// A `ledgerlite serve` process (single tenant `default`, the admin API on, Litestream owning
/// the checkpoints, `LEDGERLITE_REPLICA` set); killed when dropped.
struct Node {
    child: std::process::Child,
    base: String,
    data: std::path::PathBuf,
}

impl Node {
    async fn start(data: &Path, replica_url: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_ledgerlite"))
            .arg("serve")
            .env("LEDGERLITE_DATA_DIR", data)
            .env("LEDGERLITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEDGERLITE_ADMIN_TOKEN", ADMIN)
            .env("LEDGERLITE_REPLICATION", "litestream")
            .env("LEDGERLITE_REPLICA", replica_url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let node = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            data: data.to_path_buf(),
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while reqwest::get(format!("{}/health", node.base))
            .await
            .map_or(true, |r| r.status() != 200)
        {
            assert!(std::time::Instant::now() < deadline, "node did not start");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        node
    }

    async fn admin(&self, method: reqwest::Method, path: &str) -> Value {
        let reply = reqwest::Client::new()
            .request(
                method,
                format!("{}/admin/v1/tenants/default{path}", self.base),
            )
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200, "{path}");
        reply.json().await.unwrap()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Posts `body` to `base` + `path`; (status, body).
async fn post(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    body: Value,
) -> (u16, Value, Option<String>) {
    let reply = client
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    let location = reply
        .headers()
        .get("location")
        .map(|value| value.to_str().unwrap().to_owned());
    (status, reply.json().await.unwrap_or(Value::Null), location)
}

/// Longest the replica may take to catch up with a frozen tenant, in milliseconds.
const CATCH_UP_WAIT_MS: u64 = 20_000;
/// How long the client writes before the freeze, and again once it follows the tenant to
/// node B, in milliseconds.
const WRITING_MS: u64 = 1_500;

/// The move of #16, with real processes: a client writes to tenant `default` continuously
/// while it moves from node A to node B (A frozen, its positions polled until the replica
/// holds them, restored on B from the replica with `tenant restore --from-replica`, A marked
/// moved to B's URL, which the client follows). Every transfer acknowledged is on B exactly
/// once, every refusal was 503 TENANT_READ_ONLY (with Retry-After) or 421 TENANT_MOVED, and B
/// verifies.
#[tokio::test]
async fn a_tenant_moves_between_nodes_under_writes_without_losing_an_acknowledged_one() {
    if !crate::replication::litestream_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let replica_url = format!("file://{}", dir.path().join("replica").display());
    let node_a = Node::start(&dir.path().join("a"), &replica_url).await;
    let _litestream = crate::replication::Litestream::start(&node_a.data, &replica_url);
    let node_b_data = dir.path().join("b");
    let client = reqwest::Client::new();

    let ledger = funded_ledger_on(&client, &node_a.base).await;

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = spawn_following_writer(&client, &node_a.base, &ledger, &stop);

    tokio::time::sleep(std::time::Duration::from_millis(WRITING_MS)).await;
    let freezing = std::time::Instant::now();
    let frozen = node_a.admin(reqwest::Method::POST, "/freeze").await;
    let froze_in = freezing.elapsed();
    assert_eq!(frozen["status"], "read-only");
    let positions = wait_in_sync(&node_a).await;
    let in_sync_after = freezing.elapsed();
    assert_eq!(positions["localTxid"], positions["replicatedTxid"]);
    assert_eq!(positions["behindTxids"], 0);
    let metrics = crate::common::metrics_text(&node_a.base).await;
    for line in [
        "ledgerlite_replication_configured 1\n",
        "ledgerlite_replication_tenants_behind 0\n",
        "ledgerlite_replication_lag_seconds 0\n",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    let out = ok(
        &node_b_data,
        &[
            "tenant",
            "restore",
            "default",
            "--from-replica",
            &replica_url,
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "restored default from the replica at the newest position ({} chain entries)\n",
            {
                let conn = rusqlite::Connection::open_with_flags(
                    node_a.data.join("tenants/default.sqlite"),
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .unwrap();
                conn.query_row("SELECT count(*) FROM chain", [], |r| r.get::<_, i64>(0))
                    .unwrap()
            }
        )
    );
    // B serves the tenant only once it is restored (a single-tenant node would create an
    // empty one at start).
    let node_b = Node::start(&node_b_data, &replica_url).await;
    let moved = node_a
        .admin(reqwest::Method::POST, &format!("/move?to={}", node_b.base))
        .await;
    assert_eq!(moved["status"], "moved");
    tokio::time::sleep(std::time::Duration::from_millis(WRITING_MS)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (acknowledged, read_only, moved) = writer.await.unwrap();

    let on_a = acknowledged
        .iter()
        .filter(|(_, base)| *base == node_a.base)
        .count();
    let on_b = acknowledged.len() - on_a;
    assert!(
        on_a > 0 && on_b > 0 && read_only > 0 && moved > 0,
        "{on_a} on A, {on_b} on B, {read_only} read-only, {moved} moved"
    );
    // Every acknowledged transfer is on B exactly once, and nothing else is (but the inflow).
    let mut expected: Vec<String> = acknowledged.into_iter().map(|(id, _)| id).collect();
    expected.sort();
    assert_eq!(moved_transfers(&node_b.data), expected);
    assert_verifies(&node_b).await;
    eprintln!(
        "moved under load: {on_a} transfers on A, {on_b} on B, {read_only} refused read-only, \
         {moved} moved; the freeze answered in {froze_in:?}, in sync {in_sync_after:?} after it"
    );
}

fn metric_lines(metrics: &str) -> Vec<&str> {
    metrics
        .lines()
        .filter(|line| line.starts_with("ledgerlite_replication_"))
        .collect()
}

/// `/metrics` says whether replication is configured and, with Litestream, how many tenants
/// have commits their replica does not hold yet (here no Litestream runs, so the tenant's
/// commits are behind by the time since they were written), and `replication status` says
/// where the tenant is.
#[tokio::test]
async fn metrics_show_whether_replication_is_configured_and_how_far_behind_it_is() {
    let plain = crate::common::spawn_app().await;
    let metrics = crate::common::metrics_text(&plain.base).await;
    assert_eq!(
        metric_lines(&metrics),
        ["ledgerlite_replication_configured 0"]
    );

    let app = crate::common::spawn_app_with(|config| {
        config.replication = ledgerlite::store::files::Checkpoints::Litestream;
    })
    .await;
    // Its tenant was created at start: that commit is not replicated either.
    app.funded_ledger("@a", "@b").await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let metrics = crate::common::metrics_text(&app.base).await;
    let lines = metric_lines(&metrics);
    assert_eq!(
        lines[..2],
        [
            "ledgerlite_replication_configured 1",
            "ledgerlite_replication_tenants_behind 1"
        ]
    );
    let lag: f64 = lines[2]
        .strip_prefix("ledgerlite_replication_lag_seconds ")
        .unwrap()
        .parse()
        .unwrap();
    assert!((0.2..60.0).contains(&lag), "{lag}");

    let out = ok(&app.data_dir, &["replication", "status", "default"]);
    let said = stdout(&out);
    assert!(
        said.starts_with("tenant default\nwrites taken\nwal bytes "),
        "{said}"
    );
    assert!(
        said.ends_with("litestream txid - (not every commit read yet)\nlocal txid -\nreplicated txid -\nnot in sync\n"),
        "{said}"
    );
}

/// The acknowledged transfers (id, node), the 503 TENANT_READ_ONLY and the 421 TENANT_MOVED
/// answers a following writer met.
type Written = (Vec<(String, String)>, u32, u32);

/// Spawns the client of the move tests: it writes transfers of "move N" to the ledger until
/// `stop`, waits out 503 TENANT_READ_ONLY and follows every 421 TENANT_MOVED to its Location.
/// Returns the acknowledged transfers with the node that took each, and how many refusals of
/// each kind it met.
fn spawn_following_writer(
    client: &reqwest::Client,
    start: &str,
    ledger: &str,
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<Written> {
    let (client, stop, ledger, start) = (
        client.clone(),
        stop.clone(),
        ledger.to_owned(),
        start.to_owned(),
    );
    tokio::spawn(async move {
        let mut base = start;
        let (mut acknowledged, mut read_only, mut moved) = (Vec::new(), 0, 0);
        let mut n = 0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let mut body = transfer(Some("@a"), "@b", "0.01");
            body["description"] = format!("move {n}").into();
            n += 1;
            let (status, reply, location) =
                post(&client, &base, &format!("{ledger}/transactions/json"), body).await;
            match (status, reply["code"].as_str()) {
                (201, _) => {
                    acknowledged.push((reply["id"].as_str().unwrap().to_owned(), base.clone()))
                }
                (503, Some("TENANT_READ_ONLY")) => {
                    read_only += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                (421, Some("TENANT_MOVED")) => {
                    moved += 1;
                    let to = reply["location"].as_str().unwrap().to_owned();
                    assert_eq!(location.as_deref(), Some(to.as_str()));
                    base = to;
                }
                other => panic!("{other:?}: {reply}"),
            }
        }
        (acknowledged, read_only, moved)
    })
}

/// The ids of the client's "move N" transfers in tenant `default`'s file under `data`, sorted.
fn moved_transfers(data: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open_with_flags(
        data.join("tenants/default.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut ids: Vec<String> = conn
        .prepare("SELECT id FROM ledger_transaction WHERE description LIKE 'move %'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    ids.sort();
    ids
}

/// The node's admin verify of tenant `default` passes.
async fn assert_verifies(node: &Node) {
    let audit = reqwest::Client::new()
        .post(format!("{}/admin/v1/tenants/default/verify", node.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(audit["ok"], true, "{audit}");
}

/// Polls the node's positions of tenant `default` until its replica holds them; the positions.
async fn wait_in_sync(node: &Node) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(CATCH_UP_WAIT_MS);
    loop {
        let positions = node.admin(reqwest::Method::GET, "/replication").await;
        if positions["inSync"] == true {
            assert_eq!(positions["frozen"], true);
            return positions;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the replica did not catch up: {positions}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Polls the node's positions of tenant `default` until its replica holds them, frozen or
/// not (a node no client writes to any more).
async fn wait_replicated(node: &Node) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(CATCH_UP_WAIT_MS);
    loop {
        let positions = node.admin(reqwest::Method::GET, "/replication").await;
        if positions["inSync"] == true {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the replica did not catch up: {positions}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// A ledger on `base` with @a funded; its path.
async fn funded_ledger_on(client: &reqwest::Client, base: &str) -> String {
    let (_, org, _) = post(
        client,
        base,
        "/v1/organizations",
        json!({"legalName": "Acme Ltd", "legalDocument": "123", "address": {"country": "US"}}),
    )
    .await;
    let org = org["id"].as_str().unwrap().to_owned();
    let (_, ledger, _) = post(
        client,
        base,
        &format!("/v1/organizations/{org}/ledgers"),
        json!({"name": "Main"}),
    )
    .await;
    let ledger = format!(
        "/v1/organizations/{org}/ledgers/{}",
        ledger["id"].as_str().unwrap()
    );
    post(
        client,
        base,
        &format!("{ledger}/assets"),
        json!({"name": "USD", "type": "currency", "code": "USD"}),
    )
    .await;
    for alias in ["@a", "@b"] {
        post(
            client,
            base,
            &format!("{ledger}/accounts"),
            json!({"alias": alias, "assetCode": "USD", "type": "deposit"}),
        )
        .await;
    }
    let (status, _, _) = post(
        client,
        base,
        &format!("{ledger}/transactions/inflow"),
        transfer(None, "@a", "1000000"),
    )
    .await;
    assert_eq!(status, 201);
    ledger
}

/// The way back of the README's runbook, with real processes: tenant `default` moves from
/// node A to node B (each with its own Litestream and replica) and back to A while a client
/// writes without pause and follows every 421. On the way back B is frozen and in sync with
/// its replica, A's old copy is deleted through A's admin API (its `.moved` marker stays, so
/// A keeps sending clients to B), A restores the tenant from B's replica, A is unmoved and B
/// marked moved to A. Every transfer acknowledged on either node is on A exactly once at the
/// end, and A verifies.
#[tokio::test]
async fn a_moved_tenant_moves_back_without_losing_an_acknowledged_write() {
    if !crate::replication::litestream_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let replica_a = format!("file://{}", dir.path().join("replica-a").display());
    let replica_b = format!("file://{}", dir.path().join("replica-b").display());
    let node_a = Node::start(&dir.path().join("a"), &replica_a).await;
    let mut litestream_a = crate::replication::Litestream::start(&node_a.data, &replica_a);
    let client = reqwest::Client::new();
    let ledger = funded_ledger_on(&client, &node_a.base).await;

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = spawn_following_writer(&client, &node_a.base, &ledger, &stop);

    // There: A -> B.
    tokio::time::sleep(std::time::Duration::from_millis(WRITING_MS)).await;
    node_a.admin(reqwest::Method::POST, "/freeze").await;
    wait_in_sync(&node_a).await;
    let node_b_data = dir.path().join("b");
    ok(
        &node_b_data,
        &["tenant", "restore", "default", "--from-replica", &replica_a],
    );
    let node_b = Node::start(&node_b_data, &replica_b).await;
    let _litestream_b = crate::replication::Litestream::start(&node_b.data, &replica_b);
    node_a
        .admin(reqwest::Method::POST, &format!("/move?to={}", node_b.base))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(WRITING_MS)).await;

    // And back: B frozen and in sync with its own replica.
    let frozen = node_b.admin(reqwest::Method::POST, "/freeze").await;
    assert_eq!(frozen["status"], "read-only");
    wait_in_sync(&node_b).await;
    // A's Litestream keeps running throughout: the server never checkpoints the tenant it
    // closes, and Litestream follows the deleted file and then the restored one.
    // A's old copy goes through A's admin API (which closes it first); its marker stays.
    let deleted = reqwest::Client::new()
        .delete(format!("{}/admin/v1/tenants/default?yes=true", node_a.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204, "{:?}", deleted.text().await);
    assert_eq!(left_of(&node_a.data, "default"), ["default.moved"]);
    let (status, reply, location) = post(
        &client,
        &node_a.base,
        &format!("{ledger}/transactions/json"),
        transfer(Some("@a"), "@b", "0.01"),
    )
    .await;
    assert_eq!(
        (status, reply["code"].as_str()),
        (421, Some("TENANT_MOVED"))
    );
    assert_eq!(location.as_deref(), Some(node_b.base.as_str()));
    let out = ok(
        &node_a.data,
        &["tenant", "restore", "default", "--from-replica", &replica_b],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with("restored default from the replica at the newest position ("),
        "{out:?}"
    );
    let unmoved = node_a.admin(reqwest::Method::POST, "/unmove").await;
    assert_eq!(unmoved["status"], "active");
    node_b
        .admin(reqwest::Method::POST, &format!("/move?to={}", node_a.base))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(WRITING_MS)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (acknowledged, read_only, moved) = writer.await.unwrap();

    let on_b = acknowledged
        .iter()
        .filter(|(_, base)| *base == node_b.base)
        .count();
    let on_a = acknowledged.len() - on_b;
    let back_on_a = acknowledged
        .iter()
        .rev()
        .take_while(|(_, base)| *base == node_a.base)
        .count();
    assert!(
        on_b > 0 && back_on_a > 0 && on_a > back_on_a && read_only > 0 && moved >= 2,
        "{on_a} on A ({back_on_a} after the way back), {on_b} on B, {read_only} read-only, \
         {moved} moved"
    );
    // Every acknowledged transfer is on A exactly once, and nothing else is (but the inflow).
    let mut expected: Vec<String> = acknowledged.into_iter().map(|(id, _)| id).collect();
    expected.sort();
    assert_eq!(moved_transfers(&node_a.data), expected);
    assert_verifies(&node_a).await;
    // A's Litestream, never stopped, follows the file that came back: A's replica catches up
    // with A and restores with every acknowledged transfer.
    assert!(litestream_a.is_running());
    wait_replicated(&node_a).await;
    let node_c = dir.path().join("c");
    ok(
        &node_c,
        &["tenant", "restore", "default", "--from-replica", &replica_a],
    );
    assert_eq!(moved_transfers(&node_c), expected);
    eprintln!(
        "moved there and back under load: {on_a} transfers on A ({back_on_a} after the way \
         back), {on_b} on B, {read_only} refused read-only, {moved} moved"
    );
}

/// With Litestream running, the admin API deletes an active tenant at once: the server closes
/// it without checkpointing (Litestream's read transaction would hold a checkpoint up until
/// the delete gave up with 409), its non-empty write-ahead log does not refuse the deletion,
/// and Litestream lets go of the removed file, so that a file restored at the same place is
/// replicated again.
#[tokio::test]
async fn with_litestream_running_an_active_tenant_is_deleted_and_its_restored_file_replicated() {
    if !crate::replication::litestream_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let replica = format!("file://{}", dir.path().join("replica").display());
    let node = Node::start(&dir.path().join("a"), &replica).await;
    let mut litestream = crate::replication::Litestream::start(&node.data, &replica);
    let client = reqwest::Client::new();
    let ledger = funded_ledger_on(&client, &node.base).await;
    let path = format!("{ledger}/transactions/json");
    let pay = |n: usize| {
        let mut body = transfer(Some("@a"), "@b", "0.01");
        body["description"] = format!("move {n}").into();
        post(&client, &node.base, &path, body)
    };
    let mut paid = Vec::new();
    for n in 0..20 {
        let (status, reply, _) = pay(n).await;
        assert_eq!(status, 201, "{reply}");
        paid.push(reply["id"].as_str().unwrap().to_owned());
    }
    wait_replicated(&node).await;
    let wal = std::fs::metadata(node.data.join("tenants/default.sqlite-wal")).unwrap();
    assert!(wal.len() > 0);

    let started = std::time::Instant::now();
    let deleted = client
        .delete(format!("{}/admin/v1/tenants/default?yes=true", node.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204, "{:?}", deleted.text().await);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "the delete took {:?}",
        started.elapsed()
    );
    assert!(left_of(&node.data, "default").is_empty());

    ok(
        &node.data,
        &["tenant", "restore", "default", "--from-replica", &replica],
    );
    assert!(!node.data.join("tenants/default.sqlite-wal").exists());
    let (status, reply, _) = pay(20).await;
    assert_eq!(status, 201, "{reply}");
    paid.push(reply["id"].as_str().unwrap().to_owned());
    paid.sort();
    assert_eq!(moved_transfers(&node.data), paid);
    assert_verifies(&node).await;
    // Litestream, never restarted, replicates the restored file: the replica catches up and
    // holds the transfer written after the restore.
    assert!(litestream.is_running());
    wait_replicated(&node).await;
    let elsewhere = dir.path().join("b");
    ok(
        &elsewhere,
        &["tenant", "restore", "default", "--from-replica", &replica],
    );
    assert_eq!(moved_transfers(&elsewhere), paid);
}
