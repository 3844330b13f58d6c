//! Concurrency on the real server: racing transfers never overdraw and conserve money; a
//! pending transaction committed by many callers at once has exactly one winner.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::collections::BTreeMap;

use common::{TestApp, position, spawn_app};
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn d(value: &Value) -> Decimal {
    value.as_str().unwrap().parse().unwrap()
}

async fn fund(app: &TestApp, ledger: &str, alias: &str, value: &str) {
    let body = json!({"send": {"asset": "USD", "value": value, "distribute": {"to": [{"accountAlias": alias, "amount": {"asset": "USD", "value": value}}]}}});
    let reply = app
        .post(&format!("{ledger}/transactions/inflow"), body)
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
}

fn transfer(from: &str, to: &str, value: &str) -> Value {
    json!({"send": {"asset": "USD", "value": value,
        "source": {"from": [{"accountAlias": from, "amount": {"asset": "USD", "value": value}}]},
        "distribute": {"to": [{"accountAlias": to, "amount": {"asset": "USD", "value": value}}]}}})
}

/// All balances of the ledger by alias, walking every cursor page.
async fn balances(app: &TestApp, ledger: &str) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    let mut cursor = String::new();
    loop {
        let reply = app
            .get(&format!("{ledger}/balances?limit=100{cursor}"))
            .await;
        assert_eq!(reply.status, 200);
        for item in reply.body["items"].as_array().unwrap() {
            all.insert(item["alias"].as_str().unwrap().to_owned(), item.clone());
        }
        match reply.body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return all,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_transfers_conserve_money_and_never_overdraw() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    app.asset(&ledger, "USD").await;
    let aliases = ["@a", "@b", "@c", "@d"];
    for alias in aliases {
        app.account(&ledger, alias, "USD").await;
        fund(&app, &ledger, alias, "100").await;
    }
    let mut tasks = Vec::new();
    for worker in 0..8u64 {
        let (base, ledger) = (app.base.clone(), ledger.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut outcomes = BTreeMap::<u16, u32>::new();
            let mut seed = worker * 7919 + 1;
            for _ in 0..40 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let from = aliases[(seed >> 33) as usize % 4];
                let to = aliases[(seed >> 40) as usize % 4];
                let value = format!("{}.{:02}", (seed >> 20) % 60, (seed >> 8) % 100);
                let response = client
                    .post(format!("{base}{ledger}/transactions/json"))
                    .header("X-Idempotency", uuid::Uuid::now_v7().to_string())
                    .json(&transfer(from, to, &value))
                    .send()
                    .await
                    .unwrap();
                *outcomes.entry(response.status().as_u16()).or_default() += 1;
            }
            outcomes
        }));
    }
    let mut outcomes = BTreeMap::<u16, u32>::new();
    for task in tasks {
        for (status, n) in task.await.unwrap() {
            *outcomes.entry(status).or_default() += n;
        }
    }
    assert!(
        outcomes.keys().all(|s| [201, 400, 422].contains(s)),
        "unexpected statuses {outcomes:?}"
    );
    assert!(
        outcomes.get(&201).copied().unwrap_or(0) > 50,
        "too few transfers succeeded: {outcomes:?}"
    );

    let all = balances(&app, &ledger).await;
    let mut total = Decimal::ZERO;
    for (alias, balance) in &all {
        let available = d(&balance["available"]);
        total += position(balance);
        if !alias.starts_with("@external/") {
            assert!(available >= Decimal::ZERO, "{alias} overdrawn: {available}");
        }
    }
    assert_eq!(total, Decimal::ZERO, "money created or lost: {all:?}");
    assert_eq!(d(&all["@external/USD"]["available"]), Decimal::from(400));

    // Each internal balance equals the sum of its account's operations.
    for alias in aliases {
        let account_id = all[alias]["accountId"].as_str().unwrap();
        let mut sum = Decimal::ZERO;
        let mut count = 0;
        let mut cursor = String::new();
        loop {
            let reply = app
                .get(&format!(
                    "{ledger}/accounts/{account_id}/operations?limit=100{cursor}"
                ))
                .await;
            for op in reply.body["items"].as_array().unwrap() {
                let value = d(&op["amount"]["value"]);
                sum += if op["type"] == "CREDIT" {
                    value
                } else {
                    -value
                };
                count += 1;
            }
            match reply.body["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => break,
            }
        }
        assert_eq!(
            sum,
            d(&all[alias]["available"]),
            "{alias} differs from its operations"
        );
        assert_eq!(
            all[alias]["version"].as_i64().unwrap(),
            1 + count,
            "{alias} version"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transfers_racing_for_the_last_funds_never_overdraw() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    app.asset(&ledger, "USD").await;
    app.account(&ledger, "@payer", "USD").await;
    app.account(&ledger, "@payee", "USD").await;
    fund(&app, &ledger, "@payer", "50").await;
    let requests = (0..24).map(|_| {
        let (client, url) = (
            app.client.clone(),
            format!("{}{ledger}/transactions/json", app.base),
        );
        // Distinct keys: identical bodies without a key would be deduplicated by their hash.
        let key = uuid::Uuid::now_v7().to_string();
        tokio::spawn(async move {
            let request = client
                .post(url)
                .header("X-Idempotency", key)
                .json(&transfer("@payer", "@payee", "10"));
            request.send().await.unwrap().status().as_u16()
        })
    });
    let mut statuses = Vec::new();
    for request in requests {
        statuses.push(request.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 422).count(),
        19,
        "{statuses:?}"
    );
    let all = balances(&app, &ledger).await;
    assert_eq!(all["@payer"]["available"], "0");
    assert_eq!(all["@payee"]["available"], "50");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_commit_raced_by_many_callers_has_exactly_one_winner() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    app.asset(&ledger, "USD").await;
    app.account(&ledger, "@payer", "USD").await;
    app.account(&ledger, "@payee", "USD").await;
    fund(&app, &ledger, "@payer", "30").await;
    let mut pending = transfer("@payer", "@payee", "30");
    pending["pending"] = json!(true);
    let created = app
        .post(&format!("{ledger}/transactions/json"), pending)
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let calls = (0..16).map(|i| {
        let action = if i % 2 == 0 { "commit" } else { "cancel" };
        let (client, url) = (
            app.client.clone(),
            format!("{}{ledger}/transactions/{id}/{action}", app.base),
        );
        tokio::spawn(async move {
            let response = client.post(url).send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            (
                status,
                body["code"].as_str().unwrap_or("").to_owned(),
                body["status"]["code"].as_str().unwrap_or("").to_owned(),
            )
        })
    });
    let mut results = Vec::new();
    for call in calls {
        results.push(call.await.unwrap());
    }
    let winners: Vec<_> = results.iter().filter(|r| r.0 == 201).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(
        results
            .iter()
            .filter(|r| r.0 != 201)
            .all(|r| r.0 == 422 && r.1 == "0099"),
        "{results:?}"
    );
    let all = balances(&app, &ledger).await;
    let (payer, payee) = (&all["@payer"], &all["@payee"]);
    assert_eq!(payer["onHold"], "0");
    if winners[0].2 == "APPROVED" {
        assert_eq!(
            (payer["available"].as_str(), payee["available"].as_str()),
            (Some("0"), Some("30"))
        );
    } else {
        assert_eq!(winners[0].2, "CANCELED");
        assert_eq!(
            (payer["available"].as_str(), payee["available"].as_str()),
            (Some("30"), Some("0"))
        );
    }
}
