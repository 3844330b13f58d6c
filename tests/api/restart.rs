//! The real binary across restarts: acknowledged writes and idempotency keys survive a
//! `kill -9`, and a SIGTERM stops the server cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::process::Command;

use common::start_binary as start;
use serde_json::{Value, json};

async fn post(
    base: &str,
    path: &str,
    body: Value,
    key: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body);
    if let Some(key) = key {
        request = request.header("X-Idempotency", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let replayed = response
        .headers()
        .get("X-Idempotency-Replayed")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        status,
        replayed,
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn get(base: &str, path: &str) -> Value {
    reqwest::get(format!("{base}{path}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn acknowledged_writes_and_idempotency_keys_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path()).await;
    let base = server.base.clone();
    let org = post(
        &base,
        "/v1/organizations",
        json!({"legalName": "Acme", "legalDocument": "1"}),
        None,
    )
    .await
    .2;
    let org = org["id"].as_str().unwrap();
    let ledger = post(
        &base,
        &format!("/v1/organizations/{org}/ledgers"),
        json!({"name": "L"}),
        None,
    )
    .await
    .2;
    let ledger = format!(
        "/v1/organizations/{org}/ledgers/{}",
        ledger["id"].as_str().unwrap()
    );
    post(
        &base,
        &format!("{ledger}/assets"),
        json!({"name": "Dollar", "type": "currency", "code": "USD"}),
        None,
    )
    .await;
    post(
        &base,
        &format!("{ledger}/accounts"),
        json!({"alias": "@alice", "assetCode": "USD", "type": "deposit"}),
        None,
    )
    .await;
    let inflow = json!({"send": {"asset": "USD", "value": "12.50", "distribute": {"to": [{"accountAlias": "@alice", "amount": {"asset": "USD", "value": "12.50"}}]}}});
    let first = post(
        &base,
        &format!("{ledger}/transactions/inflow"),
        inflow.clone(),
        Some("key-1"),
    )
    .await;
    assert_eq!((first.0, first.1.as_deref()), (201, Some("false")));

    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let mut server = start(dir.path()).await;
    let base = server.base.clone();

    let replay = post(
        &base,
        &format!("{ledger}/transactions/inflow"),
        inflow,
        Some("key-1"),
    )
    .await;
    assert_eq!((replay.0, replay.1.as_deref()), (201, Some("true")));
    assert_eq!(
        replay.2, first.2,
        "the replay must be the original response"
    );
    let balances = get(&base, &format!("{ledger}/accounts/alias/@alice/balances")).await;
    assert_eq!(balances["items"][0]["available"], "12.5");
    assert_eq!(balances["items"][0]["version"], 2);
    let transactions = get(&base, &format!("{ledger}/transactions")).await;
    assert_eq!(transactions["items"].as_array().unwrap().len(), 1);

    // SIGTERM: the server drains, checkpoints and exits 0.
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = server.child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
    let wal = dir.path().join("tenants/default.sqlite-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
        "WAL not checkpointed on shutdown"
    );
}
