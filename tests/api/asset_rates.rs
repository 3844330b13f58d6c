//! `…/asset-rates`: upsert by currency pair, get by external id, list from a code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::spawn_app;
use serde_json::json;

#[tokio::test]
async fn put_upserts_by_pair_and_lists_from_a_code() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let first = app
        .call(
            reqwest::Method::PUT,
            &format!("{ledger}/asset-rates"),
            Some(json!({"from": "USD", "to": "BRL", "rate": 5.25, "scale": 2, "ttl": 3600})),
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["rate"], json!(5.25));
    assert_eq!(first.body["from"], "USD");
    let external_id = first.body["externalId"].as_str().unwrap().to_owned();
    assert_eq!(
        uuid::Uuid::parse_str(&external_id)
            .unwrap()
            .get_version_num(),
        7
    );

    let second = app
        .call(
            reqwest::Method::PUT,
            &format!("{ledger}/asset-rates"),
            Some(json!({"from": "USD", "to": "BRL", "rate": 5.3, "ttl": 60})),
        )
        .await;
    assert_eq!(second.status, 201);
    assert_eq!(
        second.body["id"], first.body["id"],
        "same pair updates the same rate"
    );
    assert_eq!(second.body["rate"], json!(5.3));
    app.call(
        reqwest::Method::PUT,
        &format!("{ledger}/asset-rates"),
        Some(json!({"from": "USD", "to": "EUR", "rate": 0.9, "ttl": 60})),
    )
    .await;

    let fetched = app
        .get(&format!("{ledger}/asset-rates/{external_id}"))
        .await;
    assert_eq!(
        (fetched.status.as_u16(), fetched.body["rate"].clone()),
        (200, json!(5.3))
    );
    let all = app.get(&format!("{ledger}/asset-rates/from/USD")).await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
    let only_brl = app
        .get(&format!("{ledger}/asset-rates/from/USD?to=BRL"))
        .await;
    let items = only_brl.body["items"].as_array().unwrap();
    assert_eq!((items.len(), items[0]["to"].as_str()), (1, Some("BRL")));
}

#[tokio::test]
async fn bad_rates_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let path = format!("{ledger}/asset-rates");
    let put = |body| app.call(reqwest::Method::PUT, &path, Some(body));
    assert_eq!(put(json!({"to": "BRL", "rate": 1})).await.code(), "0009");
    assert_eq!(
        put(json!({"from": "usd", "to": "BRL", "rate": 1}))
            .await
            .code(),
        "0004"
    );
    assert_eq!(
        put(json!({"from": "US1", "to": "BRL", "rate": 1}))
            .await
            .code(),
        "0033"
    );
    assert_eq!(
        put(json!({"from": "USD", "to": "BRL", "rate": "x"}))
            .await
            .code(),
        "0094"
    );
    assert_eq!(
        put(json!({"from": "USD", "to": "BRL", "rate": 1, "colour": 1}))
            .await
            .code(),
        "0053"
    );
    let all = app.get(&format!("{ledger}/asset-rates/from/USD")).await;
    assert_eq!(all.body["items"], json!([]));
    let missing = app
        .get(&format!("{ledger}/asset-rates/{}", uuid::Uuid::now_v7()))
        .await;
    assert_eq!((missing.status.as_u16(), missing.code()), (404, "0007"));
}

/// Regression (found by schemathesis): an `externalId` already used by another pair was a
/// UNIQUE-constraint failure answered with 500; it is a 409 and the first rate is kept.
#[tokio::test]
async fn an_external_id_of_another_pair_is_a_conflict() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let external_id = "e3e70682-c209-4cac-a29f-6fbed82c07cd";
    let path = format!("{ledger}/asset-rates");
    let put = |to: &'static str| {
        app.call(
            reqwest::Method::PUT,
            &path,
            Some(json!({"from": "USD", "to": to, "rate": 5, "ttl": 60, "externalId": external_id})),
        )
    };
    let first = put("BRL").await;
    assert_eq!(first.status, 201, "{}", first.body);
    let again = put("BRL").await;
    assert_eq!(
        again.status, 201,
        "the same pair may keep its externalId: {}",
        again.body
    );
    let other = put("EUR").await;
    assert_eq!(other.status, 409, "{}", other.body);
    assert_eq!(other.code(), "EXTERNAL_ID_CONFLICT");
    let kept = app
        .get(&format!("{ledger}/asset-rates/{external_id}"))
        .await;
    assert_eq!(kept.status, 200);
    assert_eq!(kept.body["to"], "BRL");
}

/// `to` filters in the query, before paging: every page is full and the cursors walk every
/// matching rate exactly once.
#[tokio::test]
async fn a_to_filter_pages_full_pages_and_its_cursors_skip_nothing() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    // From USD to six codes, inserted alternately matching (BRL, EUR, JPY) and not.
    for to in ["BRL", "GBP", "EUR", "CHF", "JPY", "CAD"] {
        let put = app
            .call(
                reqwest::Method::PUT,
                &format!("{ledger}/asset-rates"),
                Some(json!({"from": "USD", "to": to, "rate": 2, "ttl": 60})),
            )
            .await;
        assert_eq!(put.status, 201, "{}", put.body);
    }
    let mut seen = Vec::new();
    let mut url = format!("{ledger}/asset-rates/from/USD?to=BRL,EUR&to=JPY&limit=2");
    loop {
        let page = app.get(&url).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let items = page.body["items"].as_array().unwrap();
        let codes: Vec<&str> = items.iter().map(|i| i["to"].as_str().unwrap()).collect();
        seen.extend(codes.iter().map(|c| (*c).to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => {
                assert_eq!(codes.len(), 2, "a page before the last is full: {codes:?}");
                url = format!(
                    "{ledger}/asset-rates/from/USD?to=BRL,EUR&to=JPY&limit=2&cursor={cursor}"
                );
            }
            None => break,
        }
    }
    assert_eq!(seen, ["BRL", "EUR", "JPY"]);
}
