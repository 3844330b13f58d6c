//! Midaz v3.7/v3.8 balances: direction (`@external/*` is debit-direction), overdraft settings
//! with the internal `overdraft` balance, internal balances refused, and block / unblock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::common::{Reply, TestApp, position, spawn_app, transfer};

struct Ledger {
    app: TestApp,
    ledger: String,
}

impl Ledger {
    /// A ledger with USD, `@a` and `@b`, and 40 USD on `@a`.
    async fn funded() -> Self {
        let app = spawn_app().await;
        let ledger = app.ledger().await;
        app.asset(&ledger, "USD").await;
        app.account(&ledger, "@a", "USD").await;
        app.account(&ledger, "@b", "USD").await;
        let fx = Self { app, ledger };
        fx.post_ok("inflow", transfer(None, "@a", "40")).await;
        fx
    }

    async fn post(&self, kind: &str, body: Value) -> Reply {
        let path = format!("{}/transactions/{kind}", self.ledger);
        self.app.post(&path, body).await
    }

    async fn post_ok(&self, kind: &str, body: Value) -> Value {
        let reply = self.post(kind, body).await;
        assert_eq!(reply.status, 201, "{kind}: {}", reply.body);
        reply.body
    }

    /// `POST …/transactions/{id}/{action}` (commit, cancel, revert).
    async fn act(&self, id: &Value, action: &str) -> Reply {
        let id = id.as_str().unwrap();
        let path = format!("{}/transactions/{id}/{action}", self.ledger);
        self.app.post(&path, json!({})).await
    }

    async fn balances(&self, alias: &str) -> Vec<Value> {
        let path = match alias.strip_prefix("@external/") {
            Some(code) => format!("{}/accounts/external/{code}/balances", self.ledger),
            None => format!("{}/accounts/alias/{alias}/balances", self.ledger),
        };
        let reply = self.app.get(&path).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["items"].as_array().unwrap().clone()
    }

    async fn balance(&self, alias: &str, key: &str) -> Value {
        self.balances(alias)
            .await
            .into_iter()
            .find(|b| b["key"] == key)
            .unwrap_or_else(|| panic!("no balance {alias}#{key}"))
    }

    /// `(available, onHold, overdraftUsed, version)` of `alias#key`.
    async fn amounts(&self, alias: &str, key: &str) -> (String, String, String, i64) {
        let b = self.balance(alias, key).await;
        (
            b["available"].as_str().unwrap().to_owned(),
            b["onHold"].as_str().unwrap().to_owned(),
            b["overdraftUsed"].as_str().unwrap().to_owned(),
            b["version"].as_i64().unwrap(),
        )
    }

    async fn patch_balance(&self, alias: &str, key: &str, body: Value) -> Reply {
        let id = self.balance(alias, key).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = format!("{}/balances/{id}", self.ledger);
        self.app.patch(&path, body).await
    }

    async fn add_balance(&self, alias: &str, body: Value) -> Reply {
        let accounts = self
            .app
            .get(&format!("{}/accounts/alias/{alias}", self.ledger))
            .await;
        let id = accounts.body["id"].as_str().unwrap().to_owned();
        let path = format!("{}/accounts/{id}/balances", self.ledger);
        self.app.post(&path, body).await
    }

    /// Every balance of the ledger, as JSON text: what a refused call must leave unchanged.
    async fn snapshot(&self) -> String {
        let reply = self
            .app
            .get(&format!("{}/balances?limit=100", self.ledger))
            .await;
        assert_eq!(reply.status, 200);
        let transactions = self
            .app
            .get(&format!("{}/transactions?limit=100", self.ledger))
            .await;
        format!("{}{}", reply.body, transactions.body)
    }

    /// Σ of the signed positions of every balance of the ledger is zero, and the audit of the
    /// tenant file finds nothing.
    async fn assert_conserved_and_audited(&self) {
        let reply = self
            .app
            .get(&format!("{}/balances?limit=100", self.ledger))
            .await;
        let total: Decimal = reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(position)
            .sum();
        assert_eq!(total, Decimal::ZERO, "{}", reply.body);
        let file = self.app.data_dir.join("tenants").join("default.sqlite");
        let conn =
            rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
        let audit = ledgerlite::store::chain::audit(&conn).unwrap();
        assert!(audit.ok(), "{:?}", audit.problems);
    }

    async fn refused(&self, reply: Reply, status: u16, code: &str, before: &str) {
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (status, code),
            "{}",
            reply.body
        );
        assert_eq!(
            self.snapshot().await,
            before,
            "a refused call changed the ledger"
        );
    }
}

fn leg(alias: &str, key: &str, value: &str) -> Value {
    json!({"accountAlias": alias, "balanceKey": key, "amount": {"asset": "USD", "value": value}})
}

fn send(value: &str, from: Value, to: Value) -> Value {
    json!({"send": {"asset": "USD", "value": value,
        "source": {"from": [from]}, "distribute": {"to": [to]}}})
}

/// `(type, direction, amount, balance, balanceAfter)` of the operation on `alias#key`.
fn op(tx: &Value, alias: &str, key: &str) -> (String, String, String, Value, Value) {
    let op = tx["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["accountAlias"] == alias && o["balanceKey"] == key)
        .unwrap_or_else(|| panic!("no operation on {alias}#{key}: {tx}"));
    (
        op["type"].as_str().unwrap().to_owned(),
        op["direction"].as_str().unwrap().to_owned(),
        op["amount"]["value"].as_str().unwrap().to_owned(),
        op["balance"].clone(),
        op["balanceAfter"].clone(),
    )
}

fn snap(available: &str, on_hold: &str, version: i64, used: &str) -> Value {
    json!({"available": available, "onHold": on_hold, "version": version, "overdraftUsed": used})
}

/// An inflow raises `@external/USD` (debit-direction, as Midaz v3.8 creates it) and an outflow
/// lowers it; additional balances take a direction (0171 for any other).
#[tokio::test]
async fn external_balances_are_debit_direction_and_balances_take_a_direction() {
    let fx = Ledger::funded().await;
    let external = fx.balance("@external/USD", "default").await;
    assert_eq!(external["direction"], "debit");
    assert_eq!(external["available"], "40");
    assert_eq!(fx.balance("@a", "default").await["direction"], "credit");
    let outflow = json!({"send": {"asset": "USD", "value": "30",
        "source": {"from": [leg("@a", "default", "30")]}}});
    let tx = fx.post_ok("outflow", outflow).await;
    let (kind, direction, amount, before, after) = op(&tx, "@external/USD", "default");
    assert_eq!(
        (kind.as_str(), direction.as_str(), amount.as_str()),
        ("CREDIT", "credit", "30")
    );
    assert_eq!(
        (before, after),
        (snap("40", "0", 2, "0"), snap("10", "0", 3, "0"))
    );
    assert_eq!(fx.amounts("@external/USD", "default").await.0, "10");

    let created = fx
        .add_balance("@b", json!({"key": "Loan", "direction": "debit"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        (
            &created.body["key"],
            &created.body["direction"],
            &created.body["settings"]
        ),
        (&json!("loan"), &json!("debit"), &Value::Null)
    );
    // A debit-direction balance grows with a debit: @b#loan lends 5 to @a.
    fx.post_ok(
        "json",
        send("5", leg("@b", "loan", "5"), leg("@a", "default", "5")),
    )
    .await;
    assert_eq!(
        fx.amounts("@b", "loan").await,
        ("5".into(), "0".into(), "0".into(), 2)
    );
    // ...and shrinks with a credit, never below zero (0018).
    let before = fx.snapshot().await;
    let reply = fx
        .post(
            "json",
            send("6", leg("@a", "default", "6"), leg("@b", "loan", "6")),
        )
        .await;
    fx.refused(reply, 422, "0018", &before).await;

    let reply = fx
        .add_balance("@b", json!({"key": "sideways", "direction": "sideways"}))
        .await;
    fx.refused(reply, 400, "0171", &before).await;
    fx.assert_conserved_and_audited().await;
}

/// An overdraft-enabled balance floors at zero and owes the rest, mirrored by the account's
/// internal `overdraft` balance; credits repay first; the limit holds (0167, 0173).
#[tokio::test]
async fn an_overdraft_is_borrowed_mirrored_limited_and_repaid_first() {
    let fx = Ledger::funded().await;
    let settings = json!({"settings": {"allowOverdraft": true, "overdraftLimitEnabled": true,
        "overdraftLimit": "50"}});
    let patched = fx.patch_balance("@a", "default", settings).await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(
        patched.body["settings"],
        json!({"allowOverdraft": true, "overdraftLimitEnabled": true, "overdraftLimit": "50"})
    );
    let companion = fx.balance("@a", "overdraft").await;
    assert_eq!(companion["direction"], "debit");
    assert_eq!(companion["settings"]["balanceScope"], "internal");
    assert_eq!(companion["available"], "0");

    // 80 out of 40: @a floors at 0 and owes 40; its overdraft balance holds 40.
    let tx = fx
        .post_ok(
            "json",
            send("80", leg("@a", "default", "80"), leg("@b", "default", "80")),
        )
        .await;
    let (kind, direction, amount, before, after) = op(&tx, "@a", "default");
    assert_eq!(
        (kind.as_str(), direction.as_str(), amount.as_str()),
        ("DEBIT", "debit", "80")
    );
    assert_eq!(
        (before, after),
        (snap("40", "0", 2, "0"), snap("0", "0", 3, "40"))
    );
    let (kind, direction, amount, before, after) = op(&tx, "@a", "overdraft");
    assert_eq!(
        (kind.as_str(), direction.as_str(), amount.as_str()),
        ("OVERDRAFT", "debit", "40")
    );
    assert_eq!(
        (before, after),
        (snap("0", "0", 1, "0"), snap("40", "0", 2, "0"))
    );
    assert_eq!(
        fx.amounts("@a", "default").await,
        ("0".into(), "0".into(), "40".into(), 3)
    );
    assert_eq!(fx.amounts("@b", "default").await.0, "80");
    fx.assert_conserved_and_audited().await;

    // Past the limit (40 + 11 > 50): 0167, nothing changes; a limit below what is owed: 0173.
    let before = fx.snapshot().await;
    let reply = fx
        .post(
            "json",
            send("11", leg("@a", "default", "11"), leg("@b", "default", "11")),
        )
        .await;
    fx.refused(reply, 422, "0167", &before).await;
    let lower = json!({"settings": {"allowOverdraft": true, "overdraftLimitEnabled": true,
        "overdraftLimit": "39.99"}});
    let reply = fx.patch_balance("@a", "default", lower).await;
    fx.refused(reply, 422, "0173", &before).await;
    // The internal balance is the ledger's own: no leg (0168), no change (0175), no delete (0169).
    let reply = fx
        .post(
            "json",
            send("1", leg("@a", "overdraft", "1"), leg("@b", "default", "1")),
        )
        .await;
    fx.refused(reply, 422, "0168", &before).await;
    let reply = fx
        .patch_balance("@a", "overdraft", json!({"allowSending": false}))
        .await;
    fx.refused(reply, 422, "0175", &before).await;
    let id = fx.balance("@a", "overdraft").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = fx.app.delete(&format!("{}/balances/{id}", fx.ledger)).await;
    fx.refused(reply, 422, "0169", &before).await;
    let reply = fx.add_balance("@a", json!({"key": "Overdraft"})).await;
    fx.refused(reply, 400, "0170", &before).await;
    let internal = json!({"key": "x", "settings": {"balanceScope": "internal"}});
    let reply = fx.add_balance("@a", internal).await;
    fx.refused(reply, 400, "0172", &before).await;

    // A credit of 100 repays the 40 first: 60 available, nothing owed.
    let tx = fx.post_ok("inflow", transfer(None, "@a", "100")).await;
    let (_, _, _, before, after) = op(&tx, "@a", "default");
    assert_eq!(
        (before, after),
        (snap("0", "0", 3, "40"), snap("60", "0", 4, "0"))
    );
    let (kind, direction, amount, _, after) = op(&tx, "@a", "overdraft");
    assert_eq!(
        (kind.as_str(), direction.as_str(), amount.as_str()),
        ("OVERDRAFT", "credit", "40")
    );
    assert_eq!(after, snap("0", "0", 3, "0"));
    fx.assert_conserved_and_audited().await;
}

/// Pending holds borrow too, a cancel repays, a commit settles the hold; a revert of an
/// overdrawn transfer repays and returns everything.
#[tokio::test]
async fn pending_cancel_commit_and_revert_keep_working_on_an_overdraft() {
    let fx = Ledger::funded().await;
    let settings = json!({"settings": {"allowOverdraft": true, "overdraftLimitEnabled": false}});
    assert_eq!(
        fx.patch_balance("@a", "default", settings).await.status,
        200
    );
    let mut pending = send("70", leg("@a", "default", "70"), leg("@b", "default", "70"));
    pending["pending"] = json!(true);
    let held = fx.post_ok("json", pending.clone()).await;
    assert_eq!(
        fx.amounts("@a", "default").await,
        ("0".into(), "70".into(), "30".into(), 3)
    );
    assert_eq!(fx.amounts("@a", "overdraft").await.0, "30");
    let cancel = fx.act(&held["id"], "cancel").await;
    assert_eq!(cancel.status, 201, "{}", cancel.body);
    assert_eq!(
        fx.amounts("@a", "default").await,
        ("40".into(), "0".into(), "0".into(), 4)
    );
    assert_eq!(fx.amounts("@a", "overdraft").await.0, "0");

    // A different body: the same one would replay the cancelled transaction.
    pending["description"] = json!("again");
    let held = fx.post_ok("json", pending).await;
    let commit = fx.act(&held["id"], "commit").await;
    assert_eq!(commit.status, 201, "{}", commit.body);
    assert_eq!(
        fx.amounts("@a", "default").await,
        ("0".into(), "0".into(), "30".into(), 6)
    );
    assert_eq!(fx.amounts("@b", "default").await.0, "70");
    fx.assert_conserved_and_audited().await;

    let revert = fx.act(&held["id"], "revert").await;
    assert_eq!(revert.status, 201, "{}", revert.body);
    assert_eq!(
        fx.amounts("@a", "default").await,
        ("40".into(), "0".into(), "0".into(), 7)
    );
    assert_eq!(fx.amounts("@a", "overdraft").await.0, "0");
    assert_eq!(fx.amounts("@b", "default").await.0, "0");
    fx.assert_conserved_and_audited().await;
}

/// Block and unblock post at once (their `pending` ignored), typed BLOCK / UNBLOCK with the
/// usual directions; the same body posted to both is two transactions; a block reverts.
#[tokio::test]
async fn block_and_unblock_move_funds_with_their_own_operation_types() {
    let fx = Ledger::funded().await;
    assert_eq!(
        fx.add_balance("@a", json!({"key": "frozen"})).await.status,
        201
    );
    let mut body = send("25", leg("@a", "default", "25"), leg("@a", "frozen", "25"));
    body["pending"] = json!(true);
    let block = fx.post_ok("block", body).await;
    assert_eq!(block["status"]["code"], "CREATED");
    let (kind, direction, amount, _, after) = op(&block, "@a", "default");
    assert_eq!(
        (kind.as_str(), direction.as_str(), amount.as_str()),
        ("BLOCK", "debit", "25")
    );
    assert_eq!(after, snap("15", "0", 3, "0"));
    let (kind, direction, _, _, after) = op(&block, "@a", "frozen");
    assert_eq!((kind.as_str(), direction.as_str()), ("BLOCK", "credit"));
    assert_eq!(after, snap("25", "0", 2, "0"));

    let body = send("25", leg("@a", "frozen", "25"), leg("@a", "default", "25"));
    let unblock = fx.post_ok("unblock", body.clone()).await;
    assert_ne!(unblock["id"], block["id"]);
    assert_eq!(op(&unblock, "@a", "frozen").0, "UNBLOCK");
    assert_eq!(op(&unblock, "@a", "default").0, "UNBLOCK");
    assert_eq!(fx.amounts("@a", "default").await.0, "40");
    assert_eq!(fx.amounts("@a", "frozen").await.0, "0");
    // The same body as a block is not a replay of the unblock: it is posted, and refused
    // because `frozen` is empty now.
    let before = fx.snapshot().await;
    let reply = fx.post("block", body).await;
    fx.refused(reply, 422, "0018", &before).await;

    // Reverting the unblock blocks again, with ordinary DEBIT / CREDIT operations.
    let revert = fx.act(&unblock["id"], "revert").await;
    assert_eq!(revert.status, 201, "{}", revert.body);
    assert_eq!(op(&revert.body, "@a", "default").0, "DEBIT");
    assert_eq!(op(&revert.body, "@a", "frozen").0, "CREDIT");
    assert_eq!(fx.amounts("@a", "default").await.0, "15");
    assert_eq!(fx.amounts("@a", "frozen").await.0, "25");
    let id = unblock["id"].as_str().unwrap();
    let read = fx
        .app
        .get(&format!("{}/transactions/{id}", fx.ledger))
        .await;
    assert_eq!(read.body["source"], json!(["@a"]));
    assert_eq!(read.body["destination"], json!(["@a"]));
    fx.assert_conserved_and_audited().await;
}
