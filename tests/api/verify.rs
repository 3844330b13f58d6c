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
         account_alias, balance_key, balance_id, 0, route, metadata, created_at, updated_at, deleted_at, \
         balance_direction, overdraft_used_before, overdraft_used_after, \
         route_id, route_code, route_description FROM operation LIMIT 1",
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

/// The id of the one row `sql` selects.
fn id(conn: &rusqlite::Connection, sql: &str) -> String {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Writes `garbage` into `column` of row `row` of `table` behind the server's back, checks
/// that the read at `path` fails with the 500 envelope and that the audit names the row, then
/// puts the stored text back and checks that the read works again.
async fn assert_corruption_surfaces(
    app: &TestApp,
    conn: &rusqlite::Connection,
    (table, row, column, garbage): (&str, &str, &str, &str),
    path: &str,
) {
    let select = format!("SELECT {column} FROM {table} WHERE id = ?");
    let stored: Option<String> = conn.query_row(&select, [row], |r| r.get(0)).unwrap();
    let update = format!("UPDATE {table} SET {column} = ? WHERE id = ?");
    conn.execute(&update, rusqlite::params![garbage, row])
        .unwrap();

    let read = app.get(path).await;
    assert_eq!(read.status, 500, "{table}.{column}: {}", read.body);
    assert_eq!(read.code(), "0046", "{}", read.body);
    assert_eq!(read.body["title"], "Internal Server Error", "{}", read.body);
    let report = audit(conn).unwrap();
    let named = format!("{table} {row}: column {column} does not decode");
    assert!(
        report.problems.iter().any(|p| p.starts_with(&named)),
        "{named}: {:?}",
        report.problems
    );

    conn.execute(&update, rusqlite::params![stored, row])
        .unwrap();
    assert_eq!(app.get(path).await.status, 200, "{table}.{column} restored");
}

#[tokio::test]
async fn a_corrupt_stored_column_fails_the_read_and_is_named_by_the_audit() {
    let (app, ledger) = busy_ledger().await;
    let conn = open(&app);
    let organization = id(&conn, "SELECT id FROM organization");
    let ledger_id = id(&conn, "SELECT id FROM ledger");
    let account = id(&conn, "SELECT id FROM account WHERE alias = '@a'");
    let transaction = id(
        &conn,
        "SELECT id FROM ledger_transaction ORDER BY rowid LIMIT 1",
    );
    let operation = id(
        &conn,
        "SELECT id FROM operation WHERE account_alias = '@a' ORDER BY rowid LIMIT 1",
    );
    let cases = [
        (
            (
                "organization",
                organization.as_str(),
                "address",
                "{\"line1\": ",
            ),
            format!("/v1/organizations/{organization}"),
        ),
        (
            ("ledger", &ledger_id, "settings", "{\"accounting\": 5}"),
            ledger.clone(),
        ),
        (
            ("account", &account, "metadata", "[1, 2]"),
            format!("{ledger}/accounts/{account}"),
        ),
        (
            ("ledger_transaction", &transaction, "metadata", "{oops"),
            format!("{ledger}/transactions/{transaction}"),
        ),
        (
            ("ledger_transaction", &transaction, "source", "not json"),
            format!("{ledger}/transactions/{transaction}"),
        ),
        (
            ("ledger_transaction", &transaction, "status_code", "LOST"),
            format!("{ledger}/transactions/{transaction}"),
        ),
        (
            ("operation", &operation, "metadata", "{\"k\": "),
            format!("{ledger}/accounts/{account}/operations/{operation}"),
        ),
    ];
    for (corruption, path) in cases {
        assert_corruption_surfaces(&app, &conn, corruption, &path).await;
    }
    let report = audit(&conn).unwrap();
    assert!(report.ok(), "{:?}", report.problems);
}

#[tokio::test]
async fn the_verify_command_names_a_corrupt_json_column() {
    let (app, _) = busy_ledger().await;
    let conn = open(&app);
    let account = id(&conn, "SELECT id FROM account WHERE alias = '@a'");
    conn.execute(
        "UPDATE account SET metadata = 'garbage' WHERE id = ?",
        [&account],
    )
    .unwrap();
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_ledgerlite"))
        .arg("--data-dir")
        .arg(&app.data_dir)
        .args(["verify", "--all"])
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(5));
    let out = String::from_utf8_lossy(&verify.stdout);
    assert!(
        out.contains(&format!(
            "account {account}: column metadata does not decode"
        )),
        "{out}"
    );
}

#[tokio::test]
async fn an_operation_edited_past_the_largest_amount_is_a_finding_not_a_panic() {
    let (app, _) = busy_ledger().await;
    let conn = open(&app);
    let credit = |offset: u32| {
        id(
            &conn,
            &format!(
                "SELECT id FROM operation WHERE type = 'CREDIT' AND balance_affected = 1 \
                 ORDER BY rowid LIMIT 1 OFFSET {offset}"
            ),
        )
    };
    let (first, second) = (credit(0), credit(1));
    let max = rust_decimal::Decimal::MAX.to_string();
    // Crediting the largest amount overflows.
    conn.execute(
        "UPDATE operation SET available_before = ? WHERE id = ?",
        [&max, &first],
    )
    .unwrap();
    // The move from the smallest to the largest amount is more than an amount can hold.
    conn.execute(
        "UPDATE operation SET available_before = ?, available_after = ? WHERE id = ?",
        [&format!("-{max}"), &max, &second],
    )
    .unwrap();
    let report = audit(&conn).unwrap();
    let names = |needle: String| {
        assert!(
            report.problems.iter().any(|p| p.contains(&needle)),
            "{needle}: {:?}",
            report.problems
        );
    };
    names(format!(
        "operation {first} (CREDIT 100) overflows the balance"
    ));
    names(format!(
        "operation {second} (CREDIT 30) does not move it by its amount"
    ));
}
