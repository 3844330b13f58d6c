//! The real binary's `tenant backup | restore | delete | export` commands, against a tenant
//! filled through the API by a running server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use common::{Binary, assert_export_matches, count, start_binary};
use serde_json::{Value, json};

/// The server binary, killed when a test ends early.
struct Server(Binary);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.child.kill();
        let _ = self.0.child.wait();
    }
}

async fn start(data_dir: &Path) -> Server {
    Server(start_binary(data_dir).await)
}

fn cli(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ledgerlite"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("LEDGERLITE_DATA_DIR")
        .output()
        .unwrap()
}

fn ok(data_dir: &Path, args: &[&str]) -> Output {
    let out = cli(data_dir, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn refused(data_dir: &Path, args: &[&str]) -> String {
    let out = cli(data_dir, args);
    assert!(!out.status.success(), "{args:?} should have been refused");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.is_empty(), "{args:?}: no message on stderr");
    stderr
}

fn stop(mut server: Server) {
    let pid = server.0.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(server.0.child.wait().unwrap().success());
}

async fn post(base: &str, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// An organization, ledger, asset, account and `count` inflows.
async fn fill(base: &str, count: usize) {
    let org = post(
        base,
        "/v1/organizations",
        json!({"legalName": "Acme", "legalDocument": "1"}),
    )
    .await;
    let org = org["id"].as_str().unwrap();
    let ledger = post(
        base,
        &format!("/v1/organizations/{org}/ledgers"),
        json!({"name": "L"}),
    )
    .await;
    let ledger = format!(
        "/v1/organizations/{org}/ledgers/{}",
        ledger["id"].as_str().unwrap()
    );
    post(
        base,
        &format!("{ledger}/assets"),
        json!({"name": "Dollar", "type": "currency", "code": "USD"}),
    )
    .await;
    post(
        base,
        &format!("{ledger}/accounts"),
        json!({"alias": "@alice", "assetCode": "USD", "type": "deposit"}),
    )
    .await;
    // Different amounts: an identical body would be an implicit idempotent replay.
    for i in 1..=count {
        let value = format!("{i}.50");
        let inflow = json!({"send": {"asset": "USD", "value": value, "distribute": {"to": [{"accountAlias": "@alice", "amount": {"asset": "USD", "value": value}}]}}});
        post(base, &format!("{ledger}/transactions/inflow"), inflow).await;
    }
}

const INFLOWS: usize = 3;

#[tokio::test]
async fn backup_export_restore_and_delete_a_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.as_path();
    ok(data, &["tenant", "create", "default"]);
    let server = start(data).await;
    fill(&server.0.base, INFLOWS).await;
    let tenants = data.join("tenants");
    let live = tenants.join("default.sqlite");

    // Backup while the server runs.
    let backup = dir.path().join("default.backup");
    let backup_str = backup.to_str().unwrap();
    ok(data, &["tenant", "backup", "default", "--to", backup_str]);
    let transactions = count(&backup, "ledger_transaction");
    assert_eq!(transactions, INFLOWS as i64);
    assert_eq!(
        count(&backup, "ledger_transaction"),
        count(&live, "ledger_transaction")
    );
    refused(data, &["tenant", "backup", "default", "--to", backup_str]);
    ok(
        data,
        &["tenant", "backup", "default", "--to", backup_str, "--force"],
    );

    // Export while the server runs: stdout, and a file.
    let out = ok(data, &["tenant", "export", "default"]);
    let counts = assert_export_matches(&String::from_utf8_lossy(&out.stdout), &live);
    assert_eq!(counts["transaction"], INFLOWS as i64);
    assert_eq!(counts["organization"], 1);
    let first: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(first["type"], "organization");
    assert!(first["data"]["id"].is_string());
    let export_file = dir.path().join("export.jsonl");
    ok(
        data,
        &[
            "tenant",
            "export",
            "default",
            "--to",
            export_file.to_str().unwrap(),
        ],
    );
    assert_eq!(std::fs::read(&export_file).unwrap(), out.stdout);

    // Restore and delete refuse a live tenant.
    refused(
        data,
        &[
            "tenant", "restore", "default", "--from", backup_str, "--force",
        ],
    );
    refused(data, &["tenant", "delete", "default", "--yes"]);

    stop(server);

    refused(data, &["tenant", "delete", "default"]);
    assert!(live.is_file());

    // Restore onto a new tenant: the data is there.
    ok(data, &["tenant", "restore", "copy", "--from", backup_str]);
    let copy = tenants.join("copy.sqlite");
    assert_eq!(count(&copy, "ledger_transaction"), INFLOWS as i64);
    let listed = ok(data, &["tenant", "list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("copy"));
    let restored = ok(data, &["tenant", "export", "copy"]);
    assert_eq!(
        assert_export_matches(&String::from_utf8_lossy(&restored.stdout), &copy),
        counts
    );

    // Over an existing tenant only with --force.
    refused(
        data,
        &["tenant", "restore", "default", "--from", backup_str],
    );
    ok(
        data,
        &[
            "tenant", "restore", "default", "--from", backup_str, "--force",
        ],
    );
    assert_eq!(count(&live, "ledger_transaction"), INFLOWS as i64);

    // A file that is not a ledgerlite database is refused and changes nothing.
    let junk = dir.path().join("junk");
    std::fs::write(&junk, b"not a database").unwrap();
    refused(
        data,
        &[
            "tenant",
            "restore",
            "junk",
            "--from",
            junk.to_str().unwrap(),
        ],
    );
    let empty = dir.path().join("empty.sqlite");
    rusqlite::Connection::open(&empty)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    refused(
        data,
        &[
            "tenant",
            "restore",
            "junk",
            "--from",
            empty.to_str().unwrap(),
        ],
    );
    assert!(
        std::fs::read_dir(&tenants).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("junk")),
    );

    // Delete --yes removes every file of the tenant.
    ok(data, &["tenant", "suspend", "default"]);
    ok(data, &["tenant", "delete", "default", "--yes"]);
    for suffix in [".sqlite", ".sqlite-wal", ".sqlite-shm", ".suspended"] {
        assert!(
            !tenants.join(format!("default{suffix}")).exists(),
            "{suffix}"
        );
    }
    assert!(tenants.join("copy.sqlite").is_file());
    refused(data, &["tenant", "delete", "default", "--yes"]);
    refused(data, &["tenant", "export", "default"]);
}

#[test]
fn invalid_ids_are_refused_before_anything_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backup = dir.path().join("b.sqlite");
    let backup = backup.to_str().unwrap();
    for id in ["../x", "a/b", ".x", "-x", ""] {
        refused(&data, &["tenant", "backup", id, "--to", backup]);
        refused(
            &data,
            &["tenant", "restore", id, "--from", backup, "--force"],
        );
        refused(&data, &["tenant", "delete", id, "--yes"]);
        refused(&data, &["tenant", "export", id]);
    }
    assert!(!data.exists(), "nothing may be created for an invalid id");
    assert!(!dir.path().join("x").exists());
    assert!(!Path::new(backup).exists());
}
