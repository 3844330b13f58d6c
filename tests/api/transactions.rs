//! The transaction half of the Midaz v3.8 contract, end to end against the real server:
//! creating transactions (json, inflow, outflow, annotation), the validation order and its
//! codes, pending/commit/cancel, revert, reads and lists, account operations, balances (flags,
//! deletion, additional keys, history) and idempotency. Every rejected call is followed by a
//! check that it changed nothing: every balance (amounts and versions) and every transaction
//! (with its operations) reads back exactly as before.
// A failed expectation is a failed test: `expect` is the assertion here.
#![allow(clippy::expect_used)]

use crate::common;

use std::collections::BTreeMap;

use common::{Reply, TestApp, position, spawn_app};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const MISSING_ID: &str = "01900000-0000-7000-8000-000000000000";
const EXTERNAL: &str = "@external/USD";

// ---- fixture -------------------------------------------------------------------------------

/// A server with one ledger, the USD asset (and so `@external/USD`) and deposit accounts.
struct Fx {
    app: TestApp,
    ledger: String,
    accounts: BTreeMap<String, Value>,
}

/// Everything a rejected call must leave alone: all balances and all transactions.
#[derive(Debug, PartialEq)]
struct State {
    balances: Value,
    transactions: Value,
}

impl Fx {
    async fn new(aliases: &[&str]) -> Self {
        let app = spawn_app().await;
        let ledger = app.ledger().await;
        app.asset(&ledger, "USD").await;
        let mut accounts = BTreeMap::new();
        for alias in aliases {
            accounts.insert(
                (*alias).to_owned(),
                app.account(&ledger, alias, "USD").await,
            );
        }
        Self {
            app,
            ledger,
            accounts,
        }
    }

    fn path(&self, rest: &str) -> String {
        format!("{}{rest}", self.ledger)
    }

    fn account_id(&self, alias: &str) -> String {
        self.accounts[alias]["id"]
            .as_str()
            .expect("account id")
            .to_owned()
    }

    /// Sends `body` (raw text) with `headers` to `{ledger}{rest}`.
    async fn send(
        &self,
        method: Method,
        rest: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self
            .app
            .client
            .request(method, format!("{}{}", self.app.base, self.path(rest)));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        Reply::from(request.send().await.expect("request")).await
    }

    /// A call with a fresh `X-Idempotency` key, so that equal bodies are never deduplicated.
    async fn call(&self, method: Method, rest: &str, body: Option<&str>) -> Reply {
        let key = uuid::Uuid::now_v7().to_string();
        self.send(method, rest, body, &[("X-Idempotency", &key)])
            .await
    }

    async fn get(&self, rest: &str) -> Reply {
        self.call(Method::GET, rest, None).await
    }

    async fn post(&self, rest: &str, body: &Value) -> Reply {
        self.call(Method::POST, rest, Some(&body.to_string())).await
    }

    async fn patch(&self, rest: &str, body: &Value) -> Reply {
        self.call(Method::PATCH, rest, Some(&body.to_string()))
            .await
    }

    /// `POST …/transactions/{kind}` with a fresh idempotency key.
    async fn tx(&self, kind: &str, body: &Value) -> Reply {
        self.post(&format!("/transactions/{kind}"), body).await
    }

    /// A transaction that must be created: 201, `X-Idempotency-Replayed: false`.
    async fn ok_tx(&self, kind: &str, body: &Value) -> Value {
        let reply = self.tx(kind, body).await;
        assert_eq!(reply.status, 201, "{kind}: {}", reply.body);
        assert_eq!(
            reply.header("X-Idempotency-Replayed").as_deref(),
            Some("false")
        );
        reply.body
    }

    /// Inflow of `value` USD into `alias`.
    async fn fund(&self, alias: &str, value: &str) -> Value {
        let body = json!({"send": {"asset": "USD", "value": value,
            "distribute": {"to": [leg(alias, value)]}}});
        self.ok_tx("inflow", &body).await
    }

    /// `from` pays `to` `value` USD, immediately.
    async fn transfer(&self, from: &str, to: &str, value: &str) -> Value {
        self.ok_tx("json", &transfer_body(from, to, value)).await
    }

    /// Every balance of the account `alias` (the external code lookup for `@external/…`).
    async fn balances_of(&self, alias: &str) -> Vec<Value> {
        let rest = match alias.strip_prefix("@external/") {
            Some(code) => format!("/accounts/external/{code}/balances"),
            None => format!("/accounts/alias/{alias}/balances"),
        };
        let reply = self.get(&rest).await;
        assert_eq!(reply.status, 200, "{rest}: {}", reply.body);
        assert_eq!(reply.body["limit"], 10, "{}", reply.body);
        reply.body["items"].as_array().cloned().expect("items")
    }

    async fn balance_key(&self, alias: &str, key: &str) -> Value {
        self.balances_of(alias)
            .await
            .into_iter()
            .find(|b| b["key"] == key)
            .unwrap_or_else(|| panic!("no balance {alias}#{key}"))
    }

    async fn balance(&self, alias: &str) -> Value {
        self.balance_key(alias, "default").await
    }

    async fn version(&self, alias: &str) -> i64 {
        self.balance(alias).await["version"]
            .as_i64()
            .expect("version")
    }

    async fn assert_balance(&self, alias: &str, available: &str, on_hold: &str, version: i64) {
        let balance = self.balance(alias).await;
        assert_eq!(
            (
                balance["available"].as_str(),
                balance["onHold"].as_str(),
                balance["version"].as_i64()
            ),
            (Some(available), Some(on_hold), Some(version)),
            "{alias}: {balance}"
        );
    }

    /// Every balance of the ledger and every transaction (with operations).
    async fn state(&self) -> State {
        let balances = self.get("/balances?limit=100").await;
        assert_eq!(balances.status, 200, "{}", balances.body);
        let transactions = self.get("/transactions?limit=100").await;
        assert_eq!(transactions.status, 200, "{}", transactions.body);
        State {
            balances: balances.body,
            transactions: transactions.body,
        }
    }

    async fn transaction_count(&self) -> usize {
        self.state().await.transactions["items"]
            .as_array()
            .expect("items")
            .len()
    }

    /// Sends a call that must be rejected with `status`/`code` and change nothing.
    async fn reject_raw(
        &self,
        method: Method,
        rest: &str,
        body: Option<&str>,
        status: u16,
        code: &str,
    ) -> Reply {
        let before = self.state().await;
        let reply = self.call(method, rest, body).await;
        assert_error(&reply, status, code);
        assert_eq!(
            self.state().await,
            before,
            "a rejected {rest} changed the ledger"
        );
        reply
    }

    async fn reject(&self, rest: &str, body: &Value, status: u16, code: &str) -> Reply {
        self.reject_raw(Method::POST, rest, Some(&body.to_string()), status, code)
            .await
    }

    /// For each asset, Σ(available + onHold) of the credit-direction balances equals
    /// Σ(available − onHold) of the debit-direction ones.
    async fn assert_conserved(&self) {
        let state = self.state().await;
        let mut totals: BTreeMap<String, Decimal> = BTreeMap::new();
        for balance in state.balances["items"].as_array().expect("items") {
            let total = totals
                .entry(balance["assetCode"].as_str().expect("asset").to_owned())
                .or_default();
            *total += position(balance);
        }
        for (asset, total) in totals {
            assert!(total.is_zero(), "{asset} sums to {total}");
        }
    }

    /// The EUR asset with an `@eve` account in it.
    async fn asset_eur(&self) {
        self.app.asset(&self.ledger, "EUR").await;
        self.app.account(&self.ledger, "@eve", "EUR").await;
    }

    /// An inflow with the given idempotency headers.
    async fn inflow_with(&self, body: &Value, headers: &[(&str, &str)]) -> Reply {
        self.send(
            Method::POST,
            "/transactions/inflow",
            Some(&body.to_string()),
            headers,
        )
        .await
    }
}

// ---- helpers -------------------------------------------------------------------------------

fn leg(alias: &str, value: &str) -> Value {
    json!({"accountAlias": alias, "amount": {"asset": "USD", "value": value}})
}

fn send(value: &str, from: Vec<Value>, to: Vec<Value>) -> Value {
    json!({"send": {"asset": "USD", "value": value,
        "source": {"from": from}, "distribute": {"to": to}}})
}

fn inflow_body(alias: &str, value: &str) -> Value {
    json!({"send": {"asset": "USD", "value": value, "distribute": {"to": [leg(alias, value)]}}})
}

fn transfer_body(from: &str, to: &str, value: &str) -> Value {
    send(value, vec![leg(from, value)], vec![leg(to, value)])
}

fn id_of(body: &Value) -> String {
    body["id"].as_str().expect("id").to_owned()
}

#[track_caller]
fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
    assert_eq!(reply.code(), code, "{}", reply.body);
    assert!(reply.body["title"].is_string(), "{}", reply.body);
    assert!(reply.body["message"].is_string(), "{}", reply.body);
}

/// The only operation of `tx` on `alias` with `kind`.
#[track_caller]
fn op<'a>(tx: &'a Value, alias: &str, kind: &str) -> &'a Value {
    let found: Vec<&Value> = tx["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .filter(|o| o["accountAlias"] == alias && o["type"] == kind)
        .collect();
    assert_eq!(found.len(), 1, "{kind} ops on {alias} in {tx}");
    found[0]
}

/// An operation's type, direction, amount and balance before/after `(available, onHold, version)`.
#[track_caller]
fn assert_op(
    op: &Value,
    direction: &str,
    amount: &str,
    before: (&str, &str, i64),
    after: (&str, &str, i64),
) {
    let snapshot = |s: &Value| {
        (
            s["available"].as_str().map(str::to_owned),
            s["onHold"].as_str().map(str::to_owned),
            s["version"].as_i64(),
        )
    };
    let want = |s: (&str, &str, i64)| (Some(s.0.to_owned()), Some(s.1.to_owned()), Some(s.2));
    assert_eq!(op["direction"], direction, "{op}");
    assert_eq!(op["amount"]["value"], amount, "{op}");
    assert_eq!(snapshot(&op["balance"]), want(before), "before: {op}");
    assert_eq!(snapshot(&op["balanceAfter"]), want(after), "after: {op}");
    assert_eq!(op["balanceAffected"], true, "{op}");
    assert_eq!(op["assetCode"], "USD", "{op}");
    for field in [
        "id",
        "transactionId",
        "accountId",
        "balanceId",
        "balanceKey",
    ] {
        assert!(op[field].is_string(), "{field}: {op}");
    }
}

fn op_count(tx: &Value) -> usize {
    tx["operations"].as_array().expect("operations").len()
}

fn ids(items: &Value) -> Vec<String> {
    items.as_array().expect("items").iter().map(id_of).collect()
}

fn cursor_json(cursor: &str) -> Value {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cursor)
        .expect("base64 cursor");
    serde_json::from_slice(&bytes).expect("JSON cursor")
}

fn parse_time(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &Rfc3339).expect("RFC 3339")
}

/// `YYYY-MM-DD hh:mm:ss`, URL-encoded, of the whole second at or before `at` plus `shift` seconds.
fn query_second(at: OffsetDateTime, shift: i64) -> String {
    let at = at.replace_nanosecond(0).expect("second") + time::Duration::seconds(shift);
    let text = at
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .expect("format");
    text.replace(' ', "%20")
}

// ---- happy paths ---------------------------------------------------------------------------

#[tokio::test]
async fn inflow_json_outflow_and_annotation_move_exactly_what_they_say() {
    let fx = Fx::new(&["@alice", "@bob"]).await;
    let ext0 = fx.version(EXTERNAL).await;
    let alice0 = fx.version("@alice").await;
    let bob0 = fx.version("@bob").await;
    fx.assert_balance(EXTERNAL, "0", "0", ext0).await;
    fx.assert_balance("@alice", "0", "0", alice0).await;

    // Inflow: @external/USD → @alice.
    let inflow = fx.fund("@alice", "100").await;
    assert_eq!(inflow["status"]["code"], "CREATED", "{inflow}");
    assert_eq!(inflow["amount"], "100");
    assert_eq!(inflow["assetCode"], "USD");
    assert_eq!(inflow["source"], json!([EXTERNAL]));
    assert_eq!(inflow["destination"], json!(["@alice"]));
    assert!(inflow.get("parentTransactionId").is_none_or(Value::is_null));
    assert_eq!(op_count(&inflow), 2);
    assert_op(
        op(&inflow, EXTERNAL, "DEBIT"),
        "debit",
        "100",
        ("0", "0", ext0),
        ("100", "0", ext0 + 1),
    );
    assert_op(
        op(&inflow, "@alice", "CREDIT"),
        "credit",
        "100",
        ("0", "0", alice0),
        ("100", "0", alice0 + 1),
    );
    fx.assert_balance(EXTERNAL, "100", "0", ext0 + 1).await;
    fx.assert_balance("@alice", "100", "0", alice0 + 1).await;

    let read = fx.get(&format!("/transactions/{}", id_of(&inflow))).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["status"]["code"], "APPROVED");
    assert_eq!(read.body["amount"], "100");
    assert_eq!(op_count(&read.body), 2);

    // json: @alice → @bob.
    let tx = fx.transfer("@alice", "@bob", "30").await;
    assert_eq!(tx["status"]["code"], "CREATED");
    assert_eq!(tx["source"], json!(["@alice"]));
    assert_eq!(tx["destination"], json!(["@bob"]));
    assert_op(
        op(&tx, "@alice", "DEBIT"),
        "debit",
        "30",
        ("100", "0", alice0 + 1),
        ("70", "0", alice0 + 2),
    );
    assert_op(
        op(&tx, "@bob", "CREDIT"),
        "credit",
        "30",
        ("0", "0", bob0),
        ("30", "0", bob0 + 1),
    );

    // Outflow: @bob → @external/USD.
    let body = json!({"send": {"asset": "USD", "value": "10",
        "source": {"from": [leg("@bob", "10")]}}});
    let outflow = fx.ok_tx("outflow", &body).await;
    assert_eq!(outflow["status"]["code"], "CREATED");
    assert_eq!(outflow["source"], json!(["@bob"]));
    assert_eq!(outflow["destination"], json!([EXTERNAL]));
    assert_op(
        op(&outflow, "@bob", "DEBIT"),
        "debit",
        "10",
        ("30", "0", bob0 + 1),
        ("20", "0", bob0 + 2),
    );
    assert_op(
        op(&outflow, EXTERNAL, "CREDIT"),
        "credit",
        "10",
        ("100", "0", ext0 + 1),
        ("90", "0", ext0 + 2),
    );
    fx.assert_balance(EXTERNAL, "90", "0", ext0 + 2).await;
    fx.assert_balance("@alice", "70", "0", alice0 + 2).await;
    fx.assert_balance("@bob", "20", "0", bob0 + 2).await;

    // Annotation: recorded as NOTED, balances untouched.
    let before = fx.state().await;
    let note = fx
        .ok_tx("annotation", &transfer_body("@alice", "@bob", "5"))
        .await;
    assert_eq!(note["status"]["code"], "NOTED", "{note}");
    assert_eq!(note["amount"], "5");
    assert_eq!(op_count(&note), 2);
    for o in note["operations"].as_array().expect("operations") {
        assert_eq!(o["balanceAffected"], false, "{o}");
        assert_eq!(o["amount"]["value"], "5", "{o}");
        for snapshot in ["balance", "balanceAfter"] {
            assert_eq!(o[snapshot]["available"], "0", "{o}");
            assert_eq!(o[snapshot]["onHold"], "0", "{o}");
        }
    }
    assert_eq!(op(&note, "@alice", "DEBIT")["direction"], "debit");
    assert_eq!(op(&note, "@bob", "CREDIT")["direction"], "credit");
    let after = fx.state().await;
    assert_eq!(after.balances, before.balances, "an annotation moved money");
    let read = fx.get(&format!("/transactions/{}", id_of(&note))).await;
    assert_eq!(read.body["status"]["code"], "NOTED");

    fx.assert_conserved().await;
}

#[tokio::test]
async fn shares_remaining_and_percentage_of_percentage() {
    let fx = Fx::new(&["@alice", "@bob", "@carol", "@dave"]).await;
    fx.fund("@alice", "200").await;
    fx.fund("@bob", "50").await;

    let body = send(
        "100",
        vec![leg("@alice", "100")],
        vec![
            json!({"accountAlias": "@bob", "share": {"percentage": 60}}),
            json!({"accountAlias": "@carol",
                "share": {"percentage": 50, "percentageOfPercentage": 10}}),
            json!({"accountAlias": "@dave", "remaining": "remaining"}),
        ],
    );
    let tx = fx.ok_tx("json", &body).await;
    assert_eq!(op(&tx, "@alice", "DEBIT")["amount"]["value"], "100");
    assert_eq!(op(&tx, "@bob", "CREDIT")["amount"]["value"], "60");
    assert_eq!(op(&tx, "@carol", "CREDIT")["amount"]["value"], "5");
    assert_eq!(op(&tx, "@dave", "CREDIT")["amount"]["value"], "35");
    fx.assert_balance("@alice", "100", "0", 3).await;
    fx.assert_balance("@bob", "110", "0", 3).await;
    fx.assert_balance("@carol", "5", "0", 2).await;
    fx.assert_balance("@dave", "35", "0", 2).await;

    // Shares and remaining on the source side, with fractions.
    let body = send(
        "15",
        vec![
            json!({"accountAlias": "@alice", "share": {"percentage": 10}}),
            json!({"accountAlias": "@bob", "remaining": "rest"}),
        ],
        vec![leg("@carol", "15")],
    );
    let tx = fx.ok_tx("json", &body).await;
    assert_eq!(op(&tx, "@alice", "DEBIT")["amount"]["value"], "1.5");
    assert_eq!(op(&tx, "@bob", "DEBIT")["amount"]["value"], "13.5");
    fx.assert_balance("@alice", "98.5", "0", 4).await;
    fx.assert_balance("@bob", "96.5", "0", 4).await;
    fx.assert_balance("@carol", "20", "0", 3).await;

    // Shares that do not add up to the value are unbalanced.
    let body = send(
        "10",
        vec![leg("@alice", "10")],
        vec![
            json!({"accountAlias": "@bob", "share": {"percentage": 50}}),
            json!({"accountAlias": "@carol", "share": {"percentage": 40}}),
        ],
    );
    fx.reject("/transactions/json", &body, 400, "0073").await;

    // Percentages are integers, as JSON numbers (0094 otherwise).
    for share in [
        json!({"percentage": 33.5}),
        json!({"percentage": "60"}),
        json!({"percentage": 60, "percentageOfPercentage": 12.5}),
    ] {
        let body = send(
            "10",
            vec![leg("@alice", "10")],
            vec![json!({"accountAlias": "@bob", "share": share})],
        );
        fx.reject("/transactions/json", &body, 400, "0094").await;
    }
    fx.assert_conserved().await;
}

#[tokio::test]
async fn amounts_are_read_as_numbers_or_strings_and_written_without_trailing_zeros() {
    let fx = Fx::new(&["@alice", "@bob"]).await;
    // A JSON number with a trailing zero, exactly as sent.
    let raw = r#"{"send": {"asset": "USD", "value": 100.50,
        "distribute": {"to": [{"accountAlias": "@alice", "amount": {"asset": "USD", "value": 100.50}}]}}}"#;
    let reply = fx
        .call(Method::POST, "/transactions/inflow", Some(raw))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["amount"], "100.5");
    assert_eq!(
        op(&reply.body, "@alice", "CREDIT")["amount"]["value"],
        "100.5"
    );
    fx.assert_balance("@alice", "100.5", "0", 2).await;

    // Strings with trailing zeros; number and string mixed in one body.
    let tx = fx
        .ok_tx(
            "json",
            &json!({"send": {"asset": "USD", "value": "50.250",
                "source": {"from": [{"accountAlias": "@alice", "amount": {"asset": "USD", "value": 50.25}}]},
                "distribute": {"to": [leg("@bob", "50.2500")]}}}),
        )
        .await;
    assert_eq!(tx["amount"], "50.25");
    assert_eq!(op(&tx, "@bob", "CREDIT")["amount"]["value"], "50.25");
    fx.assert_balance("@alice", "50.25", "0", 3).await;
    fx.assert_balance("@bob", "50.25", "0", 2).await;

    let tx = fx.transfer("@bob", "@alice", "0.250").await;
    assert_eq!(tx["amount"], "0.25");
    fx.assert_balance("@bob", "50", "0", 3).await;
    fx.assert_balance("@alice", "50.5", "0", 4).await;
    fx.assert_balance(EXTERNAL, "100.5", "0", 2).await;

    let tx = fx.fund("@bob", "1000.000").await;
    assert_eq!(tx["amount"], "1000");
    fx.assert_balance("@bob", "1050", "0", 4).await;

    // A leg's amount.asset is not checked against send.asset: the leg moves send.asset.
    let body = send(
        "1",
        vec![json!({"accountAlias": "@bob", "amount": {"asset": "BRL", "value": "1"}})],
        vec![json!({"accountAlias": "@alice", "amount": {"value": 1}})],
    );
    let tx = fx.ok_tx("json", &body).await;
    assert_eq!(tx["assetCode"], "USD");
    assert_eq!(op(&tx, "@bob", "DEBIT")["assetCode"], "USD");
    fx.assert_balance("@bob", "1049", "0", 5).await;
    fx.assert_balance("@alice", "51.5", "0", 5).await;
    fx.assert_conserved().await;
}

// ---- validation ----------------------------------------------------------------------------

#[tokio::test]
async fn body_errors_are_reported_in_midaz_order_and_change_nothing() {
    let fx = Fx::new(&["@alice", "@bob", "@carol"]).await;
    fx.fund("@alice", "100").await;
    let json_path = "/transactions/json";
    let post = Method::POST;

    // 0094: not JSON, not an object, a wrong type, an amount that is no number.
    for raw in [
        r#"{"send": "#,
        "[]",
        r#"{"send": {"asset": 5, "value": "1"}}"#,
        r#"{"pending": "yes", "send": {"asset": "USD", "value": "1"}}"#,
        r#"{"send": {"asset": "USD", "value": true,
            "source": {"from": [{"accountAlias": "@alice", "amount": {"value": "1"}}]},
            "distribute": {"to": [{"accountAlias": "@bob", "amount": {"value": "1"}}]}}}"#,
        r#"{"send": {"asset": "USD", "value": "abc",
            "source": {"from": [{"accountAlias": "@alice", "amount": {"value": "1"}}]},
            "distribute": {"to": [{"accountAlias": "@bob", "amount": {"value": "1"}}]}}}"#,
        r#"{"send": {"asset": "USD", "value": "1", "source": {"from": {"accountAlias": "@alice"}}}}"#,
    ] {
        fx.reject_raw(post.clone(), json_path, Some(raw), 400, "0094")
            .await;
    }
    // 0094 comes before 0053.
    fx.reject_raw(
        post.clone(),
        json_path,
        Some(r#"{"colour": "red", "pending": 1}"#),
        400,
        "0094",
    )
    .await;

    // 0053: unknown fields, at the top and inside a leg, and fields a shortcut fills itself.
    let mut body = transfer_body("@alice", "@bob", "10");
    body["colour"] = json!("red");
    let reply = fx.reject(json_path, &body, 400, "0053").await;
    assert!(reply.body["fields"]["colour"].is_string(), "{}", reply.body);
    let mut body = transfer_body("@alice", "@bob", "10");
    body["send"]["source"]["from"][0]["colour"] = json!("red");
    let reply = fx.reject(json_path, &body, 400, "0053").await;
    assert_eq!(
        reply.body["fields"]
            .as_object()
            .map(|f| f.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["send.source.from[0].colour".to_owned()]),
        "{}",
        reply.body
    );
    fx.reject(
        "/transactions/inflow",
        &transfer_body("@alice", "@bob", "10"),
        400,
        "0053",
    )
    .await;
    fx.reject(
        "/transactions/inflow",
        &json!({"pending": true, "send": {"asset": "USD", "value": "1",
            "distribute": {"to": [leg("@bob", "1")]}}}),
        400,
        "0053",
    )
    .await;
    fx.reject(
        "/transactions/outflow",
        &transfer_body("@alice", "@bob", "10"),
        400,
        "0053",
    )
    .await;
    // 0053 comes before 0009.
    fx.reject(json_path, &json!({"colour": "red"}), 400, "0053")
        .await;

    // 0009: missing send, send.asset, legs, an alias.
    let reply = fx
        .reject(json_path, &json!({"description": "x"}), 400, "0009")
        .await;
    assert!(reply.body["fields"]["send"].is_string(), "{}", reply.body);
    let mut body = transfer_body("@alice", "@bob", "10");
    body["send"].as_object_mut().expect("send").remove("asset");
    let reply = fx.reject(json_path, &body, 400, "0009").await;
    assert!(
        reply.body["fields"]["send.asset"].is_string(),
        "{}",
        reply.body
    );
    let mut body = transfer_body("@alice", "@bob", "10");
    body["send"].as_object_mut().expect("send").remove("source");
    fx.reject(json_path, &body, 400, "0009").await;
    let mut body = transfer_body("@alice", "@bob", "10");
    body["send"]["distribute"]["to"] = json!([]);
    fx.reject(json_path, &body, 400, "0009").await;
    fx.reject(
        "/transactions/inflow",
        &json!({"send": {"asset": "USD", "value": "1"}}),
        400,
        "0009",
    )
    .await;
    fx.reject(
        "/transactions/outflow",
        &json!({"send": {"asset": "USD", "value": "1"}}),
        400,
        "0009",
    )
    .await;
    let body = send(
        "10",
        vec![json!({"amount": {"value": "10"}})],
        vec![leg("@bob", "10")],
    );
    fx.reject(json_path, &body, 400, "0009").await;
    // 0009 comes before 0125.
    let mut body = transfer_body("@alice", "@bob", "0");
    body["send"].as_object_mut().expect("send").remove("asset");
    fx.reject(json_path, &body, 400, "0009").await;

    // 0047 / 0050 / 0051 / 0067: field rules and metadata, at the top and on a leg.
    let mut body = transfer_body("@alice", "@bob", "10");
    body["description"] = json!("d".repeat(257));
    let reply = fx.reject(json_path, &body, 400, "0047").await;
    assert!(
        reply.body["fields"]["description"].is_string(),
        "{}",
        reply.body
    );
    for (metadata, code) in [
        (json!({"a": {"b": 1}}), "0067"),
        (json!({"k".repeat(101): "v"}), "0050"),
        (json!({"k": "v".repeat(2001)}), "0051"),
    ] {
        let mut body = transfer_body("@alice", "@bob", "10");
        body["metadata"] = metadata.clone();
        fx.reject(json_path, &body, 400, code).await;
        let mut body = transfer_body("@alice", "@bob", "10");
        body["send"]["distribute"]["to"][0]["metadata"] = metadata;
        fx.reject(json_path, &body, 400, code).await;
    }

    // 0072: a leg with two of amount/share/remaining, or none.
    for bad in [
        json!({"accountAlias": "@bob", "amount": {"value": "10"}, "share": {"percentage": 100}}),
        json!({"accountAlias": "@bob", "amount": {"value": "10"}, "remaining": "x"}),
        json!({"accountAlias": "@bob", "share": {"percentage": 100}, "remaining": "x"}),
        json!({"accountAlias": "@bob"}),
    ] {
        let body = send("10", vec![leg("@alice", "10")], vec![bad]);
        fx.reject(json_path, &body, 400, "0072").await;
    }

    // 0125: a value that is not positive (422), before the totals are checked.
    for value in ["0", "-5", "0.000"] {
        fx.reject(
            json_path,
            &transfer_body("@alice", "@bob", value),
            422,
            "0125",
        )
        .await;
    }
    let body = send("0", vec![leg("@alice", "10")], vec![leg("@bob", "3")]);
    fx.reject(json_path, &body, 422, "0125").await;
    fx.reject(
        "/transactions/inflow",
        &json!({"send": {"asset": "USD", "value": -1, "distribute": {"to": [leg("@bob", "-1")]}}}),
        422,
        "0125",
    )
    .await;

    // 0073: unbalanced (400), before any account is looked up.
    let body = send("100", vec![leg("@alice", "100")], vec![leg("@bob", "90")]);
    fx.reject(json_path, &body, 400, "0073").await;
    let body = send("100", vec![leg("@alice", "90")], vec![leg("@bob", "100")]);
    fx.reject(json_path, &body, 400, "0073").await;
    let body = send("100", vec![leg("@nobody", "100")], vec![leg("@bob", "90")]);
    fx.reject(json_path, &body, 400, "0073").await;

    // 0090: the same alias#key at the same index of both sides, found before the totals.
    fx.reject(
        json_path,
        &transfer_body("@alice", "@alice", "10"),
        400,
        "0090",
    )
    .await;
    let body = send("10", vec![leg("@alice", "10")], vec![leg("@alice", "9")]);
    fx.reject(json_path, &body, 400, "0090").await;
    let body = send(
        "10",
        vec![leg("@bob", "5"), leg("@alice", "5")],
        vec![leg("@carol", "5"), leg("@alice", "5")],
    );
    fx.reject(json_path, &body, 400, "0090").await;
    // At different indices the repeat is a balance-count mismatch: 0019 (422).
    let body = send(
        "10",
        vec![leg("@alice", "5"), leg("@bob", "5")],
        vec![leg("@carol", "5"), leg("@alice", "5")],
    );
    fx.reject(json_path, &body, 422, "0019").await;

    fx.assert_balance("@alice", "100", "0", 2).await;
    fx.assert_conserved().await;
}

#[tokio::test]
async fn balance_rules_are_checked_in_midaz_order_and_change_nothing() {
    let fx = Fx::new(&["@alice", "@bob"]).await;
    fx.asset_eur().await;
    fx.fund("@alice", "100").await;
    fx.fund("@bob", "50").await;
    let json_path = "/transactions/json";

    // 0019: an unknown alias, an unknown balance key, the same balance twice on one side.
    fx.reject(
        json_path,
        &transfer_body("@alice", "@nobody", "10"),
        422,
        "0019",
    )
    .await;
    fx.reject(
        json_path,
        &transfer_body("@nobody", "@bob", "10"),
        422,
        "0019",
    )
    .await;
    let mut body = transfer_body("@alice", "@bob", "10");
    body["send"]["distribute"]["to"][0]["balanceKey"] = json!("savings");
    fx.reject(json_path, &body, 422, "0019").await;
    let body = send(
        "10",
        vec![leg("@alice", "5"), leg("@alice", "5")],
        vec![leg("@bob", "10")],
    );
    fx.reject(json_path, &body, 422, "0019").await;
    // 0019 comes before 0034.
    let body = send(
        "10",
        vec![leg("@alice", "10")],
        vec![leg("@eve", "5"), leg("@nobody", "5")],
    );
    fx.reject(json_path, &body, 422, "0019").await;

    // 0034 (404): a balance in another asset than send.asset.
    fx.reject(
        json_path,
        &transfer_body("@alice", "@eve", "10"),
        404,
        "0034",
    )
    .await;
    let mut body = transfer_body("@alice", "@bob", "10");
    body["send"]["asset"] = json!("EUR");
    fx.reject(json_path, &body, 404, "0034").await;

    // 0024 (400): allowSending=false on a source, allowReceiving=false on a destination.
    let alice_balance = id_of(&fx.balance("@alice").await);
    let bob_balance = id_of(&fx.balance("@bob").await);
    let reply = fx
        .patch(
            &format!("/balances/{alice_balance}"),
            &json!({"allowSending": false}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["allowSending"], false);
    assert_eq!(reply.body["allowReceiving"], true);
    assert_eq!(fx.balance("@alice").await["allowSending"], false);
    fx.reject(
        json_path,
        &transfer_body("@alice", "@bob", "10"),
        400,
        "0024",
    )
    .await;
    // 0024 comes before 0018.
    fx.reject(
        json_path,
        &transfer_body("@alice", "@bob", "1000"),
        400,
        "0024",
    )
    .await;
    // A balance that may not send may still receive.
    fx.transfer("@bob", "@alice", "0.5").await;
    let reply = fx
        .patch(
            &format!("/balances/{alice_balance}"),
            &json!({"allowSending": true}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    fx.transfer("@alice", "@bob", "0.5").await;

    let reply = fx
        .patch(
            &format!("/balances/{bob_balance}"),
            &json!({"allowReceiving": false}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["allowReceiving"], false);
    assert_eq!(reply.body["allowSending"], true);
    fx.reject(
        json_path,
        &transfer_body("@alice", "@bob", "10"),
        400,
        "0024",
    )
    .await;
    fx.reject(
        "/transactions/inflow",
        &json!({"send": {"asset": "USD", "value": "1", "distribute": {"to": [leg("@bob", "1")]}}}),
        400,
        "0024",
    )
    .await;
    let reply = fx
        .patch(
            &format!("/balances/{bob_balance}"),
            &json!({"allowReceiving": true}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    fx.assert_balance("@alice", "100", "0", 4).await;
    fx.assert_balance("@bob", "50", "0", 4).await;

    // 0018 (422): insufficient funds on an internal account; @external may go negative.
    fx.reject(
        json_path,
        &transfer_body("@alice", "@bob", "100.01"),
        422,
        "0018",
    )
    .await;
    let body = send(
        "150.01",
        vec![leg("@alice", "100"), leg("@bob", "50.01")],
        vec![leg(EXTERNAL, "150.01")],
    );
    fx.reject(json_path, &body, 422, "0018").await;
    fx.reject(
        "/transactions/outflow",
        &json!({"send": {"asset": "USD", "value": "101",
            "source": {"from": [leg("@alice", "101")]}}}),
        422,
        "0018",
    )
    .await;
    // Exactly everything is fine.
    fx.transfer("@alice", "@bob", "100").await;
    fx.assert_balance("@alice", "0", "0", 5).await;
    fx.assert_balance("@bob", "150", "0", 5).await;
    fx.transfer(EXTERNAL, "@alice", "1000").await;
    fx.assert_balance(EXTERNAL, "1150", "0", 4).await;
    fx.assert_balance("@alice", "1000", "0", 6).await;

    // 0098 (422): @external as the source of a pending transaction, even when another leg
    // would lack funds.
    let mut body = transfer_body(EXTERNAL, "@bob", "10");
    body["pending"] = json!(true);
    fx.reject(json_path, &body, 422, "0098").await;
    let mut body = send(
        "5000",
        vec![leg(EXTERNAL, "10"), leg("@bob", "4990")],
        vec![leg("@alice", "5000")],
    );
    body["pending"] = json!(true);
    fx.reject(json_path, &body, 422, "0098").await;
    fx.assert_conserved().await;
}

#[tokio::test]
async fn transaction_dates_past_only_and_never_with_pending() {
    let fx = Fx::new(&["@alice", "@bob"]).await;
    fx.fund("@alice", "100").await;
    let json_path = "/transactions/json";

    let mut body = transfer_body("@alice", "@bob", "10");
    body["transactionDate"] = json!("2999-01-01T00:00:00Z");
    fx.reject(json_path, &body, 400, "0121").await;
    let tomorrow = OffsetDateTime::now_utc() + time::Duration::days(2);
    body["transactionDate"] = json!(tomorrow.format(&Rfc3339).expect("format"));
    fx.reject(json_path, &body, 400, "0121").await;

    let mut pending = transfer_body("@alice", "@bob", "10");
    pending["pending"] = json!(true);
    pending["transactionDate"] = json!("2020-01-01T00:00:00Z");
    fx.reject(json_path, &pending, 400, "0122").await;
    // The date checks come before the value check.
    pending["send"]["value"] = json!("0");
    fx.reject(json_path, &pending, 400, "0122").await;

    for past in ["2020-01-01T00:00:00Z", "2020-01-01T10:00:00", "2020-01-01"] {
        body["transactionDate"] = json!(past);
        body["description"] = json!(past);
        fx.ok_tx("json", &body).await;
    }
    fx.assert_balance("@alice", "70", "0", 5).await;
    fx.assert_balance("@bob", "30", "0", 4).await;
}

// ---- pending, commit, cancel ---------------------------------------------------------------

#[tokio::test]
async fn pending_commit_and_cancel_move_holds_step_by_step() {
    let fx = Fx::new(&["@alice", "@bob", "@carol"]).await;
    fx.fund("@alice", "100").await;
    fx.assert_balance("@alice", "100", "0", 2).await;

    // Pending: ON_HOLD on the source only.
    let mut body = transfer_body("@alice", "@bob", "40");
    body["pending"] = json!(true);
    let pending = fx.ok_tx("json", &body).await;
    let id = id_of(&pending);
    assert_eq!(pending["status"]["code"], "PENDING", "{pending}");
    assert_eq!(op_count(&pending), 1, "{pending}");
    let hold = op(&pending, "@alice", "ON_HOLD");
    assert_op(hold, "debit", "40", ("100", "0", 2), ("60", "40", 3));
    fx.assert_balance("@alice", "60", "40", 3).await;
    fx.assert_balance("@bob", "0", "0", 1).await;
    fx.assert_conserved().await;
    let read = fx.get(&format!("/transactions/{id}")).await;
    assert_eq!(read.body["status"]["code"], "PENDING");
    // Held funds are not available.
    fx.reject(
        "/transactions/json",
        &transfer_body("@alice", "@carol", "60.01"),
        422,
        "0018",
    )
    .await;

    // Commit: DEBIT of the hold, CREDIT of the destination.
    let reply = fx
        .post(&format!("/transactions/{id}/commit"), &json!({}))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let committed = reply.body;
    assert_eq!(id_of(&committed), id);
    assert_eq!(committed["status"]["code"], "APPROVED");
    assert_op(
        op(&committed, "@alice", "DEBIT"),
        "debit",
        "40",
        ("60", "40", 3),
        ("60", "0", 4),
    );
    assert_op(
        op(&committed, "@bob", "CREDIT"),
        "credit",
        "40",
        ("0", "0", 1),
        ("40", "0", 2),
    );
    fx.assert_balance("@alice", "60", "0", 4).await;
    fx.assert_balance("@bob", "40", "0", 2).await;
    let read = fx.get(&format!("/transactions/{id}")).await;
    assert_eq!(read.body["status"]["code"], "APPROVED");
    assert_eq!(op_count(&read.body), 3, "{}", read.body);

    // A committed transaction can be neither committed nor cancelled again.
    fx.reject(
        &format!("/transactions/{id}/commit"),
        &json!({}),
        422,
        "0099",
    )
    .await;
    fx.reject(
        &format!("/transactions/{id}/cancel"),
        &json!({}),
        422,
        "0099",
    )
    .await;

    // Cancel: RELEASE of the hold.
    let mut body = transfer_body("@alice", "@carol", "25");
    body["pending"] = json!(true);
    let pending = fx.ok_tx("json", &body).await;
    let id = id_of(&pending);
    fx.assert_balance("@alice", "35", "25", 5).await;
    let reply = fx
        .post(&format!("/transactions/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["status"]["code"], "CANCELED");
    assert_op(
        op(&reply.body, "@alice", "RELEASE"),
        "credit",
        "25",
        ("35", "25", 5),
        ("60", "0", 6),
    );
    assert!(
        reply.body["operations"]
            .as_array()
            .expect("operations")
            .iter()
            .all(|o| o["accountAlias"] != "@carol"),
        "{}",
        reply.body
    );
    fx.assert_balance("@alice", "60", "0", 6).await;
    fx.assert_balance("@carol", "0", "0", 1).await;
    let read = fx.get(&format!("/transactions/{id}")).await;
    assert_eq!(read.body["status"]["code"], "CANCELED");
    for action in ["commit", "cancel", "revert"] {
        let rest = format!("/transactions/{id}/{action}");
        fx.reject(&rest, &json!({}), 422, "0099").await;
    }

    // A pending outflow, committed, credits @external.
    let body = json!({"pending": true, "send": {"asset": "USD", "value": "10",
        "source": {"from": [leg("@bob", "10")]}}});
    let pending = fx.ok_tx("outflow", &body).await;
    assert_eq!(pending["status"]["code"], "PENDING");
    fx.assert_balance("@bob", "30", "10", 3).await;
    fx.assert_balance(EXTERNAL, "100", "0", 2).await;
    let reply = fx
        .post(
            &format!("/transactions/{}/commit", id_of(&pending)),
            &json!({}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    fx.assert_balance("@bob", "30", "0", 4).await;
    fx.assert_balance(EXTERNAL, "90", "0", 3).await;

    // A pending transaction needs funds to hold.
    let mut body = transfer_body("@alice", "@bob", "60.5");
    body["pending"] = json!(true);
    fx.reject("/transactions/json", &body, 422, "0018").await;

    for action in ["commit", "cancel", "revert"] {
        let rest = format!("/transactions/{MISSING_ID}/{action}");
        fx.reject(&rest, &json!({}), 404, "0070").await;
    }
    fx.assert_conserved().await;
}

// ---- revert --------------------------------------------------------------------------------

#[tokio::test]
async fn revert_moves_the_money_back_once() {
    let fx = Fx::new(&["@alice", "@bob", "@carol"]).await;
    let inflow = fx.fund("@alice", "100").await;
    let tx = fx.transfer("@alice", "@bob", "30").await;
    let id = id_of(&tx);
    fx.assert_balance("@alice", "70", "0", 3).await;
    fx.assert_balance("@bob", "30", "0", 2).await;

    let reply = fx
        .post(&format!("/transactions/{id}/revert"), &json!({}))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let reversal = reply.body;
    assert_ne!(id_of(&reversal), id);
    assert_eq!(reversal["parentTransactionId"], id.as_str());
    assert_eq!(reversal["status"]["code"], "CREATED");
    assert_eq!(reversal["amount"], "30");
    assert_eq!(reversal["source"], json!(["@bob"]));
    assert_eq!(reversal["destination"], json!(["@alice"]));
    assert_op(
        op(&reversal, "@bob", "DEBIT"),
        "debit",
        "30",
        ("30", "0", 2),
        ("0", "0", 3),
    );
    assert_op(
        op(&reversal, "@alice", "CREDIT"),
        "credit",
        "30",
        ("70", "0", 3),
        ("100", "0", 4),
    );
    fx.assert_balance("@alice", "100", "0", 4).await;
    fx.assert_balance("@bob", "0", "0", 3).await;
    let read = fx.get(&format!("/transactions/{}", id_of(&reversal))).await;
    assert_eq!(read.body["status"]["code"], "APPROVED");
    assert_eq!(read.body["parentTransactionId"], id.as_str());
    // The original is still APPROVED and has no parent.
    let read = fx.get(&format!("/transactions/{id}")).await;
    assert_eq!(read.body["status"]["code"], "APPROVED");
    assert!(
        read.body
            .get("parentTransactionId")
            .is_none_or(Value::is_null)
    );

    // Once only; a reversal is not reverted.
    fx.reject(
        &format!("/transactions/{id}/revert"),
        &json!({}),
        400,
        "0087",
    )
    .await;
    fx.reject(
        &format!("/transactions/{}/revert", id_of(&reversal)),
        &json!({}),
        400,
        "0088",
    )
    .await;

    // An annotation (NOTED) and a pending transaction are not APPROVED.
    let note = fx
        .ok_tx("annotation", &transfer_body("@alice", "@bob", "5"))
        .await;
    fx.reject(
        &format!("/transactions/{}/revert", id_of(&note)),
        &json!({}),
        422,
        "0099",
    )
    .await;
    let mut body = transfer_body("@alice", "@carol", "10");
    body["pending"] = json!(true);
    let pending = fx.ok_tx("json", &body).await;
    fx.reject(
        &format!("/transactions/{}/revert", id_of(&pending)),
        &json!({}),
        422,
        "0099",
    )
    .await;

    // A committed pending transaction reverts its settled amounts, not the hold.
    let reply = fx
        .post(
            &format!("/transactions/{}/commit", id_of(&pending)),
            &json!({}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    fx.assert_balance("@alice", "90", "0", 6).await;
    fx.assert_balance("@carol", "10", "0", 2).await;
    let reply = fx
        .post(
            &format!("/transactions/{}/revert", id_of(&pending)),
            &json!({}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["source"], json!(["@carol"]));
    assert_eq!(reply.body["destination"], json!(["@alice"]));
    assert_eq!(op_count(&reply.body), 2, "{}", reply.body);
    fx.assert_balance("@alice", "100", "0", 7).await;
    fx.assert_balance("@carol", "0", "0", 3).await;

    // An inflow reverts to @external.
    let reply = fx
        .post(
            &format!("/transactions/{}/revert", id_of(&inflow)),
            &json!({}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["parentTransactionId"], id_of(&inflow).as_str());
    assert_eq!(reply.body["source"], json!(["@alice"]));
    assert_eq!(reply.body["destination"], json!([EXTERNAL]));
    fx.assert_balance("@alice", "0", "0", 8).await;
    fx.assert_balance(EXTERNAL, "0", "0", 3).await;

    // Reverting needs the funds back (0018), like any transaction.
    fx.fund("@alice", "50").await;
    let tx = fx.transfer("@alice", "@bob", "50").await;
    fx.transfer("@bob", "@carol", "50").await;
    fx.reject(
        &format!("/transactions/{}/revert", id_of(&tx)),
        &json!({}),
        422,
        "0018",
    )
    .await;
    fx.reject(
        &format!("/transactions/{MISSING_ID}/revert"),
        &json!({}),
        404,
        "0070",
    )
    .await;
    fx.assert_conserved().await;
}

// ---- reads and updates ---------------------------------------------------------------------

#[tokio::test]
async fn get_and_patch_a_transaction() {
    let fx = Fx::new(&["@alice", "@bob"]).await;
    fx.fund("@alice", "100").await;
    let mut body = transfer_body("@alice", "@bob", "30");
    body["description"] = json!("rent");
    body["chartOfAccountsGroupName"] = json!("RENT");
    body["code"] = json!("TR-1");
    body["metadata"] = json!({"reference": "R-1"});
    let created = fx.ok_tx("json", &body).await;
    let id = id_of(&created);
    // `code` is kept with the request, never returned.
    assert!(created.get("code").is_none(), "{created}");
    assert_eq!(created["description"], "rent");
    assert_eq!(created["chartOfAccountsGroupName"], "RENT");
    assert_eq!(created["metadata"], json!({"reference": "R-1"}));
    // Operations default their description to the transaction's.
    assert_eq!(op(&created, "@alice", "DEBIT")["description"], "rent");

    let read = fx.get(&format!("/transactions/{id}")).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["status"]["code"], "APPROVED");
    assert_eq!(read.body["amount"], "30");
    assert_eq!(read.body["metadata"], json!({"reference": "R-1"}));
    let mut created_ops = ids(&created["operations"]);
    let mut read_ops = ids(&read.body["operations"]);
    created_ops.sort();
    read_ops.sort();
    assert_eq!(created_ops, read_ops);
    for o in read.body["operations"].as_array().expect("operations") {
        assert_eq!(o["transactionId"], id.as_str());
        assert_eq!(
            o["accountId"],
            fx.accounts[o["accountAlias"].as_str().expect("alias")]["id"]
        );
    }

    fx.reject_raw(
        Method::GET,
        &format!("/transactions/{MISSING_ID}"),
        None,
        404,
        "0070",
    )
    .await;
    // A ledger that does not exist.
    let ledgers = fx.ledger.rsplit_once('/').expect("ledger path").0;
    let reply = fx
        .app
        .post(
            &format!("{ledgers}/{MISSING_ID}/transactions/json"),
            transfer_body("@alice", "@bob", "1"),
        )
        .await;
    assert_error(&reply, 404, "0037");
    fx.reject_raw(Method::GET, "/transactions/not-a-uuid", None, 400, "0065")
        .await;

    // PATCH: description and metadata only.
    let reply = fx
        .patch(
            &format!("/transactions/{id}"),
            &json!({"description": "rent, March", "metadata": {"period": "2026-03"}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["description"], "rent, March");
    assert_eq!(reply.body["metadata"]["period"], "2026-03");
    assert_eq!(reply.body["amount"], "30");
    assert_eq!(reply.body["status"]["code"], "APPROVED");
    let read = fx.get(&format!("/transactions/{id}")).await;
    assert_eq!(read.body["description"], "rent, March");
    assert_eq!(read.body["metadata"]["period"], "2026-03");
    assert_eq!(read.body["amount"], "30");
    assert_eq!(read.body["status"]["code"], "APPROVED");
    let reply = fx
        .patch(&format!("/transactions/{id}"), &json!({"description": "x"}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["metadata"]["period"], "2026-03");

    fx.reject_raw(
        Method::PATCH,
        &format!("/transactions/{id}"),
        Some(r#"{"amount": "1"}"#),
        400,
        "0053",
    )
    .await;
    fx.reject_raw(
        Method::PATCH,
        &format!("/transactions/{id}"),
        Some(r#"{"description": 5}"#),
        400,
        "0094",
    )
    .await;
    fx.reject_raw(
        Method::PATCH,
        &format!("/transactions/{MISSING_ID}"),
        Some(r#"{"description": "x"}"#),
        404,
        "0070",
    )
    .await;
    fx.assert_balance("@alice", "70", "0", 3).await;
}

#[tokio::test]
async fn list_transactions_by_cursor_both_ways_and_count() {
    let fx = Fx::new(&["@alice"]).await;
    let mut created = Vec::new();
    for n in 1..=25 {
        created.push(id_of(&fx.fund("@alice", &n.to_string()).await));
    }

    // Forwards: every id exactly once, in creation order.
    let mut pages = Vec::new();
    let mut rest = "/transactions?limit=10".to_owned();
    loop {
        let reply = fx.get(&rest).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body["limit"], 10);
        assert!(reply.body.get("page").is_none(), "{}", reply.body);
        let next = reply.body["next_cursor"].as_str().map(str::to_owned);
        pages.push(reply.body);
        match next {
            Some(cursor) => {
                assert_eq!(cursor_json(&cursor)["direction"], "next");
                rest = format!("/transactions?limit=10&cursor={cursor}");
            }
            None => break,
        }
    }
    assert_eq!(pages.len(), 3);
    assert!(pages[0].get("prev_cursor").is_none(), "{}", pages[0]);
    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p["items"].as_array().expect("items").len())
        .collect();
    assert_eq!(sizes, vec![10, 10, 5]);
    let walked: Vec<String> = pages.iter().flat_map(|p| ids(&p["items"])).collect();
    assert_eq!(walked, created);
    // Each listed transaction carries its operations.
    assert_eq!(op_count(&pages[0]["items"][0]), 2);
    assert_eq!(pages[0]["items"][0]["status"]["code"], "APPROVED");

    // Backwards from the last page with prev_cursor.
    let mut prev = pages[2]["prev_cursor"]
        .as_str()
        .expect("prev_cursor on the last page")
        .to_owned();
    let cursor = cursor_json(&prev);
    assert_eq!(cursor["direction"], "prev");
    assert_eq!(cursor["id"], created[20].as_str());
    let mut back = Vec::new();
    loop {
        let reply = fx
            .get(&format!("/transactions?limit=10&cursor={prev}"))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(reply.body["next_cursor"].is_string(), "{}", reply.body);
        back.push(ids(&reply.body["items"]));
        match reply.body["prev_cursor"].as_str() {
            Some(cursor) => prev = cursor.to_owned(),
            None => break,
        }
    }
    assert_eq!(back, vec![created[10..20].to_vec(), created[..10].to_vec()]);

    // Newest first.
    let mut desc = Vec::new();
    let mut rest = "/transactions?limit=10&sort_order=desc".to_owned();
    loop {
        let reply = fx.get(&rest).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        desc.extend(ids(&reply.body["items"]));
        match reply.body["next_cursor"].as_str() {
            Some(cursor) => {
                rest = format!("/transactions?limit=10&sort_order=desc&cursor={cursor}")
            }
            None => break,
        }
    }
    let mut reversed = created.clone();
    reversed.reverse();
    assert_eq!(desc, reversed);
    // …and back again from the last descending page.
    let last = fx.get(&rest).await;
    let prev = last.body["prev_cursor"].as_str().expect("prev_cursor");
    let reply = fx
        .get(&format!(
            "/transactions?limit=10&sort_order=desc&cursor={prev}"
        ))
        .await;
    assert_eq!(ids(&reply.body["items"]), reversed[10..20].to_vec());

    let reply = fx.get("/transactions").await;
    assert_eq!(reply.body["limit"], 10);
    assert_eq!(ids(&reply.body["items"]), created[..10].to_vec());
    for (query, code) in [
        ("cursor=not-a-cursor", "0082"),
        ("limit=101", "0080"),
        ("sort_order=sideways", "0081"),
    ] {
        let reply = fx.get(&format!("/transactions?{query}")).await;
        assert_error(&reply, 400, code);
    }

    // HEAD …/metrics/count: today's transactions.
    let reply = fx
        .call(Method::HEAD, "/transactions/metrics/count", None)
        .await;
    assert_eq!(reply.status, 204);
    assert!(reply.body.is_null());
    assert_eq!(reply.header("X-Total-Count").as_deref(), Some("25"));
    let reply = fx
        .call(
            Method::HEAD,
            "/transactions/metrics/count?status=PENDING",
            None,
        )
        .await;
    assert_eq!(reply.status, 204);
    assert_eq!(reply.header("X-Total-Count").as_deref(), Some("0"));
    let reply = fx
        .call(
            Method::HEAD,
            "/transactions/metrics/count?status=APPROVED",
            None,
        )
        .await;
    assert_eq!(reply.header("X-Total-Count").as_deref(), Some("25"));
    let reply = fx
        .call(
            Method::HEAD,
            "/transactions/metrics/count?start_date=2020-01-01&end_date=2020-01-02",
            None,
        )
        .await;
    assert_eq!(reply.status, 204);
    assert_eq!(reply.header("X-Total-Count").as_deref(), Some("0"));
}

#[tokio::test]
async fn account_operations_list_get_and_patch() {
    let fx = Fx::new(&["@alice", "@bob"]).await;
    let inflow = fx.fund("@alice", "100").await;
    let tx = fx.transfer("@alice", "@bob", "30").await;
    let alice = fx.account_id("@alice");
    let bob = fx.account_id("@bob");

    let reply = fx.get(&format!("/accounts/{alice}/operations")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["limit"], 10);
    let items = reply.body["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 2, "{}", reply.body);
    let credit = op(&inflow, "@alice", "CREDIT");
    let debit = op(&tx, "@alice", "DEBIT");
    assert_eq!(ids(&reply.body["items"]), vec![id_of(credit), id_of(debit)]);
    assert_eq!(items[0]["type"], "CREDIT");
    assert_eq!(items[1]["type"], "DEBIT");
    assert_eq!(items[1]["balance"]["available"], "100");
    assert_eq!(items[1]["balanceAfter"]["available"], "70");

    let reply = fx
        .get(&format!("/accounts/{alice}/operations?type=DEBIT"))
        .await;
    assert_eq!(ids(&reply.body["items"]), vec![id_of(debit)]);
    let reply = fx
        .get(&format!("/accounts/{alice}/operations?limit=1"))
        .await;
    assert_eq!(ids(&reply.body["items"]), vec![id_of(credit)]);
    let cursor = reply.body["next_cursor"].as_str().expect("next_cursor");
    let reply = fx
        .get(&format!(
            "/accounts/{alice}/operations?limit=1&cursor={cursor}"
        ))
        .await;
    assert_eq!(ids(&reply.body["items"]), vec![id_of(debit)]);

    let reply = fx
        .get(&format!("/accounts/{alice}/operations/{}", id_of(debit)))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body, items[1]);

    for rest in [
        format!("/accounts/{alice}/operations/{MISSING_ID}"),
        // Bob's operation is not one of Alice's.
        format!(
            "/accounts/{alice}/operations/{}",
            id_of(op(&tx, "@bob", "CREDIT"))
        ),
    ] {
        fx.reject_raw(Method::GET, &rest, None, 404, "0068").await;
    }

    // PATCH an operation: description and metadata.
    let rest = format!("/transactions/{}/operations/{}", id_of(&tx), id_of(debit));
    let reply = fx
        .patch(
            &rest,
            &json!({"description": "paid", "metadata": {"k": "v"}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["description"], "paid");
    assert_eq!(reply.body["metadata"], json!({"k": "v"}));
    assert_eq!(reply.body["amount"]["value"], "30");
    let read = fx
        .get(&format!("/accounts/{alice}/operations/{}", id_of(debit)))
        .await;
    assert_eq!(read.body["description"], "paid");
    assert_eq!(read.body["metadata"], json!({"k": "v"}));
    assert_eq!(read.body["balanceAfter"], items[1]["balanceAfter"]);

    for (rest, status, code) in [
        // An operation of another transaction.
        (
            format!(
                "/transactions/{}/operations/{}",
                id_of(&inflow),
                id_of(debit)
            ),
            404,
            "0068",
        ),
        (
            format!("/transactions/{}/operations/{MISSING_ID}", id_of(&tx)),
            404,
            "0068",
        ),
        (
            format!("/transactions/{MISSING_ID}/operations/{}", id_of(debit)),
            404,
            "0070",
        ),
    ] {
        fx.reject_raw(
            Method::PATCH,
            &rest,
            Some(r#"{"description": "x"}"#),
            status,
            code,
        )
        .await;
    }
    fx.reject_raw(
        Method::PATCH,
        &rest,
        Some(r#"{"type": "CREDIT"}"#),
        400,
        "0053",
    )
    .await;

    fx.reject_raw(
        Method::GET,
        &format!("/accounts/{MISSING_ID}/operations"),
        None,
        404,
        "0052",
    )
    .await;
    fx.reject_raw(
        Method::GET,
        &format!("/accounts/{alice}/operations?type=SIDEWAYS"),
        None,
        400,
        "0082",
    )
    .await;
    let reply = fx.get(&format!("/accounts/{bob}/operations")).await;
    assert_eq!(reply.body["items"].as_array().map(Vec::len), Some(1));
}

// ---- balances ------------------------------------------------------------------------------

#[tokio::test]
async fn balance_reads_by_id_account_alias_and_external_code() {
    let fx = Fx::new(&["@alice", "@bob"]).await;
    fx.fund("@alice", "100").await;
    let alice = fx.account_id("@alice");

    let all = fx.get("/balances").await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.body["limit"], 10);
    let items = all.body["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 3, "{}", all.body);

    let by_alias = fx.balance("@alice").await;
    assert_eq!(by_alias["alias"], "@alice");
    assert_eq!(by_alias["key"], "default");
    assert_eq!(by_alias["accountId"], alice.as_str());
    assert_eq!(by_alias["assetCode"], "USD");
    assert_eq!(by_alias["available"], "100");
    assert_eq!(by_alias["onHold"], "0");
    assert_eq!(by_alias["allowSending"], true);
    assert_eq!(by_alias["allowReceiving"], true);

    let by_id = fx.get(&format!("/balances/{}", id_of(&by_alias))).await;
    assert_eq!(by_id.status, 200, "{}", by_id.body);
    assert_eq!(by_id.body, by_alias);
    assert!(items.contains(&by_alias));

    let by_account = fx.get(&format!("/accounts/{alice}/balances")).await;
    assert_eq!(by_account.status, 200, "{}", by_account.body);
    assert_eq!(by_account.body["limit"], 10);
    assert_eq!(by_account.body["items"], json!([by_alias]));

    let external = fx.balance(EXTERNAL).await;
    assert_eq!(external["alias"], EXTERNAL);
    assert_eq!(external["available"], "100");
    assert_eq!(external["accountType"], "external");

    fx.reject_raw(
        Method::GET,
        &format!("/balances/{MISSING_ID}"),
        None,
        404,
        "0092",
    )
    .await;
}

#[tokio::test]
async fn additional_balance_keys_transfers_and_deletion() {
    let fx = Fx::new(&["@alice", "@bob"]).await;
    fx.fund("@alice", "100").await;
    let alice = fx.account_id("@alice");
    let rest = format!("/accounts/{alice}/balances");

    let reply = fx.post(&rest, &json!({"key": "Savings"})).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let savings = reply.body;
    assert_eq!(savings["key"], "savings");
    assert_eq!(savings["alias"], "@alice");
    assert_eq!(savings["accountId"], alice.as_str());
    assert_eq!(savings["assetCode"], "USD");
    assert_eq!(savings["available"], "0");
    assert_eq!(savings["onHold"], "0");
    assert_eq!(savings["allowSending"], true);
    assert_eq!(savings["allowReceiving"], true);
    let version = savings["version"].as_i64().expect("version");

    fx.reject(&rest, &json!({"key": "SAVINGS"}), 409, "0123")
        .await;
    fx.reject(&rest, &json!({"key": "default"}), 409, "0123")
        .await;
    fx.reject(&rest, &json!({"key": "overdraft"}), 400, "0170")
        .await;
    fx.reject(&rest, &json!({"key": "Overdraft"}), 400, "0170")
        .await;
    fx.reject(&rest, &json!({}), 400, "0009").await;
    fx.reject(&rest, &json!({"key": "a b"}), 400, "0047").await;
    fx.reject(&rest, &json!({"key": "x", "colour": "red"}), 400, "0053")
        .await;
    let external = fx.get("/accounts/external/USD").await;
    assert_eq!(external.status, 200, "{}", external.body);
    fx.reject(
        &format!("/accounts/{}/balances", id_of(&external.body)),
        &json!({"key": "savings"}),
        400,
        "0124",
    )
    .await;
    fx.reject(
        &format!("/accounts/{MISSING_ID}/balances"),
        &json!({"key": "savings"}),
        404,
        "0052",
    )
    .await;

    // Between two keys of one account, then out of the additional key by balanceKey.
    let mut body = transfer_body("@alice", "@alice", "40");
    body["send"]["distribute"]["to"][0]["balanceKey"] = json!("savings");
    let tx = fx.ok_tx("json", &body).await;
    // Aliases are listed without their keys.
    assert_eq!(tx["source"], json!(["@alice"]));
    assert_eq!(tx["destination"], json!(["@alice"]));
    let credit = tx["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .find(|o| o["type"] == "CREDIT")
        .expect("credit");
    assert_eq!(credit["balanceKey"], "savings");
    assert_eq!(credit["balanceId"], savings["id"]);
    assert_op(
        credit,
        "credit",
        "40",
        ("0", "0", version),
        ("40", "0", version + 1),
    );
    assert_eq!(fx.balance_key("@alice", "savings").await["available"], "40");
    fx.assert_balance("@alice", "60", "0", 3).await;
    let mut body = transfer_body("@alice", "@bob", "15");
    body["send"]["source"]["from"][0]["balanceKey"] = json!("savings");
    fx.ok_tx("json", &body).await;
    let savings_now = fx.balance_key("@alice", "savings").await;
    assert_eq!(savings_now["available"], "25");
    assert_eq!(savings_now["version"], version + 2);
    fx.assert_balance("@alice", "60", "0", 3).await;
    fx.assert_balance("@bob", "15", "0", 2).await;
    assert_eq!(fx.balances_of("@alice").await.len(), 2);
    let by_account = fx.get(&rest).await;
    assert_eq!(by_account.body["items"].as_array().map(Vec::len), Some(2));

    // A balance with funds cannot be deleted; an empty one can.
    let savings_path = format!("/balances/{}", id_of(&savings));
    fx.reject_raw(Method::DELETE, &savings_path, None, 400, "0093")
        .await;
    let mut body = transfer_body("@alice", "@bob", "25");
    body["send"]["source"]["from"][0]["balanceKey"] = json!("savings");
    fx.ok_tx("json", &body).await;
    let reply = fx.call(Method::DELETE, &savings_path, None).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert!(reply.body.is_null());
    let reply = fx.get(&savings_path).await;
    assert_error(&reply, 404, "0092");
    assert_eq!(fx.balances_of("@alice").await.len(), 1);
    fx.reject_raw(Method::DELETE, &savings_path, None, 404, "0092")
        .await;
    // Its key no longer takes part in transactions.
    let mut body = transfer_body("@bob", "@alice", "1");
    body["send"]["distribute"]["to"][0]["balanceKey"] = json!("savings");
    fx.reject("/transactions/json", &body, 422, "0019").await;
    // A pending hold is not zero either.
    let mut body = transfer_body("@bob", "@alice", "40");
    body["pending"] = json!(true);
    fx.ok_tx("json", &body).await;
    let bob_balance = format!("/balances/{}", id_of(&fx.balance("@bob").await));
    fx.assert_balance("@bob", "0", "40", 4).await;
    fx.reject_raw(Method::DELETE, &bob_balance, None, 400, "0093")
        .await;
    fx.assert_conserved().await;
}

#[tokio::test]
async fn balance_history_at_a_point_in_time() {
    let fx = Fx::new(&["@alice", "@bob"]).await;
    let balance = fx.balance("@alice").await;
    let balance_id = id_of(&balance);
    let alice = fx.account_id("@alice");
    let created = parse_time(balance["createdAt"].as_str().expect("createdAt"));

    let first = fx.fund("@alice", "100").await;
    let t1 = parse_time(first["createdAt"].as_str().expect("createdAt"));
    // Let the clock pass a whole second so that t1 and t2 fall in different seconds.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let second = fx.transfer("@alice", "@bob", "30").await;
    let t2 = parse_time(second["createdAt"].as_str().expect("createdAt"));
    assert!(t2 - t1 > time::Duration::seconds(1));

    let history = |date: String| format!("/balances/{balance_id}/history?date={date}");
    let reply = fx.get(&history(query_second(t1, 1))).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["id"], balance_id.as_str());
    assert_eq!(reply.body["available"], "100");
    assert_eq!(reply.body["onHold"], "0");
    assert_eq!(reply.body["version"], 2);
    assert!(reply.body.get("allowSending").is_none(), "{}", reply.body);
    assert!(reply.body.get("allowReceiving").is_none(), "{}", reply.body);
    let reply = fx.get(&history(query_second(t2, 1))).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["available"], "70");
    assert_eq!(reply.body["version"], 3);
    // RFC 3339 is a date with a time too.
    let reply = fx
        .get(&history(
            (t2 + time::Duration::seconds(1))
                .format(&Rfc3339)
                .expect("format"),
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["available"], "70");

    fx.reject_raw(
        Method::GET,
        &history(query_second(created, -1)),
        None,
        404,
        "0141",
    )
    .await;
    fx.reject_raw(
        Method::GET,
        &format!("/balances/{balance_id}/history"),
        None,
        400,
        "0142",
    )
    .await;
    for bad in ["2026-01-02", "yesterday", "2026-13-40%2010:00:00"] {
        fx.reject_raw(Method::GET, &history(bad.to_owned()), None, 400, "0131")
            .await;
    }
    fx.reject_raw(
        Method::GET,
        &format!(
            "/balances/{MISSING_ID}/history?date={}",
            query_second(t2, 1)
        ),
        None,
        404,
        "0092",
    )
    .await;

    // All balances of the account at a time.
    let account_history = |date: String| format!("/accounts/{alice}/balances/history?date={date}");
    let reply = fx.get(&account_history(query_second(t1, 1))).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let items = reply.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{}", reply.body);
    assert_eq!(items[0]["id"], balance_id.as_str());
    assert_eq!(items[0]["available"], "100");
    let reply = fx.get(&account_history(query_second(t2, 1))).await;
    assert_eq!(reply.body["items"][0]["available"], "70");
    fx.reject_raw(
        Method::GET,
        &account_history(query_second(created, -1)),
        None,
        404,
        "0141",
    )
    .await;
    fx.reject_raw(
        Method::GET,
        &format!("/accounts/{alice}/balances/history"),
        None,
        400,
        "0142",
    )
    .await;
    fx.reject_raw(
        Method::GET,
        &account_history("2026-01-02".to_owned()),
        None,
        400,
        "0131",
    )
    .await;
}

// ---- idempotency ---------------------------------------------------------------------------

#[tokio::test]
async fn idempotent_replays_move_money_once() {
    let fx = Fx::new(&["@alice", "@bob"]).await;
    let key = [("X-Idempotency", "payment-1")];

    let first = fx.inflow_with(&inflow_body("@alice", "100"), &key).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(
        first.header("X-Idempotency-Replayed").as_deref(),
        Some("false")
    );
    let state = fx.state().await;

    // Same key, same body: the first response again, nothing moves.
    let again = fx.inflow_with(&inflow_body("@alice", "100"), &key).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(
        again.header("X-Idempotency-Replayed").as_deref(),
        Some("true")
    );
    assert_eq!(again.body, first.body);
    assert_eq!(again.body["status"]["code"], "CREATED");
    // Same key, another body: still the first response.
    let other = fx.inflow_with(&inflow_body("@bob", "999"), &key).await;
    assert_eq!(other.status, 201, "{}", other.body);
    assert_eq!(
        other.header("X-Idempotency-Replayed").as_deref(),
        Some("true")
    );
    assert_eq!(other.body, first.body);
    assert_eq!(fx.state().await, state);
    fx.assert_balance("@alice", "100", "0", 2).await;
    fx.assert_balance("@bob", "0", "0", 1).await;
    assert_eq!(fx.transaction_count().await, 1);

    // Keys are per ledger... and per key: another key is another transaction.
    let next = fx
        .inflow_with(
            &inflow_body("@alice", "100"),
            &[("X-Idempotency", "payment-2")],
        )
        .await;
    assert_eq!(next.status, 201, "{}", next.body);
    assert_eq!(
        next.header("X-Idempotency-Replayed").as_deref(),
        Some("false")
    );
    assert_ne!(next.body["id"], first.body["id"]);
    fx.assert_balance("@alice", "200", "0", 3).await;

    // No header: the body's hash is the key.
    let body = inflow_body("@bob", "7");
    let first = fx.inflow_with(&body, &[]).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(
        first.header("X-Idempotency-Replayed").as_deref(),
        Some("false")
    );
    let second = fx.inflow_with(&body, &[]).await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(
        second.header("X-Idempotency-Replayed").as_deref(),
        Some("true")
    );
    assert_eq!(second.body, first.body);
    // The same input spelled with other spacing and key order is the same input.
    let respelled = r#"{ "send" : { "distribute": {"to": [ {"amount": {"value": "7", "asset": "USD"},
        "accountAlias": "@bob"} ]}, "value": "7", "asset": "USD" } }"#;
    let third = fx
        .send(Method::POST, "/transactions/inflow", Some(respelled), &[])
        .await;
    assert_eq!(third.status, 201, "{}", third.body);
    assert_eq!(
        third.header("X-Idempotency-Replayed").as_deref(),
        Some("true")
    );
    assert_eq!(third.body, first.body);
    fx.assert_balance("@bob", "7", "0", 2).await;
    let different = fx.inflow_with(&inflow_body("@bob", "8"), &[]).await;
    assert_eq!(
        different.header("X-Idempotency-Replayed").as_deref(),
        Some("false")
    );
    fx.assert_balance("@bob", "15", "0", 3).await;
    assert_eq!(fx.transaction_count().await, 4);
    fx.assert_conserved().await;
}

/// A replay renders the transaction its key created from the journal until that transaction
/// changes; whatever changes later (PATCH of it or of an operation, commit, cancel), a replay
/// still answers the first body.
#[tokio::test]
async fn a_replay_answers_the_first_body_after_the_transaction_changes() {
    let fx = Fx::new(&["@alice", "@bob", "@carol"]).await;
    fx.fund("@alice", "100").await;
    // Sends `body` to `rest` under `key`: 201, and the same body again when replayed.
    let post = |rest: &str, body: Option<&Value>, key: &'static str| {
        let (fx, rest, body) = (&fx, rest.to_owned(), body.map(|b| b.to_string()));
        async move {
            let reply = fx
                .send(
                    Method::POST,
                    &rest,
                    body.as_deref(),
                    &[("X-Idempotency", key)],
                )
                .await;
            assert_eq!(reply.status, 201, "{}", reply.body);
            reply
        }
    };
    let replays_first = |rest: &str, body: Option<&Value>, key: &'static str, first: &Value| {
        let (post, first) = (&post, first.clone());
        let (rest, body) = (rest.to_owned(), body.cloned());
        async move {
            let again = post(&rest, body.as_ref(), key).await;
            assert_eq!(
                again.header("X-Idempotency-Replayed").as_deref(),
                Some("true")
            );
            assert_eq!(again.body, first);
        }
    };
    let change = |method: &'static str, rest: String, body: Value| {
        let fx = &fx;
        async move {
            let reply = if method == "PATCH" {
                fx.patch(&rest, &body).await
            } else {
                fx.post(&rest, &body).await
            };
            assert!(reply.status.is_success(), "{}", reply.body);
            reply.body
        }
    };
    let json = "/transactions/json";

    // Pending, with trailing zeros, per-leg descriptions and metadata of every JSON kind;
    // PATCHed, then committed.
    let mut body = send(
        "12.50",
        vec![leg("@alice", "12.50")],
        vec![leg("@bob", "10.250"), leg("@carol", "2.25")],
    );
    body["pending"] = json!(true);
    body["description"] = json!("split");
    body["metadata"] = json!({"n": 1.5, "big": 12345678901234567u64, "s": "x", "b": true});
    body["send"]["distribute"]["to"][0]["description"] = json!("bob's part");
    body["send"]["distribute"]["to"][1]["metadata"] = json!({"leg": 2});
    let pending = post(json, Some(&body), "pending-1").await.body;
    assert_eq!(pending["status"]["code"], "PENDING");
    replays_first(json, Some(&body), "pending-1", &pending).await;
    let id = id_of(&pending);
    let patched = change(
        "PATCH",
        format!("/transactions/{id}"),
        json!({"description": "changed", "metadata": {"n": 2}}),
    )
    .await;
    assert_eq!(patched["description"], "changed");
    replays_first(json, Some(&body), "pending-1", &pending).await;
    let committed = change("POST", format!("/transactions/{id}/commit"), json!({})).await;
    assert_eq!(committed["status"]["code"], "APPROVED");
    replays_first(json, Some(&body), "pending-1", &pending).await;

    // Immediate: answered CREATED (stored APPROVED); then an operation is PATCHed.
    let body = transfer_body("@bob", "@carol", "3");
    let created = post(json, Some(&body), "transfer-1").await.body;
    assert_eq!(created["status"]["code"], "CREATED");
    let tx = id_of(&created);
    let debit = id_of(op(&created, "@bob", "DEBIT"));
    change(
        "PATCH",
        format!("/transactions/{tx}/operations/{debit}"),
        json!({"description": "noted", "metadata": {"k": "v"}}),
    )
    .await;
    replays_first(json, Some(&body), "transfer-1", &created).await;

    // A revert sent with a key, then PATCHed.
    let revert = format!("/transactions/{tx}/revert");
    let reverted = post(&revert, None, "undo-1").await.body;
    assert_eq!(reverted["status"]["code"], "CREATED");
    let rest = format!("/transactions/{}", id_of(&reverted));
    change("PATCH", rest, json!({"metadata": {"why": "mistake"}})).await;
    replays_first(&revert, None, "undo-1", &reverted).await;

    // Pending, replayed while unchanged, then canceled.
    let mut body = transfer_body("@alice", "@bob", "5");
    body["pending"] = json!(true);
    let pending = post(json, Some(&body), "pending-2").await.body;
    replays_first(json, Some(&body), "pending-2", &pending).await;
    let rest = format!("/transactions/{}/cancel", id_of(&pending));
    let canceled = change("POST", rest, json!({})).await;
    assert_eq!(canceled["status"]["code"], "CANCELED");
    replays_first(json, Some(&body), "pending-2", &pending).await;
    fx.assert_balance("@alice", "87.5", "0", 6).await;
    fx.assert_conserved().await;
}

#[tokio::test]
async fn a_failed_request_does_not_burn_its_key() {
    let fx = Fx::new(&["@alice", "@bob"]).await;
    fx.fund("@alice", "100").await;
    let key = [("X-Idempotency", "retry-me")];
    let before = fx.state().await;

    // Business failure (0018), then a body failure (0073), under the same key.
    let failed = fx
        .send(
            Method::POST,
            "/transactions/json",
            Some(&transfer_body("@alice", "@bob", "500").to_string()),
            &key,
        )
        .await;
    assert_error(&failed, 422, "0018");
    let body = send("5", vec![leg("@alice", "5")], vec![leg("@bob", "4")]);
    let failed = fx
        .send(
            Method::POST,
            "/transactions/json",
            Some(&body.to_string()),
            &key,
        )
        .await;
    assert_error(&failed, 400, "0073");
    assert_eq!(fx.state().await, before);

    // The corrected retry goes through, and is then replayed.
    let fixed = transfer_body("@alice", "@bob", "50").to_string();
    let ok = fx
        .send(Method::POST, "/transactions/json", Some(&fixed), &key)
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(
        ok.header("X-Idempotency-Replayed").as_deref(),
        Some("false")
    );
    let replay = fx
        .send(Method::POST, "/transactions/json", Some(&fixed), &key)
        .await;
    assert_eq!(replay.status, 201, "{}", replay.body);
    assert_eq!(
        replay.header("X-Idempotency-Replayed").as_deref(),
        Some("true")
    );
    assert_eq!(replay.body, ok.body);
    fx.assert_balance("@alice", "50", "0", 3).await;
    fx.assert_balance("@bob", "50", "0", 2).await;

    // Without a header too: a failed body can be sent again once it can succeed.
    let body = transfer_body("@bob", "@alice", "80");
    let failed = fx.inflow_with(&json!({}), &[]).await;
    assert_error(&failed, 400, "0009");
    let failed = fx
        .send(
            Method::POST,
            "/transactions/json",
            Some(&body.to_string()),
            &[],
        )
        .await;
    assert_error(&failed, 422, "0018");
    fx.fund("@bob", "30").await;
    let ok = fx
        .send(
            Method::POST,
            "/transactions/json",
            Some(&body.to_string()),
            &[],
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(
        ok.header("X-Idempotency-Replayed").as_deref(),
        Some("false")
    );
    fx.assert_balance("@bob", "0", "0", 4).await;
    fx.assert_balance("@alice", "130", "0", 4).await;
}

#[tokio::test]
async fn an_idempotency_key_expires_after_its_ttl() {
    let fx = Fx::new(&["@alice"]).await;
    let headers = [("X-Idempotency", "short-lived"), ("X-TTL", "1")];
    let body = inflow_body("@alice", "10");
    let first = fx.inflow_with(&body, &headers).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let replay = fx.inflow_with(&body, &headers).await;
    assert_eq!(
        replay.header("X-Idempotency-Replayed").as_deref(),
        Some("true")
    );
    assert_eq!(replay.body, first.body);
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    let fresh = fx.inflow_with(&body, &headers).await;
    assert_eq!(fresh.status, 201, "{}", fresh.body);
    assert_eq!(
        fresh.header("X-Idempotency-Replayed").as_deref(),
        Some("false")
    );
    assert_ne!(fresh.body["id"], first.body["id"]);
    fx.assert_balance("@alice", "20", "0", 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_with_one_key_create_one_transaction() {
    let fx = Fx::new(&["@alice"]).await;
    let url = format!("{}{}", fx.app.base, fx.path("/transactions/inflow"));
    let body = inflow_body("@alice", "10").to_string();
    let mut tasks = tokio::task::JoinSet::new();
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(10));
    for _ in 0..10 {
        let client = fx.app.client.clone();
        let (url, body, start) = (url.clone(), body.clone(), start.clone());
        tasks.spawn(async move {
            start.wait().await;
            let response = client
                .post(url)
                .header("content-type", "application/json")
                .header("X-Idempotency", "race")
                .body(body)
                .send()
                .await
                .expect("request");
            Reply::from(response).await
        });
    }
    let replies = tasks.join_all().await;

    let originals: Vec<&Reply> = replies
        .iter()
        .filter(|r| {
            r.status == 201 && r.header("X-Idempotency-Replayed").as_deref() == Some("false")
        })
        .collect();
    assert_eq!(originals.len(), 1, "exactly one original");
    let original = &originals[0].body;
    for reply in &replies {
        match reply.status.as_u16() {
            201 => assert_eq!(&reply.body, original),
            409 => assert_error(reply, 409, "0084"),
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert_eq!(fx.transaction_count().await, 1);
    fx.assert_balance("@alice", "10", "0", 2).await;
    fx.assert_conserved().await;
}

#[tokio::test]
async fn a_key_is_claimed_after_body_checks_and_before_business_rules() {
    let fx = Fx::new(&["@alice", "@bob"]).await;
    fx.fund("@alice", "100").await;
    let key = [("X-Idempotency", "ordered")];
    let first = fx
        .send(
            Method::POST,
            "/transactions/json",
            Some(&transfer_body("@alice", "@bob", "10").to_string()),
            &key,
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let before = fx.state().await;

    // Body checks and the value check come first: they answer as usual.
    let zero = fx
        .send(
            Method::POST,
            "/transactions/json",
            Some(&transfer_body("@alice", "@bob", "0").to_string()),
            &key,
        )
        .await;
    assert_error(&zero, 422, "0125");
    let unknown = fx
        .send(
            Method::POST,
            "/transactions/json",
            Some(r#"{"colour": "red"}"#),
            &key,
        )
        .await;
    assert_error(&unknown, 400, "0053");
    // Totals, accounts and funds come after the claim: the key replays.
    for body in [
        send("10", vec![leg("@alice", "10")], vec![leg("@bob", "9")]),
        transfer_body("@alice", "@nobody", "10"),
        transfer_body("@alice", "@bob", "5000"),
    ] {
        let reply = fx
            .send(
                Method::POST,
                "/transactions/json",
                Some(&body.to_string()),
                &key,
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        assert_eq!(
            reply.header("X-Idempotency-Replayed").as_deref(),
            Some("true")
        );
        assert_eq!(reply.body, first.body);
    }
    assert_eq!(fx.state().await, before);
}

#[tokio::test]
async fn a_revert_with_a_key_is_replayed_and_without_one_is_0087() {
    let fx = Fx::new(&["@alice", "@bob"]).await;
    fx.fund("@alice", "100").await;
    let tx = fx.transfer("@alice", "@bob", "30").await;
    let rest = format!("/transactions/{}/revert", id_of(&tx));
    let key = [("X-Idempotency", "undo-1")];

    let first = fx.send(Method::POST, &rest, None, &key).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(
        first.header("X-Idempotency-Replayed").as_deref(),
        Some("false")
    );
    assert_eq!(first.body["parentTransactionId"], id_of(&tx).as_str());
    let before = fx.state().await;
    let again = fx.send(Method::POST, &rest, None, &key).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(
        again.header("X-Idempotency-Replayed").as_deref(),
        Some("true")
    );
    assert_eq!(again.body, first.body);
    assert_eq!(fx.state().await, before);
    fx.assert_balance("@alice", "100", "0", 4).await;
    fx.assert_balance("@bob", "0", "0", 3).await;

    let reply = fx.send(Method::POST, &rest, None, &[]).await;
    assert_error(&reply, 400, "0087");
    fx.reject(&rest, &json!({}), 400, "0087").await;
    assert_eq!(fx.state().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_commits_and_cancels_settle_a_pending_transaction_once() {
    let fx = Fx::new(&["@alice", "@bob"]).await;
    fx.fund("@alice", "100").await;
    let mut body = transfer_body("@alice", "@bob", "40");
    body["pending"] = json!(true);
    let pending = fx.ok_tx("json", &body).await;
    let id = id_of(&pending);

    let mut tasks = tokio::task::JoinSet::new();
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(10));
    for n in 0..10 {
        let action = if n % 2 == 0 { "commit" } else { "cancel" };
        let url = format!(
            "{}{}",
            fx.app.base,
            fx.path(&format!("/transactions/{id}/{action}"))
        );
        let (client, start) = (fx.app.client.clone(), start.clone());
        tasks.spawn(async move {
            start.wait().await;
            let response = client.post(url).send().await.expect("request");
            (action, Reply::from(response).await)
        });
    }
    let replies = tasks.join_all().await;
    let winners: Vec<&(&str, Reply)> = replies.iter().filter(|(_, r)| r.status == 201).collect();
    assert_eq!(winners.len(), 1, "exactly one settlement");
    for (_, reply) in replies.iter().filter(|(_, r)| r.status != 201) {
        assert_error(reply, 422, "0099");
    }
    let (action, winner) = winners[0];
    let read = fx.get(&format!("/transactions/{id}")).await;
    assert_eq!(read.body["status"], winner.body["status"]);
    if *action == "commit" {
        assert_eq!(winner.body["status"]["code"], "APPROVED");
        fx.assert_balance("@alice", "60", "0", 4).await;
        fx.assert_balance("@bob", "40", "0", 2).await;
        assert_eq!(op_count(&read.body), 3);
    } else {
        assert_eq!(winner.body["status"]["code"], "CANCELED");
        fx.assert_balance("@alice", "100", "0", 4).await;
        fx.assert_balance("@bob", "0", "0", 1).await;
        assert_eq!(op_count(&read.body), 2);
    }
    fx.assert_conserved().await;
}

#[tokio::test]
async fn an_inflow_past_the_largest_amount_is_refused_with_0097_and_changes_nothing() {
    let fx = Fx::new(&["@alice", "@bob"]).await;
    let max = Decimal::MAX.to_string();
    fx.fund("@alice", &max).await;
    fx.assert_balance("@alice", &max, "0", 2).await;
    fx.assert_balance(EXTERNAL, &max.to_string(), "0", 2).await;
    // @alice would go past the largest amount, @external/USD past the smallest.
    fx.reject(
        "/transactions/inflow",
        &inflow_body("@alice", "1"),
        422,
        "0097",
    )
    .await;
    fx.reject(
        "/transactions/inflow",
        &inflow_body("@bob", "1"),
        422,
        "0097",
    )
    .await;
    fx.assert_balance("@alice", &max, "0", 2).await;
    fx.assert_balance("@bob", "0", "0", 1).await;
    fx.assert_balance(EXTERNAL, &max.to_string(), "0", 2).await;
    assert_eq!(fx.transaction_count().await, 1);
}

/// The Gold DSL endpoint is Midaz's deprecated one, sunset on 2026-08-01: refused with 410,
/// Midaz's deprecation headers and the JSON endpoint that replaces it; nothing is created.
#[tokio::test]
async fn the_gold_dsl_endpoint_is_gone_and_points_to_the_json_one() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let dsl = app
        .post(&format!("{ledger}/transactions/dsl"), json!({}))
        .await;
    assert_eq!(dsl.status, 410, "{}", dsl.body);
    assert_eq!(dsl.code(), "GOLD_DSL_SUNSET");
    assert!(
        dsl.body["message"]
            .as_str()
            .unwrap()
            .contains("…/transactions/json")
    );
    assert_eq!(dsl.headers["deprecation"], "true");
    assert_eq!(dsl.headers["sunset"], "Sat, 01 Aug 2026 00:00:00 GMT");
    assert_eq!(
        dsl.headers["link"].to_str().unwrap(),
        format!("<{ledger}/transactions/json>; rel=\"successor-version\"")
    );
    let listed = app.get(&format!("{ledger}/transactions")).await;
    assert_eq!(listed.body["items"], json!([]));
}

/// `PATCH …/balances/{id}` takes Midaz v3.8's `settings: null` beside the flags (step 46 of
/// Midaz's own workflow) and keeps the settings; settings Midaz refuses are 0172 and change
/// nothing.
#[tokio::test]
async fn a_balance_patch_takes_null_settings_and_refuses_bad_ones() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    app.asset(&ledger, "USD").await;
    app.account(&ledger, "@a", "USD").await;
    let balances = app
        .get(&format!("{ledger}/accounts/alias/@a/balances"))
        .await;
    let balance = balances.body["items"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("{ledger}/balances/{balance}");

    let patched = app
        .patch(
            &path,
            json!({"allowSending": false, "allowReceiving": true, "settings": null}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["allowSending"], false);
    assert_eq!(patched.body["settings"], Value::Null);
    let version = patched.body["version"].clone();

    let refused = app
        .patch(
            &path,
            json!({"allowSending": true,
                "settings": {"allowOverdraft": true, "overdraftLimitEnabled": true}}),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.code(), "0172");
    let after = app.get(&path).await;
    assert_eq!(after.body["settings"], Value::Null);
    assert_eq!(after.body["allowSending"], false);
    assert_eq!(after.body["version"], version);
}

// ---- filters (Midaz issues #1973, #1034) ----------------------------------------------------

/// Transactions listed by account (id or alias, any of their operations), by date window and
/// by metadata, alone and together; operations of an account by metadata.
#[tokio::test]
async fn transactions_filter_by_account_alias_dates_and_metadata() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    app.asset(&ledger, "USD").await;
    let a = app.account(&ledger, "@a", "USD").await;
    let b = app.account(&ledger, "@b", "USD").await;
    app.account(&ledger, "@c", "USD").await;
    let post = async |kind: &str, body: Value| {
        let reply = app
            .post(&format!("{ledger}/transactions/{kind}"), body)
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        id_of(&reply.body)
    };
    let mut tagged = inflow_body("@a", "100");
    tagged["metadata"] = json!({"batch": "B-1"});
    let into_a = post("inflow", tagged).await;
    let mut rent = transfer_body("@a", "@b", "30");
    rent["send"]["source"]["from"][0]["metadata"] = json!({"purpose": "rent"});
    let a_to_b = post("json", rent).await;
    let into_c = post("inflow", inflow_body("@c", "5")).await;

    let listed = async |query: &str| {
        let reply = app.get(&format!("{ledger}/transactions?{query}")).await;
        assert_eq!(reply.status, 200, "{query}: {}", reply.body);
        ids(&reply.body["items"])
    };
    let a_id = id_of(&a);
    let b_id = id_of(&b);
    assert_eq!(
        listed(&format!("account_id={b_id}")).await,
        vec![a_to_b.clone()]
    );
    assert_eq!(
        listed(&format!("account_id={a_id}&sort_order=desc")).await,
        [a_to_b.clone(), into_a.clone()]
    );
    assert_eq!(listed("alias=@a").await, [into_a.clone(), a_to_b.clone()]);
    assert_eq!(
        listed("alias=@external/USD").await,
        [into_a.clone(), into_c.clone()]
    );
    assert_eq!(listed("alias=@nobody").await, Vec::<String>::new());
    assert_eq!(
        listed(&format!("account_id={MISSING_ID}")).await,
        Vec::<String>::new()
    );
    assert_eq!(listed("metadata.batch=B-1").await, vec![into_a.clone()]);
    assert_eq!(
        listed("alias=@c&metadata.batch=B-1").await,
        Vec::<String>::new()
    );

    let created = parse_time(
        app.get(&format!("{ledger}/transactions/{into_a}"))
            .await
            .body["createdAt"]
            .as_str()
            .unwrap(),
    );
    let window = format!(
        "start_date={}&end_date={}",
        query_second(created, -60),
        query_second(created, 60)
    );
    assert_eq!(
        listed(&format!("alias=@a&{window}")).await,
        [into_a.clone(), a_to_b.clone()]
    );
    let before = "start_date=2000-01-01&end_date=2000-01-02";
    assert_eq!(
        listed(&format!("alias=@a&{before}")).await,
        Vec::<String>::new()
    );
    let half = app
        .get(&format!(
            "{ledger}/transactions?alias=@a&start_date=2000-01-01"
        ))
        .await;
    assert_error(&half, 400, "0083");
    let count = app
        .head(&format!(
            "{ledger}/transactions/metrics/count?alias=@a&{window}"
        ))
        .await;
    assert_eq!(count.header("X-Total-Count").as_deref(), Some("2"));

    let operations = app
        .get(&format!(
            "{ledger}/accounts/{a_id}/operations?metadata.purpose=rent"
        ))
        .await;
    assert_eq!(operations.status, 200, "{}", operations.body);
    let items = operations.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", operations.body);
    assert_eq!(items[0]["transactionId"], json!(a_to_b));
    assert_eq!(items[0]["type"], "DEBIT");
    assert_eq!(items[0]["amount"]["value"], "30");
}
