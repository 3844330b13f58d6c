//! `/v1/settings/metadata-indexes`: SQLite indexes on one metadata key of one entity, in
//! Midaz's shapes and codes; a unique one refuses a second live entity with the same value.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{TestApp, spawn_app, spawn_multi_tenant, token_for, transfer};
use serde_json::{Value, json};

const INDEXES: &str = "/v1/settings/metadata-indexes";

fn entity(name: &str) -> String {
    format!("{INDEXES}/entities/{name}")
}

async fn indexes(app: &TestApp) -> Value {
    let reply = app.get(INDEXES).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

/// Creates an account `alias` in USD with `metadata`; returns the reply.
async fn account(app: &TestApp, ledger: &str, alias: &str, metadata: Value) -> common::Reply {
    let body = json!({"alias": alias, "assetCode": "USD", "type": "deposit", "metadata": metadata});
    app.post(&format!("{ledger}/accounts"), body).await
}

#[tokio::test]
async fn an_index_is_created_listed_filtered_and_dropped_in_midazs_shapes() {
    let app = spawn_app().await;
    assert_eq!(indexes(&app).await, json!([]));

    let created = app
        .post(&entity("account"), json!({"metadataKey": "tier"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let tier = json!({"indexName": "metadata.tier_1", "entityName": "account",
        "metadataKey": "tier", "unique": false, "sparse": true});
    assert_eq!(created.body, tier);
    let created = app
        .post(
            &entity("transaction"),
            json!({"metadataKey": "reference", "unique": true, "sparse": false}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let reference = json!({"indexName": "metadata.reference_1", "entityName": "transaction",
        "metadataKey": "reference", "unique": true, "sparse": false});
    assert_eq!(created.body, reference);
    assert_eq!(indexes(&app).await, json!([tier, reference]));

    let of_accounts = app.get(&format!("{INDEXES}?entity_name=account")).await;
    assert_eq!(of_accounts.status, 200);
    assert_eq!(of_accounts.body, json!([tier]));
    let of_ledgers = app.get(&format!("{INDEXES}?entity_name=ledger")).await;
    assert_eq!(of_ledgers.body, json!([]));
    let unknown = app.get(&format!("{INDEXES}?entity_name=widget")).await;
    assert_eq!((unknown.status.as_u16(), unknown.code()), (400, "0138"));

    // The same key again: 409 0132; nothing changes.
    let again = app
        .post(
            &entity("account"),
            json!({"metadataKey": "tier", "unique": true}),
        )
        .await;
    assert_eq!((again.status.as_u16(), again.code()), (409, "0132"));
    assert_eq!(indexes(&app).await, json!([tier, reference]));

    let dropped = app.delete(&format!("{}/key/tier", entity("account"))).await;
    assert_eq!(dropped.status, 204);
    assert_eq!(dropped.body, Value::Null);
    assert_eq!(indexes(&app).await, json!([reference]));
    let gone = app.delete(&format!("{}/key/tier", entity("account"))).await;
    assert_eq!((gone.status.as_u16(), gone.code()), (404, "0133"));
    let unknown = app.delete(&format!("{}/key/tier", entity("widget"))).await;
    assert_eq!((unknown.status.as_u16(), unknown.code()), (400, "0138"));
    assert_eq!(indexes(&app).await, json!([reference]));
}

#[tokio::test]
async fn bad_requests_are_refused_with_midazs_codes_and_create_nothing() {
    let app = spawn_app().await;
    let long = "k".repeat(101);
    let cases = [
        ("account", json!({}), 400, "0009"),
        ("account", json!({"metadataKey": ""}), 400, "0009"),
        ("account", json!({"metadataKey": "ti-er"}), 400, "0047"),
        ("account", json!({"metadataKey": "2tier"}), 400, "0047"),
        (
            "account",
            json!({"metadataKey": "a') ; DROP TABLE account; --"}),
            400,
            "0047",
        ),
        ("account", json!({"metadataKey": long}), 400, "0047"),
        (
            "account",
            json!({"metadataKey": "tier", "colour": 1}),
            400,
            "0053",
        ),
        (
            "account",
            json!({"metadataKey": "tier", "unique": "yes"}),
            400,
            "0094",
        ),
        ("widget", json!({"metadataKey": "tier"}), 400, "0138"),
    ];
    for (name, body, status, code) in cases {
        let reply = app.post(&entity(name), body.clone()).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (status, code),
            "{body}: {}",
            reply.body
        );
    }
    let bad_key = app
        .post(&entity("account"), json!({"metadataKey": "ti-er"}))
        .await;
    assert_eq!(
        bad_key.body["fields"],
        json!({"metadataKey": "metadataKey must start with a letter and contain only alphanumeric characters and underscores"})
    );
    assert_eq!(indexes(&app).await, json!([]));

    // At most 16 indexes per entity: the 17th is 400 0135 and is not created.
    for n in 0..16 {
        let reply = app
            .post(&entity("ledger"), json!({"metadataKey": format!("k{n}")}))
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    let over = app
        .post(&entity("ledger"), json!({"metadataKey": "k16"}))
        .await;
    assert_eq!((over.status.as_u16(), over.code()), (400, "0135"));
    assert_eq!(indexes(&app).await.as_array().unwrap().len(), 16);
}

#[tokio::test]
async fn a_unique_index_refuses_a_second_live_entity_with_the_same_value() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    app.asset(&ledger, "USD").await;
    let a = account(&app, &ledger, "@a", json!({"tier": "gold"})).await;
    let b = account(&app, &ledger, "@b", json!({"tier": "gold"})).await;
    assert_eq!((a.status.as_u16(), b.status.as_u16()), (201, 201));

    // The live accounts already share a value: no index, 409, nothing created.
    let unique = json!({"metadataKey": "tier", "unique": true});
    let refused = app.post(&entity("account"), unique.clone()).await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (409, "DUPLICATE_METADATA_VALUE"),
        "{}",
        refused.body
    );
    assert_eq!(indexes(&app).await, json!([]));
    let b_path = format!("{ledger}/accounts/{}", b.body["id"].as_str().unwrap());
    let silver = app
        .patch(&b_path, json!({"metadata": {"tier": "silver"}}))
        .await;
    assert_eq!(silver.status, 200, "{}", silver.body);
    let created = app.post(&entity("account"), unique).await;
    assert_eq!(created.status, 201, "{}", created.body);

    // A new account or a PATCH taking the value is refused whole.
    let twin = account(&app, &ledger, "@c", json!({"tier": "gold"})).await;
    assert_eq!(
        (twin.status.as_u16(), twin.code()),
        (409, "DUPLICATE_METADATA_VALUE"),
        "{}",
        twin.body
    );
    let missing = app.get(&format!("{ledger}/accounts/alias/@c")).await;
    assert_eq!(missing.status, 404);
    let patched = app
        .patch(&b_path, json!({"metadata": {"tier": "gold"}}))
        .await;
    assert_eq!(
        (patched.status.as_u16(), patched.code()),
        (409, "DUPLICATE_METADATA_VALUE")
    );
    assert_eq!(
        app.get(&b_path).await.body["metadata"],
        json!({"tier": "silver"})
    );
    let listed = app
        .get(&format!("{ledger}/accounts?metadata.tier=gold"))
        .await;
    let aliases: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["alias"].as_str().unwrap())
        .collect();
    assert_eq!(aliases, ["@a"]);
    // Accounts without the key never conflict; a deleted account frees its value.
    for alias in ["@d", "@e"] {
        assert_eq!(account(&app, &ledger, alias, json!({})).await.status, 201);
    }
    let a_path = format!("{ledger}/accounts/{}", a.body["id"].as_str().unwrap());
    assert_eq!(app.delete(&a_path).await.status, 204);
    assert_eq!(
        account(&app, &ledger, "@c", json!({"tier": "gold"}))
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn a_transaction_with_a_taken_unique_reference_moves_no_money() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    app.asset(&ledger, "USD").await;
    app.account(&ledger, "@a", "USD").await;
    let unique = json!({"metadataKey": "reference", "unique": true});
    assert_eq!(app.post(&entity("transaction"), unique).await.status, 201);
    let mut inflow = transfer(None, "@a", "100");
    inflow["metadata"] = json!({"reference": "R-1"});
    let first = app
        .post(&format!("{ledger}/transactions/inflow"), inflow)
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    // Another amount, so that it is not the first request replayed (body-hash idempotency).
    let mut again = transfer(None, "@a", "50");
    again["metadata"] = json!({"reference": "R-1"});
    let second = app
        .post(&format!("{ledger}/transactions/inflow"), again)
        .await;
    assert_eq!(
        (second.status.as_u16(), second.code()),
        (409, "DUPLICATE_METADATA_VALUE"),
        "{}",
        second.body
    );
    let balances = app
        .get(&format!("{ledger}/accounts/alias/@a/balances"))
        .await;
    assert_eq!(balances.body["items"][0]["available"], "100");
    let listed = app.get(&format!("{ledger}/transactions")).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn indexes_belong_to_the_callers_tenant_and_need_the_settings_scope() {
    let app = spawn_multi_tenant(|config| config.auto_provision = true).await;
    let acme = app.with_token(token_for("acme", json!({})));
    let globex = app.with_token(token_for("globex", json!({})));
    let created = acme
        .post(&entity("account"), json!({"metadataKey": "tier"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(indexes(&acme).await.as_array().unwrap().len(), 1);
    assert_eq!(indexes(&globex).await, json!([]));

    let reader = app.with_token(token_for("acme", json!({"scope": "settings:get"})));
    assert_eq!(indexes(&reader).await.as_array().unwrap().len(), 1);
    let denied = reader
        .post(&entity("account"), json!({"metadataKey": "rank"}))
        .await;
    assert_eq!((denied.status.as_u16(), denied.code()), (403, "0043"));
    let denied = reader
        .delete(&format!("{}/key/tier", entity("account")))
        .await;
    assert_eq!((denied.status.as_u16(), denied.code()), (403, "0043"));
    assert_eq!(indexes(&acme).await.as_array().unwrap().len(), 1);
}
