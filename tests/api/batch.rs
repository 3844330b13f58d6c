//! `POST …/transactions/batch`: many transfers in one request, atomic or item by item.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{TestApp, spawn_app};
use serde_json::{Value, json};

fn transfer(from: &str, to: &str, value: &str) -> Value {
    json!({"send": {"asset": "USD", "value": value,
        "source": {"from": [{"accountAlias": from, "amount": {"asset": "USD", "value": value}}]},
        "distribute": {"to": [{"accountAlias": to, "amount": {"asset": "USD", "value": value}}]}}})
}

async fn setup() -> (TestApp, String) {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    app.asset(&ledger, "USD").await;
    app.account(&ledger, "@a", "USD").await;
    app.account(&ledger, "@b", "USD").await;
    let fund = app
        .post(
            &format!("{ledger}/transactions/json"),
            transfer("@external/USD", "@a", "100"),
        )
        .await;
    assert_eq!(fund.status, 201);
    (app, ledger)
}

async fn available(app: &TestApp, ledger: &str, alias: &str) -> String {
    let reply = app
        .get(&format!("{ledger}/accounts/alias/{alias}/balances"))
        .await;
    reply.body["items"][0]["available"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn transaction_count(app: &TestApp, ledger: &str) -> usize {
    let reply = app.get(&format!("{ledger}/transactions?limit=100")).await;
    reply.body["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn non_atomic_batches_answer_each_item_and_apply_the_good_ones() {
    let (app, ledger) = setup().await;
    let mut bad_body = transfer("@a", "@b", "1");
    bad_body["colour"] = json!("red");
    let mut keyed = transfer("@a", "@b", "10");
    keyed["idempotencyKey"] = json!("item-key");
    let body = json!({"transactions": [
        keyed,
        transfer("@a", "@b", "500"),
        bad_body,
        transfer("@b", "@a", "3"),
    ]});
    let reply = app
        .post(&format!("{ledger}/transactions/batch"), body.clone())
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let items = reply.body["items"].as_array().unwrap();
    let statuses: Vec<_> = items
        .iter()
        .map(|i| i["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![201, 422, 400, 201]);
    assert_eq!(items[1]["body"]["code"], "0018");
    assert_eq!(items[2]["body"]["code"], "0053");
    assert_eq!(items[0]["body"]["status"]["code"], "CREATED");
    assert_eq!(items[0]["replayed"], false);
    assert_eq!(available(&app, &ledger, "@a").await, "93");
    assert_eq!(available(&app, &ledger, "@b").await, "7");
    assert_eq!(transaction_count(&app, &ledger).await, 3);

    // The same batch again: the keyed item and the unkeyed good one replay, nothing moves.
    let again = app
        .post(&format!("{ledger}/transactions/batch"), body)
        .await;
    let items = again.body["items"].as_array().unwrap();
    assert_eq!(
        (
            items[0]["replayed"].as_bool(),
            items[3]["replayed"].as_bool()
        ),
        (Some(true), Some(true))
    );
    assert_eq!(available(&app, &ledger, "@a").await, "93");
    assert_eq!(transaction_count(&app, &ledger).await, 3);
}

#[tokio::test]
async fn atomic_batches_apply_all_or_nothing() {
    let (app, ledger) = setup().await;
    let failing = json!({"atomic": true, "transactions": [
        transfer("@a", "@b", "10"),
        transfer("@a", "@b", "20"),
        transfer("@a", "@b", "71"),
    ]});
    let reply = app
        .post(&format!("{ledger}/transactions/batch"), failing)
        .await;
    assert_eq!((reply.status.as_u16(), reply.code()), (422, "0018"));
    assert_eq!(reply.body["index"], 2);
    assert_eq!(available(&app, &ledger, "@a").await, "100");
    assert_eq!(transaction_count(&app, &ledger).await, 1);

    let unknown = json!({"atomic": true, "transactions": [transfer("@a", "@b", "1"), {"send": 5}]});
    let reply = app
        .post(&format!("{ledger}/transactions/batch"), unknown)
        .await;
    assert_eq!(
        (
            reply.status.as_u16(),
            reply.code(),
            reply.body["index"].as_u64()
        ),
        (400, "0094", Some(1))
    );

    let good = json!({"atomic": true, "transactions": [transfer("@a", "@b", "10"), transfer("@a", "@b", "90")]});
    let reply = app
        .post(&format!("{ledger}/transactions/batch"), good)
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(available(&app, &ledger, "@a").await, "0");
    assert_eq!(available(&app, &ledger, "@b").await, "100");
}

#[tokio::test]
async fn batch_limits_and_shape_are_checked() {
    let (app, ledger) = setup().await;
    let path = format!("{ledger}/transactions/batch");
    assert_eq!(
        app.post(&path, json!({"transactions": []})).await.code(),
        "0009"
    );
    assert_eq!(
        app.post(&path, json!({"transactions": [], "extra": 1}))
            .await
            .code(),
        "0053"
    );
    let too_many: Vec<Value> = (0..1001).map(|_| json!({})).collect();
    let reply = app.post(&path, json!({"transactions": too_many})).await;
    assert_eq!((reply.status.as_u16(), reply.code()), (400, "0047"));
    assert_eq!(transaction_count(&app, &ledger).await, 1);
}
