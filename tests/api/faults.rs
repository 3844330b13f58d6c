//! Resource faults: a tenant whose file cannot take writes (over its quota, disk full,
//! read-only, journal that cannot be created) answers writes with 503 `STORAGE_UNAVAILABLE`,
//! keeps serving its reads and every other tenant, acknowledges nothing it did not commit,
//! and takes writes again once space returns, without a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::{TestApp, spawn_multi_tenant, token_for};
use ledgerlite::config::TENANT_MAX_BYTES_MIN;
use ledgerlite::domain::tenant::TenantId;
use ledgerlite::store::{Missing, Tenant, chain};
use serde_json::{Value, json};

/// Transfers sent at once, so that refused and accepted ones share group commits.
const BURST_TRANSFERS: usize = 8;
/// Bursts sent before a test gives up waiting for the storage to fill.
const BURSTS_MAX: usize = 400;
/// Free space left on the small disk before the full-disk test starts its bursts, in KiB:
/// several bursts' worth of WAL.
const FULL_DISK_ROOM_KIB: u64 = 1024;
/// No request may take longer than this, in seconds: a fault must never hang a caller.
const REQUEST_TIMEOUT_SECONDS: u64 = 20;

/// Metadata that makes every transaction take about 20 KB, so files fill in a few bursts.
fn padding(seed: &str) -> Value {
    let value = seed.repeat(2000 / seed.len().max(1));
    let mut metadata = serde_json::Map::new();
    for i in 0..10 {
        metadata.insert(format!("pad{i}"), json!(value.clone()));
    }
    Value::Object(metadata)
}

fn transfer(seed: &str) -> Value {
    json!({"send": {"asset": "USD", "value": "1",
        "source": {"from": [{"accountAlias": "@external/USD", "amount": {"asset": "USD", "value": "1"}}]},
        "distribute": {"to": [{"accountAlias": "@a", "amount": {"asset": "USD", "value": "1"}}]}},
        "metadata": padding(seed)})
}

/// Status, Midaz code and `X-Idempotency-Replayed` of one call.
type Outcome = (u16, String, Option<String>);

/// One tenant with a ledger, the USD asset and the deposit account `@a`.
struct Fixture {
    app: TestApp,
    id: TenantId,
    ledger: String,
    client: reqwest::Client,
}

impl Fixture {
    async fn new(server: &TestApp, tenant: &str) -> Self {
        let app = server.with_token(token_for(tenant, json!({})));
        let ledger = app.ledger().await;
        app.asset(&ledger, "USD").await;
        app.account(&ledger, "@a", "USD").await;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(REQUEST_TIMEOUT_SECONDS))
            .build()
            .unwrap();
        Self {
            app,
            id: TenantId::parse(tenant).unwrap(),
            ledger,
            client,
        }
    }

    fn tenant(&self) -> Arc<Tenant> {
        self.app.registry.open(&self.id, Missing::Fail).unwrap()
    }

    /// Posts one transfer of 1 USD to `@a` under the idempotency key `key`.
    async fn transfer(&self, key: &str) -> Outcome {
        post_transfer(
            self.client.clone(),
            format!("{}{}/transactions/json", self.app.base, self.ledger),
            self.app.token.clone().unwrap(),
            key.to_owned(),
        )
        .await
    }

    /// [`BURST_TRANSFERS`] transfers at once; their keys and outcomes.
    async fn burst(&self, round: usize) -> Vec<(String, Outcome)> {
        let mut tasks = Vec::new();
        for i in 0..BURST_TRANSFERS {
            let key = format!("k-{round}-{i}");
            let task = tokio::spawn(post_transfer(
                self.client.clone(),
                format!("{}{}/transactions/json", self.app.base, self.ledger),
                self.app.token.clone().unwrap(),
                key.clone(),
            ));
            tasks.push((key, task));
        }
        let mut outcomes = Vec::new();
        for (key, task) in tasks {
            outcomes.push((key, task.await.unwrap()));
        }
        outcomes
    }

    /// Sends bursts until one transfer is refused; returns the transfers acknowledged and the
    /// key of the first refused one. Every answer is 201 or 503 `STORAGE_UNAVAILABLE`.
    async fn fill(&self) -> (u64, String) {
        let mut acknowledged = 0;
        for round in 0..BURSTS_MAX {
            let mut refused = None;
            for (key, (status, code, _)) in self.burst(round).await {
                match status {
                    201 => acknowledged += 1,
                    503 => {
                        assert_eq!(code, "STORAGE_UNAVAILABLE");
                        refused.get_or_insert(key);
                    }
                    other => panic!("{key}: unexpected {other} {code}"),
                }
            }
            if let Some(key) = refused {
                return (acknowledged, key);
            }
        }
        panic!("the storage never filled up");
    }

    /// The tenant holds exactly `transfers` transfers, whole: each with its two operations,
    /// its chain entry and its idempotency record, `@a` holds their sum (read through the
    /// API), and the audit of chain and balances is clean.
    async fn assert_holds(&self, transfers: u64) {
        let counts = self
            .tenant()
            .read(|conn| {
                let count = |table: &str| -> rusqlite::Result<i64> {
                    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                };
                Ok([
                    count("ledger_transaction")?,
                    count("operation")?,
                    count("chain")?,
                    count("idempotency_record")?,
                ])
            })
            .await
            .unwrap();
        let rows = i64::try_from(transfers).unwrap();
        assert_eq!(
            counts,
            [rows, 2 * rows, rows, rows],
            "transactions, operations, chain entries, idempotency records"
        );
        let reply = self
            .app
            .get(&format!("{}/accounts/alias/@a/balances", self.ledger))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            reply.body["items"][0]["available"],
            json!(transfers.to_string())
        );
        let audit = self.tenant().read(chain::audit).await.unwrap();
        assert!(audit.ok(), "{:?}", audit.problems);
        assert_eq!(audit.chain_entries, transfers);
    }

    /// Runs `sql` on the tenant's write connection, as the writer's next command.
    async fn on_writer(&self, sql: &'static str) {
        self.tenant()
            .writer()
            .write(move |conn| Ok(conn.execute_batch(sql)?))
            .await
            .unwrap();
    }
}

async fn post_transfer(
    client: reqwest::Client,
    url: String,
    token: String,
    key: String,
) -> Outcome {
    let response = client
        .post(url)
        .bearer_auth(token)
        .header("X-Idempotency", &key)
        .json(&transfer(&key))
        .send()
        .await
        .expect("an answer in time");
    let status = response.status().as_u16();
    let replayed = response
        .headers()
        .get("X-Idempotency-Replayed")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let code = body["code"].as_str().unwrap_or("").to_owned();
    (status, code, replayed)
}

/// The other tenant still writes and reads while the first cannot write.
async fn assert_serves(other: &Fixture, key: &str, transfers: u64) {
    assert_eq!(
        other.transfer(key).await,
        (201, String::new(), Some("false".to_owned()))
    );
    other.assert_holds(transfers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_over_the_tenant_quota_get_503_and_nothing_acknowledged_is_lost() {
    let server = spawn_multi_tenant(|config| {
        config.auto_provision = true;
        config.tenant_max_bytes = Some(TENANT_MAX_BYTES_MIN);
    })
    .await;
    let full = Fixture::new(&server, "full").await;
    let other = Fixture::new(&server, "other").await;

    let (acknowledged, refused) = full.fill().await;
    assert!(acknowledged > 0);
    // Exactly the acknowledged transfers are there, each whole; reads of the tenant work.
    full.assert_holds(acknowledged).await;
    // The disk stays full: no page may be added any more (the cap cannot drop below the
    // file's size). The refused key is free again (not 0084 "in flight"), and still refused.
    full.on_writer("PRAGMA max_page_count = 1").await;
    assert_eq!(
        full.transfer(&refused).await,
        (503, "STORAGE_UNAVAILABLE".to_owned(), None)
    );
    full.assert_holds(acknowledged).await;
    assert_serves(&other, "other-1", 1).await;

    // Space returns (an operator raises the quota): no restart, and the refused request
    // goes through as a first, not a replay.
    full.on_writer("PRAGMA max_page_count = 1000000").await;
    assert_eq!(
        full.transfer(&refused).await,
        (201, String::new(), Some("false".to_owned()))
    );
    full.assert_holds(acknowledged + 1).await;
    assert_eq!(
        full.transfer(&refused).await,
        (201, String::new(), Some("true".to_owned()))
    );
    full.assert_holds(acknowledged + 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_read_only_tenant_gets_503_for_every_write_and_recovers_without_restart() {
    // One open tenant at a time: serving the other tenant closes this one's file, and the
    // next request opens it again, as after an eviction.
    let server = spawn_multi_tenant(|config| {
        config.auto_provision = true;
        config.tenant_cache = std::num::NonZeroUsize::MIN;
    })
    .await;
    let stuck = Fixture::new(&server, "stuck").await;
    let other = Fixture::new(&server, "other").await;
    assert_eq!(stuck.transfer("before").await.0, 201);

    // Root ignores file modes (and a mount with files open for writing cannot be made
    // read-only), so the writer connection itself is made read-only: SQLite then refuses to
    // begin any write transaction with SQLITE_READONLY, as on a read-only file.
    stuck.on_writer("PRAGMA query_only = ON").await;
    for (key, outcome) in stuck.burst(0).await {
        assert_eq!(
            outcome,
            (503, "STORAGE_UNAVAILABLE".to_owned(), None),
            "{key}"
        );
    }
    let org = stuck
        .app
        .post(
            "/v1/organizations",
            json!({"legalName": "X", "legalDocument": "1"}),
        )
        .await;
    assert_eq!(
        (org.status.as_u16(), org.code()),
        (503, "STORAGE_UNAVAILABLE")
    );
    assert_eq!(
        org.body["message"].as_str().unwrap(),
        "The tenant's storage cannot accept writes right now (disk full, quota reached or read-only); nothing was written. Reads still work; retry once space is freed."
    );
    stuck.assert_holds(1).await;
    let orgs = stuck.app.get("/v1/organizations").await;
    assert_eq!(orgs.status, 200);
    assert_eq!(orgs.body["items"].as_array().unwrap().len(), 1);
    // The file is writable again once it is reopened: here, when serving the other tenant
    // pushes it out of the one-slot cache.
    assert_serves(&other, "other-1", 1).await;

    for (key, outcome) in stuck.burst(0).await {
        assert_eq!(
            outcome,
            (201, String::new(), Some("false".to_owned())),
            "{key}"
        );
    }
    stuck.assert_holds(1 + BURST_TRANSFERS as u64).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_whose_journal_cannot_be_created_gets_503_until_it_can() {
    let server = spawn_multi_tenant(|config| config.auto_provision = true).await;
    let other = Fixture::new(&server, "other").await;
    // A folder where SQLite must create the tenant's write-ahead log: opening fails.
    let wal = server.data_dir.join("tenants").join("ghost.sqlite-wal");
    std::fs::create_dir(&wal).unwrap();
    let ghost = server.with_token(token_for("ghost", json!({})));
    let body = json!({"legalName": "Ghost", "legalDocument": "1"});
    let refused = ghost.post("/v1/organizations", body.clone()).await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (503, "STORAGE_UNAVAILABLE"),
        "{}",
        refused.body
    );
    assert_serves(&other, "other-1", 1).await;

    std::fs::remove_dir(&wal).unwrap();
    assert_eq!(
        ghost.get("/v1/organizations").await.body["items"],
        json!([])
    );
    assert_eq!(ghost.post("/v1/organizations", body).await.status, 201);
    assert_eq!(
        ghost.get("/v1/organizations").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// A small tmpfs, unmounted (lazily: the server keeps its files open) when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    /// `None` (with a note) where mounting is not allowed.
    fn mount(dir: &Path, size_kib: u64) -> Option<Self> {
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_kib}k"), "tmpfs"])
            .arg(dir)
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(Self(dir.to_owned())),
            Ok(out) => {
                eprintln!(
                    "note: skipping the real full-disk test: mount failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                None
            }
            Err(error) => {
                eprintln!("note: skipping the real full-disk test: no mount: {error}");
                None
            }
        }
    }

    /// Fills the disk with one file but for `free_kib`; returns its path.
    fn fill(&self, free_kib: u64) -> PathBuf {
        use std::io::Write;
        let path = self.0.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![7u8; 4096];
        while file.write_all(&chunk).is_ok() {}
        let full = file.metadata().unwrap().len();
        file.set_len(full.saturating_sub(free_kib * 1024)).unwrap();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_disk_gets_503_and_writes_resume_when_space_returns() {
    let mount_point = tempfile::tempdir().unwrap();
    let Some(disk) = SmallDisk::mount(mount_point.path(), 8 * 1024) else {
        return;
    };
    let data_dir = mount_point.path().join("data");
    let server = spawn_multi_tenant(|config| {
        config.auto_provision = true;
        config.data_dir = data_dir.clone();
    })
    .await;
    let full = Fixture::new(&server, "full").await;
    assert_eq!(full.transfer("before").await.0, 201);

    // Room for a few bursts: some are acknowledged, then SQLite hits ENOSPC mid-stream. (Less
    // room than one burst's group commit needs would refuse the first burst whole.)
    let filler = disk.fill(FULL_DISK_ROOM_KIB);
    let (acknowledged, refused) = full.fill().await;
    assert!(acknowledged > 0);
    full.assert_holds(1 + acknowledged).await;
    // A tenant that does not exist yet cannot be created on a full disk either.
    let newcomer = server.with_token(token_for("newcomer", json!({})));
    let body = json!({"legalName": "New", "legalDocument": "1"});
    let reply = newcomer.post("/v1/organizations", body.clone()).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (503, "STORAGE_UNAVAILABLE"),
        "{}",
        reply.body
    );

    std::fs::remove_file(filler).unwrap();
    assert_eq!(
        full.transfer(&refused).await,
        (201, String::new(), Some("false".to_owned()))
    );
    full.assert_holds(2 + acknowledged).await;
    assert_eq!(newcomer.post("/v1/organizations", body).await.status, 201);
}

/// Another program holding the tenant file's write lock past the busy timeout (Litestream's
/// checkpoint under heavy load, an operator's `sqlite3` shell) gets the write a 503
/// `TENANT_BUSY`, never a 500: nothing of it is written, reads keep working, and the same
/// request goes through as a first once the lock is released.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_file_another_program_keeps_locked_answers_tenant_busy_and_writes_nothing() {
    let server = spawn_multi_tenant(|config| config.auto_provision = true).await;
    let busy = Fixture::new(&server, "busy").await;
    let other = Fixture::new(&server, "other").await;
    assert_eq!(
        busy.transfer("before").await,
        (201, String::new(), Some("false".to_owned()))
    );
    let path = busy.tenant().path().to_owned();
    let (locked, on_locked) = std::sync::mpsc::channel();
    let (release, on_release) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        locked.send(()).unwrap();
        on_release.recv().unwrap();
        conn.execute_batch("ROLLBACK").unwrap();
    });
    on_locked.recv().unwrap();
    assert_eq!(
        busy.transfer("during").await,
        (503, "TENANT_BUSY".to_owned(), None)
    );
    let refused = busy
        .client
        .post(format!(
            "{}{}/transactions/json",
            busy.app.base, busy.ledger
        ))
        .bearer_auth(busy.app.token.clone().unwrap())
        .header("X-Idempotency", "during")
        .json(&transfer("during"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 503);
    assert_eq!(refused.headers()["Retry-After"], "1");
    busy.assert_holds(1).await;
    assert_serves(&other, "other-1", 1).await;
    release.send(()).unwrap();
    holder.join().unwrap();
    assert_eq!(
        busy.transfer("during").await,
        (201, String::new(), Some("false".to_owned()))
    );
    busy.assert_holds(2).await;
}
