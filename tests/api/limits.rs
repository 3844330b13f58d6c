//! Every request limit is a named constant and is enforced with a clear error that changes
//! nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::spawn_app;
use ledgerlite::domain::query::PAGE_LIMIT_MAX;
use ledgerlite::domain::transaction::LEGS_PER_SIDE_MAX;
use ledgerlite::http::REQUEST_BODY_BYTES_MAX;
use serde_json::{Value, json};

fn leg(alias: &str, value: &str) -> Value {
    json!({"accountAlias": alias, "amount": {"asset": "USD", "value": value}})
}

#[tokio::test]
async fn oversized_bodies_get_413_and_create_nothing() {
    let app = spawn_app().await;
    let padding = "x".repeat(REQUEST_BODY_BYTES_MAX);
    let reply = app
        .post(
            "/v1/organizations",
            json!({"legalName": padding, "legalDocument": "1"}),
        )
        .await;
    assert_eq!((reply.status.as_u16(), reply.code()), (413, "0143"));
    let count = app.head("/v1/organizations/metrics/count").await;
    assert_eq!(count.header("x-total-count").as_deref(), Some("0"));
}

#[tokio::test]
async fn deep_json_and_too_many_legs_are_refused() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    app.asset(&ledger, "USD").await;
    app.account(&ledger, "@a", "USD").await;
    let mut deep = json!(1);
    for _ in 0..12 {
        deep = json!({"k": deep});
    }
    let reply = app
        .post(
            &format!("{ledger}/transactions/json"),
            json!({"metadata": deep}),
        )
        .await;
    assert_eq!((reply.status.as_u16(), reply.code()), (400, "0144"));

    let legs: Vec<Value> = (0..=LEGS_PER_SIDE_MAX)
        .map(|_| leg("@external/USD", "1"))
        .collect();
    let value = (LEGS_PER_SIDE_MAX + 1).to_string();
    let body = json!({"send": {"asset": "USD", "value": value,
        "source": {"from": legs}, "distribute": {"to": [leg("@a", &value)]}}});
    let reply = app.post(&format!("{ledger}/transactions/json"), body).await;
    assert_eq!((reply.status.as_u16(), reply.code()), (400, "0047"));
    assert!(
        reply.body["fields"]["send.source.from"].is_string(),
        "{}",
        reply.body
    );
    let list = app.get(&format!("{ledger}/transactions")).await;
    assert_eq!(list.body["items"], json!([]));
}

#[tokio::test]
async fn long_idempotency_keys_and_large_pages_are_refused() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    app.asset(&ledger, "USD").await;
    app.account(&ledger, "@a", "USD").await;
    let body = json!({"send": {"asset": "USD", "value": "1",
        "source": {"from": [leg("@external/USD", "1")]}, "distribute": {"to": [leg("@a", "1")]}}});
    let response = app
        .client
        .post(format!("{}{ledger}/transactions/json", app.base))
        .header("X-Idempotency", "k".repeat(257))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["code"], "0047");
    let list = app.get(&format!("{ledger}/transactions")).await;
    assert_eq!(list.body["items"], json!([]));

    let page = app
        .get(&format!("{ledger}/accounts?limit={}", PAGE_LIMIT_MAX + 1))
        .await;
    assert_eq!((page.status.as_u16(), page.code()), (400, "0080"));
    let cursor = app
        .get(&format!(
            "{ledger}/transactions?limit={}",
            PAGE_LIMIT_MAX + 1
        ))
        .await;
    assert_eq!((cursor.status.as_u16(), cursor.code()), (400, "0080"));
}
