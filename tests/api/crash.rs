//! Jepsen-style kill test: the real binary, concurrent transfers, `kill -9` at random moments,
//! restart on the same data folder — every acknowledged transfer is there, no half transaction
//! is left, the audit (chain, balances replayed from operations, conservation) passes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::Path;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::{Value, json};

/// Kill-and-restart cycles per run.
const CRASH_CYCLES: u32 = 20;
/// Concurrent clients posting transfers while the server is killed.
const CLIENTS: usize = 8;

async fn start(data_dir: &Path) -> (Child, String) {
    let binary = common::start_binary(data_dir).await;
    (binary.child, binary.base)
}

fn transfer(from: &str, to: &str, value: &str) -> Value {
    json!({"send": {"asset": "USD", "value": value,
        "source": {"from": [{"accountAlias": from, "amount": {"asset": "USD", "value": value}}]},
        "distribute": {"to": [{"accountAlias": to, "amount": {"asset": "USD", "value": value}}]}}})
}

async fn setup(base: &str) -> String {
    let client = reqwest::Client::new();
    let post = |path: String, body: Value| {
        let client = client.clone();
        async move {
            let response = client
                .post(format!("{base}{path}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201);
            response.json::<Value>().await.unwrap()
        }
    };
    let org = post(
        "/v1/organizations".into(),
        json!({"legalName": "Crash", "legalDocument": "1"}),
    )
    .await;
    let org = org["id"].as_str().unwrap().to_owned();
    let ledger = post(
        format!("/v1/organizations/{org}/ledgers"),
        json!({"name": "L"}),
    )
    .await;
    let ledger = format!(
        "/v1/organizations/{org}/ledgers/{}",
        ledger["id"].as_str().unwrap()
    );
    post(
        format!("{ledger}/assets"),
        json!({"name": "Dollar", "type": "currency", "code": "USD"}),
    )
    .await;
    for alias in ["@a", "@b", "@c"] {
        post(
            format!("{ledger}/accounts"),
            json!({"alias": alias, "assetCode": "USD", "type": "deposit"}),
        )
        .await;
        post(
            format!("{ledger}/transactions/json"),
            transfer("@external/USD", alias, "1000"),
        )
        .await;
    }
    ledger
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_transfers_survive_random_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut base) = start(dir.path()).await;
    let ledger = setup(&base).await;
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut checked = 0;
    for cycle in 0..CRASH_CYCLES {
        let mut clients = Vec::new();
        for client in 0..CLIENTS {
            let (base, ledger, acknowledged) =
                (base.clone(), ledger.clone(), Arc::clone(&acknowledged));
            clients.push(tokio::spawn(async move {
                let http = reqwest::Client::new();
                let aliases = ["@a", "@b", "@c"];
                for n in 0.. {
                    let from = aliases[(client + n) % 3];
                    let to = aliases[(client + n + 1) % 3];
                    let key = format!("c{cycle}-{client}-{n}");
                    let sent = http
                        .post(format!("{base}{ledger}/transactions/json"))
                        .header("X-Idempotency", &key)
                        .json(&transfer(from, to, "0.01"))
                        .send()
                        .await;
                    match sent {
                        Ok(response) if response.status() == 201 => {
                            let body: Value = match response.json().await {
                                Ok(body) => body,
                                Err(_) => return,
                            };
                            acknowledged
                                .lock()
                                .push(body["id"].as_str().unwrap_or_default().to_owned());
                        }
                        Ok(_) => {}
                        Err(_) => return, // the server is gone
                    }
                }
            }));
        }
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        tokio::time::sleep(Duration::from_millis(50 + (seed >> 33) % 250)).await;
        child.kill().unwrap();
        child.wait().unwrap();
        for client in clients {
            client.await.unwrap();
        }
        let (next, next_base) = start(dir.path()).await;
        (child, base) = (next, next_base);
        let fresh = acknowledged.lock()[checked..].to_vec();
        check(&base, &ledger, &fresh).await;
        checked += fresh.len();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let audit = Command::new(env!("CARGO_BIN_EXE_ledgerlite"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["verify", "--all"])
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stdout)
    );
    assert!(
        acknowledged.lock().len() > 50,
        "too few transfers were acknowledged to mean anything"
    );
}

/// Every acknowledged transaction exists with both operations; balances sum to zero.
async fn check(base: &str, ledger: &str, acknowledged: &[String]) {
    let client = reqwest::Client::new();
    for id in acknowledged {
        let response = client
            .get(format!("{base}{ledger}/transactions/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "acknowledged transaction {id} was lost"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["operations"].as_array().map(Vec::len),
            Some(2),
            "transaction {id} is incomplete"
        );
    }
    let balances: Value = client
        .get(format!("{base}{ledger}/balances?limit=100"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let total: rust_decimal::Decimal = balances["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(crate::common::position)
        .sum();
    assert!(
        total.is_zero(),
        "money created or lost across a crash: {total}"
    );
}
