//! The hash chain and the audit: an untouched ledger verifies; a row edited behind the
//! server's back is named precisely.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{TestApp, spawn_app, tamper_balance};
use ledgerlite::store::chain::audit;
use serde_json::{Value, json};

fn transfer(from: &str, to: &str, value: &str) -> Value {
    json!({"send": {"asset": "USD", "value": value,
        "source": {"from": [{"accountAlias": from, "amount": {"asset": "USD", "value": value}}]},
        "distribute": {"to": [{"accountAlias": to, "amount": {"asset": "USD", "value": value}}]}}})
}

async fn busy_ledger() -> (TestApp, String) {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    app.asset(&ledger, "USD").await;
    app.account(&ledger, "@a", "USD").await;
    app.account(&ledger, "@b", "USD").await;
    let path = format!("{ledger}/transactions/json");
    let post = |body: Value| app.post(&path, body);
    assert_eq!(
        post(transfer("@external/USD", "@a", "100")).await.status,
        201
    );
    let moved = post(transfer("@a", "@b", "30")).await;
    assert_eq!(moved.status, 201);
    let mut pending = transfer("@a", "@b", "20");
    pending["pending"] = json!(true);
    let pending = post(pending).await;
    let id = pending.body["id"].as_str().unwrap();
    assert_eq!(
        app.post(&format!("{ledger}/transactions/{id}/commit"), json!({}))
            .await
            .status,
        201
    );
    let reverted = moved.body["id"].as_str().unwrap();
    assert_eq!(
        app.post(
            &format!("{ledger}/transactions/{reverted}/revert"),
            json!({})
        )
        .await
        .status,
        201
    );
    (app, ledger)
}

fn open(app: &TestApp) -> rusqlite::Connection {
    rusqlite::Connection::open(app.data_dir.join("tenants/default.sqlite")).unwrap()
}

#[tokio::test]
async fn an_untouched_ledger_verifies() {
    let (app, _) = busy_ledger().await;
    let report = audit(&open(&app)).unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.chain_entries, 5, "4 creates and 1 commit");
    assert_eq!(
        report.operations, 9,
        "2 + 2 + 1 hold + 2 settled + 2 reverted"
    );
}

#[tokio::test]
async fn an_edited_operation_is_named() {
    let (app, _) = busy_ledger().await;
    let conn = open(&app);
    let (op, seq): (String, i64) = conn
        .query_row(
            "SELECT o.id, c.seq FROM operation o JOIN chain c ON c.transaction_id = o.transaction_id \
             WHERE o.type = 'CREDIT' AND c.event = 'create' ORDER BY o.rowid LIMIT 1 OFFSET 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    conn.execute("UPDATE operation SET amount = '31' WHERE id = ?", [&op])
        .unwrap();
    let report = audit(&conn).unwrap();
    assert!(!report.ok());
    assert!(
        report.problems[0].starts_with(&format!("chain entry {seq} ")),
        "{:?}",
        report.problems
    );
    assert!(report.problems[0].contains(&op), "{:?}", report.problems);
}

#[tokio::test]
async fn an_edited_balance_and_a_forged_operation_are_named() {
    let (app, _) = busy_ledger().await;
    let conn = open(&app);
    let balance = tamper_balance(&conn, "@b", "1000");
    let report = audit(&conn).unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.starts_with(&format!("balance {balance}: stored available 1000"))),
        "{:?}",
        report.problems
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.starts_with("asset USD is not conserved")),
        "{:?}",
        report.problems
    );

    conn.execute(
        "INSERT INTO operation SELECT 'forged', transaction_id, organization_id, ledger_id, description, type, \
         direction, asset_code, chart_of_accounts, amount, available_before, on_hold_before, version_before, \
         available_after, on_hold_after, version_after, status_code, status_description, account_id, \
         account_alias, balance_key, balance_id, 0, route, metadata, created_at, updated_at, deleted_at \
         FROM operation LIMIT 1",
        [],
    )
    .unwrap();
    let report = audit(&conn).unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.starts_with("operation forged is not in the chain")),
        "{:?}",
        report.problems
    );
}

#[tokio::test]
async fn the_verify_command_reports_ok_then_names_a_tampered_balance() {
    let (app, _) = busy_ledger().await;
    let verify = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_ledgerlite"))
            .arg("--data-dir")
            .arg(&app.data_dir)
            .args(["verify", "--all"])
            .env_remove("RUST_BACKTRACE")
            .output()
            .unwrap()
    };
    let clean = verify();
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
    assert!(
        String::from_utf8_lossy(&clean.stdout)
            .starts_with("default: ok (5 chain entries, 9 operations")
    );

    let conn = open(&app);
    let balance: String = conn
        .query_row("SELECT id FROM balance WHERE alias = '@a'", [], |r| {
            r.get(0)
        })
        .unwrap();
    conn.execute("UPDATE balance SET on_hold = '5' WHERE id = ?", [&balance])
        .unwrap();
    let tampered = verify();
    assert_eq!(tampered.status.code(), Some(5));
    let out = String::from_utf8_lossy(&tampered.stdout);
    assert!(
        out.contains(&format!("balance {balance}: stored available")),
        "{out}"
    );
}
