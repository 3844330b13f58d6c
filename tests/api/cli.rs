//! The real binary's `tenant backup | restore | delete | export | import` and `verify`
//! commands, against a tenant filled through the API by a running server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use common::{
    Binary, assert_export_matches, count, empty_tables, fill_every_kind, start_binary,
    tamper_balance,
};
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

pub(crate) fn cli(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ledgerlite"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("LEDGERLITE_DATA_DIR")
        .output()
        .unwrap()
}

pub(crate) fn ok(data_dir: &Path, args: &[&str]) -> Output {
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

/// The one line a refused command prints on stderr (asserted to be one line, with exit
/// code 1).
fn refused_line(data_dir: &Path, args: &[&str]) -> String {
    let out = cli(data_dir, args);
    assert_eq!(out.status.code(), Some(1), "{args:?}");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.ends_with('\n'), "{args:?}: {stderr:?}");
    stderr.trim_end().to_owned()
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

/// The `-wal` of `tenant` holds nothing (or is gone): nothing looks live.
fn assert_no_wal(data_dir: &Path, tenant: &str) {
    let wal = data_dir.join(format!("tenants/{tenant}.sqlite-wal"));
    let len = std::fs::metadata(&wal).map_or(0, |m| m.len());
    assert_eq!(len, 0, "{} is not empty", wal.display());
}

async fn get_json(base: &str, path: &str) -> Value {
    let response = reqwest::get(format!("{base}{path}")).await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn an_exported_tenant_imports_into_an_equal_tenant_that_verifies_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.as_path();
    ok(data, &["tenant", "create", "default"]);
    let server = start(data).await;
    let ledger = fill_every_kind(&server.0.base, None).await;
    let balances = format!("{ledger}/accounts/alias/@a/balances");
    let served = get_json(&server.0.base, &balances).await;
    let export = dir.path().join("default.jsonl");
    let export_str = export.to_str().unwrap();
    ok(data, &["tenant", "export", "default", "--to", export_str]);
    let line = refused_line(
        data,
        &[
            "tenant", "import", "default", "--from", export_str, "--force",
        ],
    );
    assert!(
        line.starts_with("error: tenant default looks live: default.sqlite-wal is not empty ("),
        "{line}"
    );
    stop(server);

    let live = data.join("tenants/default.sqlite");
    assert_eq!(
        empty_tables(&live),
        Vec::<String>::new(),
        "every table has rows"
    );
    let exported = std::fs::read_to_string(&export).unwrap();
    let counts = assert_export_matches(&exported, &live);

    let imported = ok(data, &["tenant", "import", "copy", "--from", export_str]);
    let rows: i64 = counts.values().sum();
    assert_eq!(
        String::from_utf8_lossy(&imported.stdout),
        format!("imported copy from {export_str} ({rows} rows)\n")
    );
    assert_no_wal(data, "copy");
    // Every row is copied as it is, ids and hash chain included: nothing may differ.
    let again = ok(data, &["tenant", "export", "copy"]);
    assert_eq!(String::from_utf8_lossy(&again.stdout), exported);
    let verified = ok(data, &["verify", "copy"]);
    assert!(
        String::from_utf8_lossy(&verified.stdout).starts_with("copy: ok ("),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );

    // The served tenant, gone and imported back, serves the same balances.
    ok(data, &["tenant", "delete", "default", "--yes"]);
    ok(data, &["tenant", "import", "default", "--from", export_str]);
    assert_eq!(
        refused_line(data, &["tenant", "import", "default", "--from", export_str]),
        "error: tenant default exists; pass --force to replace it"
    );
    ok(
        data,
        &[
            "tenant", "import", "default", "--from", export_str, "--force",
        ],
    );
    let server = start(data).await;
    assert_eq!(get_json(&server.0.base, &balances).await, served);
    stop(server);
}

#[test]
fn a_bad_import_is_refused_naming_its_line_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.as_path();
    ok(data, &["tenant", "create", "default"]);
    let organization = json!({"type": "organization", "data": {"id": "o-1", "legal_name": "Acme",
        "legal_document": "1", "status_code": "ACTIVE", "created_at": "2026-01-01T00:00:00.000000Z",
        "updated_at": "2026-01-01T00:00:00.000000Z"}})
    .to_string();
    let coloured = organization.replace(r#""id":"o-1""#, r#""colour":"red","id":"o-2""#);
    let cases = [
        (
            format!("{organization}\nnot json\n"),
            "error: line 2: not JSON: expected ident at line 1 column 2",
        ),
        (
            format!("{organization}\n{{\"type\":\"nothing\",\"data\":{{}}}}\n"),
            "error: line 2: unknown type \"nothing\"",
        ),
        (
            format!("{coloured}\n"),
            "error: line 1: organization has no column \"colour\"",
        ),
        (
            format!("{organization}\n{organization}\n"),
            "error: line 2: organization row refused: UNIQUE constraint failed: organization.id",
        ),
    ];
    // Every file but the empty log and shared memory the last connection may leave or remove.
    let files = || {
        let mut names: Vec<String> = std::fs::read_dir(data.join("tenants"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| !name.ends_with("-wal") && !name.ends_with("-shm"))
            .collect();
        names.sort();
        names
    };
    assert_eq!(files(), ["default.sqlite"]);
    for (content, expected) in cases {
        let file = dir.path().join("bad.jsonl");
        std::fs::write(&file, &content).unwrap();
        let from = file.to_str().unwrap();
        assert_eq!(
            refused_line(data, &["tenant", "import", "bad", "--from", from]),
            expected,
            "{content}"
        );
        // An existing tenant replaced by a bad import is left as it was.
        assert_eq!(
            refused_line(
                data,
                &["tenant", "import", "default", "--from", from, "--force"]
            ),
            expected
        );
        assert_eq!(files(), ["default.sqlite"], "{content}");
    }
    assert!(!data.join("tenants/bad.sqlite").exists());
    assert_eq!(
        count(&data.join("tenants/default.sqlite"), "organization"),
        0
    );
}

#[test]
fn commands_leave_no_write_ahead_log_behind() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.as_path();
    let backup = dir.path().join("t2.backup");
    let backup = backup.to_str().unwrap();
    ok(data, &["tenant", "create", "t2"]);
    assert_no_wal(data, "t2");
    ok(data, &["verify", "t2"]);
    assert_no_wal(data, "t2");
    ok(data, &["tenant", "backup", "t2", "--to", backup]);
    ok(
        data,
        &["tenant", "restore", "t2", "--from", backup, "--force"],
    );
    ok(data, &["tenant", "delete", "t2", "--yes"]);
    ok(data, &["tenant", "create", "t2"]);
    ok(data, &["tenant", "delete", "t2", "--yes"]);
}

#[test]
fn refusals_print_one_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.as_path();
    ok(data, &["tenant", "create", "default"]);
    assert_eq!(
        refused_line(data, &["tenant", "delete", "nobody", "--yes"]),
        "error: tenant nobody not found"
    );
    assert_eq!(
        refused_line(data, &["tenant", "export", "nobody"]),
        "error: tenant nobody not found"
    );
    assert_eq!(
        refused_line(data, &["verify", "nobody"]),
        "error: tenant nobody not found"
    );
    let taken = dir.path().join("taken");
    std::fs::write(&taken, b"").unwrap();
    assert_eq!(
        refused_line(
            data,
            &[
                "tenant",
                "backup",
                "default",
                "--to",
                taken.to_str().unwrap()
            ]
        ),
        format!(
            "error: {} exists; pass --force to overwrite it",
            taken.display()
        )
    );
    assert_eq!(
        refused_line(data, &["tenant", "delete", "default"]),
        "error: deleting tenant default removes all its data; pass --yes to confirm"
    );
    // A server that stopped without folding its log back into the file.
    let wal = data.join("tenants/default.sqlite-wal");
    std::fs::write(&wal, b"not empty").unwrap();
    assert_eq!(
        refused_line(data, &["tenant", "delete", "default", "--yes"]),
        "error: tenant default looks live: default.sqlite-wal is not empty (9 bytes); stop the \
         server first"
    );
    std::fs::remove_file(&wal).unwrap();

    let conn = rusqlite::Connection::open(data.join("tenants/default.sqlite")).unwrap();
    conn.execute_batch(
        "INSERT INTO organization (id, legal_name, legal_document, status_code, created_at, \
         updated_at) VALUES ('o', 'A', '1', 'ACTIVE', 'x', 'x')",
    )
    .unwrap();
    drop(conn);
    let out = cli(data, &["verify", "default"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "no transaction, nothing to find"
    );
    let conn = rusqlite::Connection::open(data.join("tenants/default.sqlite")).unwrap();
    conn.execute_batch(
        "INSERT INTO ledger (id, organization_id, name, status_code, created_at, updated_at) \
         VALUES ('l', 'o', 'L', 'ACTIVE', 'x', 'x');
         INSERT INTO account (id, organization_id, ledger_id, name, alias, type, asset_code, \
         status_code, created_at, updated_at) VALUES ('a', 'o', 'l', 'A', '@a', 'deposit', 'USD', \
         'ACTIVE', 'x', 'x');
         INSERT INTO balance (id, organization_id, ledger_id, account_id, alias, key, asset_code, \
         account_type, created_at, updated_at) VALUES ('b', 'o', 'l', 'a', '@a', 'default', 'USD', \
         'deposit', 'x', 'x');",
    )
    .unwrap();
    tamper_balance(&conn, "@a", "5");
    drop(conn);
    // A failed audit has its own exit code, 5: the data, not the command, is wrong.
    let out = cli(data, &["verify", "default"]);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: 1 tenant(s) failed verification\n"
    );
}

#[test]
fn a_tenant_file_of_a_newer_schema_is_refused_naming_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.as_path();
    ok(data, &["tenant", "create", "default"]);
    let file = data.join("tenants/default.sqlite");
    let ours = ledgerlite::store::schema::SCHEMA_VERSION;
    let newer = ours + 1;
    let conn = rusqlite::Connection::open(&file).unwrap();
    conn.pragma_update(None, "user_version", newer).unwrap();
    drop(conn);
    let backup = dir.path().join("newer.backup");
    std::fs::copy(&file, &backup).unwrap();
    let expected = format!(
        "error: the tenant file has schema version {newer}, newer than this binary's {ours}; \
         upgrade ledgerlite to open it"
    );
    assert_eq!(refused_line(data, &["verify", "default"]), expected);
    assert_eq!(
        refused_line(data, &["tenant", "export", "default"]),
        expected
    );
    let from = backup.to_str().unwrap();
    assert_eq!(
        refused_line(data, &["tenant", "restore", "copy", "--from", from]),
        expected
    );
    let served = Command::new(env!("CARGO_BIN_EXE_ledgerlite"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env("LEDGERLITE_LOG", "off")
        .output()
        .unwrap();
    assert_eq!(served.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&served.stderr),
        format!("{expected}\n")
    );
    let conn = rusqlite::Connection::open(&file).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, newer, "the file was left as it was");
    assert!(!data.join("tenants/copy.sqlite").exists());
}
