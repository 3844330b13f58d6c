//! The onboarding half of the Midaz v3.8 contract, end to end against the real server:
//! organizations, ledgers (and their settings), assets, portfolios, segments, account types and
//! accounts. Every rejected call is followed by a check that it changed nothing.
// A failed expectation is a failed test: `expect` is the assertion here.
#![allow(clippy::expect_used)]

use crate::common;

use common::{Reply, TestApp, spawn_app};
use serde_json::{Value, json};

const ORGS: &str = "/v1/organizations";
const NOT_A_UUID: &str = "not-a-uuid";
const MISSING_ID: &str = "01900000-0000-7000-8000-000000000000";

// ---- helpers -------------------------------------------------------------------------------

fn id_of(reply: &Reply) -> String {
    reply.body["id"].as_str().expect("id").to_owned()
}

/// Asserts an error reply: status, Midaz code, and the `{code, title, message}` envelope.
#[track_caller]
fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
    assert_eq!(reply.code(), code, "{}", reply.body);
    assert!(reply.body["title"].is_string(), "{}", reply.body);
    assert!(reply.body["message"].is_string(), "{}", reply.body);
}

/// Asserts the `fields` of an error reply name exactly `expected`.
#[track_caller]
fn assert_fields(reply: &Reply, expected: &[&str]) {
    let fields = reply.body["fields"]
        .as_object()
        .unwrap_or_else(|| panic!("no fields: {}", reply.body));
    let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
    names.sort_unstable();
    let mut expected = expected.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected, "{}", reply.body);
}

/// A stored entity as the API returns it: UUIDv7 id, `Z` timestamps, not deleted.
#[track_caller]
fn assert_entity(body: &Value) {
    let id = body["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {body}"));
    let parsed = uuid::Uuid::parse_str(id).expect("id is a UUID");
    assert_eq!(parsed.get_version_num(), 7, "id {id} is not UUIDv7");
    for stamp in ["createdAt", "updatedAt"] {
        let at = body[stamp]
            .as_str()
            .unwrap_or_else(|| panic!("no {stamp}: {body}"));
        assert!(at.ends_with('Z'), "{stamp} {at} does not end in Z");
        assert!(
            at.len() >= 20 && at.as_bytes()[10] == b'T',
            "{stamp} {at} is not RFC 3339"
        );
    }
    assert!(body["deletedAt"].is_null(), "{body}");
    assert!(body["metadata"].is_object(), "{body}");
}

#[track_caller]
fn assert_created(reply: &Reply) {
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_entity(&reply.body);
}

/// Sends `text` as a JSON body, as is.
async fn send_raw(app: &TestApp, method: reqwest::Method, path: &str, text: &str) -> Reply {
    let response = app
        .client
        .request(method, format!("{}{path}", app.base))
        .header("content-type", "application/json")
        .body(text.to_owned())
        .send()
        .await
        .expect("request");
    Reply::from(response).await
}

/// `HEAD {collection}/metrics/count`: 204, empty body, `X-Total-Count`.
async fn total(app: &TestApp, collection: &str) -> u64 {
    let reply = app.head(&format!("{collection}/metrics/count")).await;
    assert_eq!(reply.status, 204, "count of {collection}");
    assert!(reply.body.is_null());
    reply
        .header("x-total-count")
        .and_then(|n| n.parse().ok())
        .expect("X-Total-Count")
}

/// A successful page list: the `{items, page, limit}` envelope, items returned.
async fn page(app: &TestApp, path: &str) -> Vec<Value> {
    let reply = app.get(path).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    assert!(reply.body["page"].is_u64(), "{}", reply.body);
    assert!(reply.body["limit"].is_u64(), "{}", reply.body);
    reply.body["items"].as_array().cloned().expect("items")
}

/// A successful list of either style (page or cursor): its items.
async fn items(app: &TestApp, path: &str) -> Vec<Value> {
    let reply = app.get(path).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    assert!(reply.body["limit"].is_u64(), "{}", reply.body);
    reply.body["items"].as_array().cloned().expect("items")
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|item| item["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Asserts GET `path` still returns exactly `before`.
async fn assert_unchanged(app: &TestApp, path: &str, before: &Value) {
    let now = app.get(path).await;
    assert_eq!(now.status, 200, "{}", now.body);
    assert_eq!(&now.body, before, "a rejected call changed {path}");
}

/// Live balances of the account `alias`, read straight from the tenant file:
/// `(key, available, onHold, allowSending, allowReceiving)`.
fn live_balances(app: &TestApp, account_id: &str) -> Vec<(String, String, String, bool, bool)> {
    let path = app.data_dir.join("tenants").join("default.sqlite");
    let conn =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open tenant file");
    let mut statement = conn
        .prepare(
            "SELECT key, available, on_hold, allow_sending, allow_receiving FROM balance \
             WHERE account_id = ? AND deleted_at IS NULL ORDER BY key",
        )
        .expect("prepare");
    statement
        .query_map([account_id], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            ))
        })
        .expect("query")
        .collect::<rusqlite::Result<Vec<_>>>()
        .expect("rows")
}

fn default_balance() -> Vec<(String, String, String, bool, bool)> {
    vec![(
        "default".to_owned(),
        "0".to_owned(),
        "0".to_owned(),
        true,
        true,
    )]
}

fn org_body(name: &str) -> Value {
    json!({"legalName": name, "legalDocument": "123", "address": {"country": "US"}})
}

/// What one CRUD lifecycle needs to know about an entity.
struct Crud<'a> {
    collection: String,
    create: Value,
    patch: Value,
    not_found: &'a str,
    /// Whether the entity has a `status` (and the collection `HEAD …/metrics/count`); account
    /// types have neither.
    with_status_and_count: bool,
}

/// Create, get, count, list, patch, delete, and 404 afterwards, with the exact codes.
async fn lifecycle(app: &TestApp, crud: Crud<'_>) -> Value {
    let Crud {
        collection,
        create,
        patch,
        not_found,
        with_status_and_count: counted,
    } = crud;
    let count_before = if counted {
        total(app, &collection).await
    } else {
        0
    };
    let list_before = ids(&items(app, &format!("{collection}?limit=100")).await);

    let created = app.post(&collection, create.clone()).await;
    assert_created(&created);
    if counted {
        assert_eq!(
            created.body["status"],
            json!({"code": "ACTIVE"}),
            "{}",
            created.body
        );
    }
    let id = id_of(&created);
    let item = format!("{collection}/{id}");

    let got = app.get(&item).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, created.body);
    if counted {
        assert_eq!(total(app, &collection).await, count_before + 1);
    }
    let listed = items(app, &format!("{collection}?limit=100")).await;
    assert_eq!(
        ids(&listed),
        [list_before.clone(), vec![id.clone()]].concat()
    );
    assert_eq!(listed.last(), Some(&created.body));

    // Metadata merges key by key and a null value removes its key, on every entity.
    let mut merged = created.body["metadata"].clone();
    merged["lifecycle"] = json!("on");
    let added = app
        .patch(&item, json!({"metadata": {"lifecycle": "on"}}))
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(added.body["metadata"], merged);
    let removed = app
        .patch(&item, json!({"metadata": {"lifecycle": null}}))
        .await;
    assert_eq!(removed.body["metadata"], created.body["metadata"]);

    let patched = app.patch(&item, patch.clone()).await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_entity(&patched.body);
    for (key, value) in patch.as_object().expect("patch is an object") {
        if key != "metadata" {
            assert_eq!(&patched.body[key], value, "{key} after PATCH");
        }
    }
    assert_eq!(patched.body["id"], created.body["id"]);
    assert_eq!(patched.body["createdAt"], created.body["createdAt"]);
    assert!(patched.body["updatedAt"].as_str() >= created.body["updatedAt"].as_str());
    assert_unchanged(app, &item, &patched.body).await;

    let deleted = app.delete(&item).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert!(deleted.body.is_null());
    assert_error(&app.get(&item).await, 404, not_found);
    assert_error(&app.patch(&item, patch).await, 404, not_found);
    assert_error(&app.delete(&item).await, 404, not_found);
    if counted {
        assert_eq!(total(app, &collection).await, count_before);
    }
    assert_eq!(
        ids(&items(app, &format!("{collection}?limit=100")).await),
        list_before
    );
    patched.body
}

// ---- organizations -------------------------------------------------------------------------

#[tokio::test]
async fn organization_lifecycle() {
    let app = spawn_app().await;
    let create = json!({
        "legalName": "Acme Ltd", "legalDocument": "12345678000199", "doingBusinessAs": "Acme",
        "address": {"line1": "1 Main St", "zipCode": "10001", "city": "New York", "state": "NY", "country": "US"},
        "status": {"code": "ACTIVE", "description": "open"},
        "metadata": {"tier": "gold"},
    });
    let reply = app.post(ORGS, create.clone()).await;
    assert_created(&reply);
    for key in [
        "legalName",
        "legalDocument",
        "doingBusinessAs",
        "status",
        "metadata",
    ] {
        assert_eq!(reply.body[key], create[key], "{key}");
    }
    assert_eq!(reply.body["address"]["city"], "New York");
    assert_eq!(reply.body["address"]["country"], "US");
    assert!(reply.body["parentOrganizationId"].is_null());
    let org = format!("{ORGS}/{}", id_of(&reply));
    assert_eq!(app.delete(&org).await.status, 204);

    lifecycle(
        &app,
        Crud {
            collection: ORGS.to_owned(),
            create: org_body("Beta Corp"),
            patch: json!({"legalName": "Beta Corporation", "doingBusinessAs": "Beta", "status": {"code": "INACTIVE"}}),
            not_found: "0038",
            with_status_and_count: true,
        },
    )
    .await;
}

#[tokio::test]
async fn organization_parent_and_country_rules() {
    let app = spawn_app().await;
    let parent = app.organization().await;
    let child = app
        .post(
            ORGS,
            json!({"legalName": "Child", "legalDocument": "1", "parentOrganizationId": parent}),
        )
        .await;
    assert_created(&child);
    assert_eq!(child.body["parentOrganizationId"], parent.as_str());
    assert_eq!(total(&app, ORGS).await, 2);

    let orphan = app.post(ORGS, json!({"legalName": "Orphan", "legalDocument": "1", "parentOrganizationId": MISSING_ID})).await;
    assert_error(&orphan, 404, "0039");
    let bad_country = app
        .post(
            ORGS,
            json!({"legalName": "X", "legalDocument": "1", "address": {"country": "USA"}}),
        )
        .await;
    assert_error(&bad_country, 400, "0032");
    let no_country = app
        .post(
            ORGS,
            json!({"legalName": "X", "legalDocument": "1", "address": {"city": "Paris"}}),
        )
        .await;
    assert_error(&no_country, 400, "0032");
    let bad_parent = app
        .post(
            ORGS,
            json!({"legalName": "X", "legalDocument": "1", "parentOrganizationId": "nope"}),
        )
        .await;
    assert_error(&bad_parent, 400, "0047");
    assert_fields(&bad_parent, &["parentOrganizationId"]);
    assert_eq!(total(&app, ORGS).await, 2);

    let child_path = format!("{ORGS}/{}", id_of(&child));
    let before = app.get(&child_path).await.body;
    let own = app
        .patch(&child_path, json!({"parentOrganizationId": id_of(&child)}))
        .await;
    assert_error(&own, 400, "0091");
    assert_error(
        &app.patch(&child_path, json!({"parentOrganizationId": MISSING_ID}))
            .await,
        404,
        "0039",
    );
    assert_error(
        &app.patch(&child_path, json!({"address": {"country": "XX"}}))
            .await,
        400,
        "0032",
    );
    let document = app
        .patch(&child_path, json!({"legalDocument": "999"}))
        .await;
    assert_error(&document, 400, "0053");
    assert_fields(&document, &["legalDocument"]);
    assert_unchanged(&app, &child_path, &before).await;

    let cleared = app
        .patch(&child_path, json!({"parentOrganizationId": null}))
        .await;
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    assert!(cleared.body["parentOrganizationId"].is_null());
}

#[tokio::test]
async fn organization_body_validation_in_midaz_order() {
    let app = spawn_app().await;
    use reqwest::Method;

    assert_error(&send_raw(&app, Method::POST, ORGS, "{").await, 400, "0094");
    assert_error(&send_raw(&app, Method::POST, ORGS, "[]").await, 400, "0094");
    assert_error(&send_raw(&app, Method::POST, ORGS, "").await, 400, "0094");
    // A value of the wrong type names its field, nested ones by their path.
    let wrong_type = app
        .post(ORGS, json!({"legalName": 5, "legalDocument": "1"}))
        .await;
    assert_error(&wrong_type, 400, "0094");
    assert_eq!(
        wrong_type.body["message"],
        "Invalid request body: legalName: invalid type: number, expected a string."
    );
    let nested = app
        .post(
            ORGS,
            json!({"legalName": "A", "legalDocument": "1", "address": {"country": 7}}),
        )
        .await;
    assert_error(&nested, 400, "0094");
    assert_eq!(
        nested.body["message"],
        "Invalid request body: address.country: invalid type: number, expected a string."
    );
    assert_error(
        &app.post(
            ORGS,
            json!({"legalName": "A", "legalDocument": "1", "address": "x"}),
        )
        .await,
        400,
        "0094",
    );
    assert_eq!(app.get(ORGS).await.body["items"], json!([]));
    // Nesting deeper than 10 levels is refused before anything else is looked at.
    let deep = format!(
        "{{\"legalName\": \"A\", \"extra\": 1, \"metadata\": {}1{}}}",
        "{\"a\":".repeat(10),
        "}".repeat(10)
    );
    assert_error(
        &send_raw(&app, Method::POST, ORGS, &deep).await,
        400,
        "0144",
    );

    // Unknown fields come before missing ones, and are all listed (nested ones by path).
    let unknown = app
        .post(
            ORGS,
            json!({"legalName": "A", "colour": "red", "address": {"planet": "Mars"}}),
        )
        .await;
    assert_error(&unknown, 400, "0053");
    assert_fields(&unknown, &["address.planet", "colour"]);

    // Missing required fields come before too-long ones and before metadata rules.
    let long = "x".repeat(257);
    let missing = app
        .post(
            ORGS,
            json!({"doingBusinessAs": long, "metadata": {"k": {"nested": 1}}}),
        )
        .await;
    assert_error(&missing, 400, "0009");
    assert_fields(&missing, &["legalDocument", "legalName"]);
    let blank = app
        .post(ORGS, json!({"legalName": "  ", "legalDocument": "1"}))
        .await;
    assert_error(&blank, 400, "0009");
    assert_fields(&blank, &["legalName"]);

    let too_long = app
        .post(
            ORGS,
            json!({"legalName": long, "legalDocument": "1", "doingBusinessAs": long}),
        )
        .await;
    assert_error(&too_long, 400, "0047");
    assert_fields(&too_long, &["doingBusinessAs", "legalName"]);
    let status_long = app
        .post(
            ORGS,
            json!({"legalName": "A", "legalDocument": "1", "status": {"code": "x".repeat(101)}}),
        )
        .await;
    assert_error(&status_long, 400, "0047");
    assert_fields(&status_long, &["status.code"]);
    assert_eq!(total(&app, ORGS).await, 0);
    assert!(page(&app, ORGS).await.is_empty());

    // Explicit nulls for known optional fields are accepted; limits are inclusive.
    let nulls = app
        .post(
            ORGS,
            json!({
                "legalName": "x".repeat(256), "legalDocument": "1", "doingBusinessAs": null,
                "parentOrganizationId": null, "address": null, "status": null, "metadata": null,
            }),
        )
        .await;
    assert_created(&nulls);
    assert_eq!(nulls.body["status"], json!({"code": "ACTIVE"}));
    assert_eq!(nulls.body["metadata"], json!({}));
    let empty_status = app
        .post(
            ORGS,
            json!({"legalName": "B", "legalDocument": "1", "status": {"code": ""}}),
        )
        .await;
    assert_created(&empty_status);
    assert_eq!(empty_status.body["status"], json!({"code": "ACTIVE"}));
    assert_eq!(total(&app, ORGS).await, 2);

    // The same order on PATCH, and nothing changes.
    let org = format!("{ORGS}/{}", id_of(&nulls));
    let before = app.get(&org).await.body;
    assert_error(
        &send_raw(&app, Method::PATCH, &org, "{\"legalName\":").await,
        400,
        "0094",
    );
    assert_error(
        &app.patch(&org, json!({"legalName": ["A"]})).await,
        400,
        "0094",
    );
    let unknown = app
        .patch(&org, json!({"legalName": "New", "nickname": "n"}))
        .await;
    assert_error(&unknown, 400, "0053");
    assert_fields(&unknown, &["nickname"]);
    let too_long = app.patch(&org, json!({"legalName": long})).await;
    assert_error(&too_long, 400, "0047");
    assert_fields(&too_long, &["legalName"]);
    assert_error(
        &app.patch(
            &org,
            json!({"legalName": "New", "metadata": {"k": {"a": 1}}}),
        )
        .await,
        400,
        "0067",
    );
    assert_unchanged(&app, &org, &before).await;
    let nulls = app
        .patch(
            &org,
            json!({"legalName": null, "doingBusinessAs": null, "status": null, "address": null}),
        )
        .await;
    assert_eq!(nulls.status, 200, "{}", nulls.body);
    assert_eq!(nulls.body["legalName"], before["legalName"]);
}

#[tokio::test]
async fn path_ids_must_be_uuids() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let org = ledger
        .split("/ledgers/")
        .next()
        .expect("org path")
        .to_owned();
    let bad = format!("{ORGS}/{NOT_A_UUID}");
    assert_error(&app.get(&bad).await, 400, "0065");
    assert_error(
        &app.patch(&bad, json!({"legalName": "A"})).await,
        400,
        "0065",
    );
    assert_error(&app.delete(&bad).await, 400, "0065");
    assert_error(&app.get(&format!("{bad}/ledgers")).await, 400, "0065");
    assert_error(
        &app.post(&format!("{bad}/ledgers"), json!({"name": "L"}))
            .await,
        400,
        "0065",
    );
    assert_error(
        &app.get(&format!("{org}/ledgers/{NOT_A_UUID}")).await,
        400,
        "0065",
    );
    assert_error(
        &app.get(&format!("{org}/ledgers/{NOT_A_UUID}/settings"))
            .await,
        400,
        "0065",
    );
    assert_error(
        &app.get(&format!("{org}/ledgers/{NOT_A_UUID}/assets")).await,
        400,
        "0065",
    );
    for collection in [
        "assets",
        "portfolios",
        "segments",
        "accounts",
        "account-types",
    ] {
        assert_error(
            &app.get(&format!("{ledger}/{collection}/{NOT_A_UUID}"))
                .await,
            400,
            "0065",
        );
        assert_error(
            &app.delete(&format!("{ledger}/{collection}/{NOT_A_UUID}"))
                .await,
            400,
            "0065",
        );
    }
    // Nothing was created or deleted by any of them.
    assert_eq!(total(&app, ORGS).await, 1);
    assert_eq!(total(&app, &format!("{org}/ledgers")).await, 1);
}

#[tokio::test]
async fn unknown_route_is_a_json_404() {
    let app = spawn_app().await;
    let reply = app.get("/v1/nothing/here").await;
    assert_eq!(reply.status, 404);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json"))
    );
    assert!(reply.body.is_object(), "{}", reply.body);
    assert_eq!(reply.body["message"], "Cannot GET /v1/nothing/here");
    let post = app.post("/v2/organizations", json!({})).await;
    assert_eq!(post.status, 404);
    assert_eq!(post.body["message"], "Cannot POST /v2/organizations");
}

/// Midaz renders unmatched routes with Fiber's envelope: an integer `code` and the title
/// `request_failed` (reference §1.3). The 404 is rendered by `http::not_found` with
/// `Kind::RouteNotFound` (code "0007"), which this test may not change.
#[tokio::test]
async fn unknown_route_uses_the_fiber_envelope() {
    let app = spawn_app().await;
    let reply = app.get("/v1/nothing/here").await;
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.body,
        json!({"code": 404, "title": "request_failed", "message": "Cannot GET /v1/nothing/here"})
    );
}

// ---- metadata ------------------------------------------------------------------------------

#[tokio::test]
async fn metadata_rules_on_create() {
    let app = spawn_app().await;
    let with =
        |metadata: Value| json!({"legalName": "A", "legalDocument": "1", "metadata": metadata});
    let long_key = "k".repeat(101);
    let key = app.post(ORGS, with(json!({ long_key.clone(): "v" }))).await;
    assert_error(&key, 400, "0050");
    assert_fields(&key, &[&format!("metadata.{long_key}")]);
    let value = app.post(ORGS, with(json!({"k": "v".repeat(2001)}))).await;
    assert_error(&value, 400, "0051");
    assert_fields(&value, &["metadata.k"]);
    let nested = app.post(ORGS, with(json!({"k": {"a": 1}}))).await;
    assert_error(&nested, 400, "0067");
    assert_fields(&nested, &["metadata.k"]);
    assert_error(
        &app.post(ORGS, with(json!({"k": [1, 2]}))).await,
        400,
        "0051",
    );
    assert_error(&app.post(ORGS, with(json!({"k": null}))).await, 400, "0051");
    assert_error(&app.post(ORGS, with(json!("flat"))).await, 400, "0094");
    assert_eq!(total(&app, ORGS).await, 0);

    let limits = json!({ "k".repeat(100): "v".repeat(2000), "n": 1.5, "b": true, "s": "x" });
    let ok = app.post(ORGS, with(limits.clone())).await;
    assert_created(&ok);
    assert_eq!(ok.body["metadata"], limits);
}

#[tokio::test]
async fn metadata_patch_merges_removes_and_clears() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let segment = app
        .post(
            &format!("{ledger}/segments"),
            json!({"name": "S", "metadata": {"a": "1", "b": 2, "c": true}}),
        )
        .await;
    assert_created(&segment);
    let path = format!("{ledger}/segments/{}", id_of(&segment));

    let merged = app
        .patch(
            &path,
            json!({"metadata": {"a": "one", "b": null, "d": "new"}}),
        )
        .await;
    assert_eq!(merged.status, 200, "{}", merged.body);
    assert_eq!(
        merged.body["metadata"],
        json!({"a": "one", "c": true, "d": "new"})
    );

    let kept = app.patch(&path, json!({"name": "S2"})).await;
    assert_eq!(kept.status, 200, "{}", kept.body);
    assert_eq!(
        kept.body["metadata"],
        json!({"a": "one", "c": true, "d": "new"})
    );

    let before = app.get(&path).await.body;
    assert_error(
        &app.patch(&path, json!({"metadata": {"x": {"y": 1}}})).await,
        400,
        "0067",
    );
    assert_error(
        &app.patch(&path, json!({"metadata": {"x": "v".repeat(2001)}}))
            .await,
        400,
        "0051",
    );
    assert_error(
        &app.patch(&path, json!({"metadata": {"k".repeat(101): "v"}}))
            .await,
        400,
        "0050",
    );
    assert_unchanged(&app, &path, &before).await;

    let cleared = app.patch(&path, json!({"metadata": null})).await;
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    assert_eq!(cleared.body["metadata"], json!({}));
    assert_eq!(app.get(&path).await.body["metadata"], json!({}));
    assert_eq!(cleared.body["name"], "S2");
}

// ---- lists ---------------------------------------------------------------------------------

#[tokio::test]
async fn page_lists_paginate_and_sort() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for n in 0..5 {
        created.push(id_of(&app.post(ORGS, org_body(&format!("Org {n}"))).await));
    }

    let reply = app.get(ORGS).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["page"], 1);
    assert_eq!(reply.body["limit"], 10);
    assert_eq!(
        reply.body.as_object().map(|o| o.len()),
        Some(3),
        "{}",
        reply.body
    );
    assert_eq!(ids(&page(&app, ORGS).await), created);

    let first = app.get(&format!("{ORGS}?limit=2&page=1")).await;
    assert_eq!(
        (first.body["page"].as_u64(), first.body["limit"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(
        ids(first.body["items"].as_array().expect("items")),
        created[0..2]
    );
    assert_eq!(
        ids(&page(&app, &format!("{ORGS}?limit=2&page=2")).await),
        created[2..4]
    );
    let last = app.get(&format!("{ORGS}?limit=2&page=3")).await;
    assert_eq!(last.body["page"], 3);
    assert_eq!(
        ids(last.body["items"].as_array().expect("items")),
        created[4..]
    );
    assert!(
        page(&app, &format!("{ORGS}?limit=2&page=4"))
            .await
            .is_empty()
    );
    assert_eq!(
        ids(&page(&app, &format!("{ORGS}?limit=100")).await),
        created
    );

    let mut reversed = created.clone();
    reversed.reverse();
    assert_eq!(
        ids(&page(&app, &format!("{ORGS}?sort_order=desc")).await),
        reversed
    );
    assert_eq!(
        ids(&page(&app, &format!("{ORGS}?sort_order=asc")).await),
        created
    );
    assert_eq!(
        ids(&page(&app, &format!("{ORGS}?sort_order=desc&limit=2&page=2")).await),
        reversed[2..4]
    );

    // The count ignores paging.
    let count = app
        .head(&format!("{ORGS}/metrics/count?limit=1&page=2"))
        .await;
    assert_eq!(count.status, 204);
    assert_eq!(count.header("x-total-count").as_deref(), Some("5"));
}

#[tokio::test]
async fn page_list_query_errors() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    app.asset(&ledger, "USD").await;
    let accounts = format!("{ledger}/accounts");
    for base in [ORGS.to_owned(), accounts] {
        assert_error(&app.get(&format!("{base}?limit=101")).await, 400, "0080");
        assert_error(
            &app.get(&format!("{base}?sort_order=sideways")).await,
            400,
            "0081",
        );
        assert_error(&app.get(&format!("{base}?limit=0")).await, 400, "0082");
        assert_error(&app.get(&format!("{base}?limit=ten")).await, 400, "0082");
        assert_error(&app.get(&format!("{base}?limit=-1")).await, 400, "0082");
        assert_error(&app.get(&format!("{base}?page=0")).await, 400, "0082");
        assert_error(&app.get(&format!("{base}?page=x")).await, 400, "0082");
        assert_error(
            &app.get(&format!("{base}?start_date=2026-01-01")).await,
            400,
            "0083",
        );
        assert_error(
            &app.get(&format!("{base}?end_date=2026-01-01")).await,
            400,
            "0083",
        );
        assert_error(
            &app.get(&format!("{base}?start_date=2026-01-02&end_date=2026-01-01"))
                .await,
            400,
            "0078",
        );
        assert_error(
            &app.get(&format!("{base}?start_date=soon&end_date=2026-01-01"))
                .await,
            400,
            "0131",
        );
        assert_eq!(page(&app, &format!("{base}?limit=100")).await.len(), 1);
        assert_eq!(page(&app, &format!("{base}?limit=1")).await.len(), 1);
    }
    assert_error(&app.get(&format!("{ORGS}?status=GONE")).await, 400, "0082");
    let head = app.head(&format!("{ORGS}/metrics/count?limit=101")).await;
    assert_eq!(head.status, 400);
}

#[tokio::test]
async fn page_lists_filter_by_date_metadata_and_name() {
    let app = spawn_app().await;
    let with_meta = |name: &str, tier: &str| json!({"legalName": name, "legalDocument": "1", "doingBusinessAs": name, "metadata": {"tier": tier, "n": 1}});
    let alpha = id_of(&app.post(ORGS, with_meta("Alpha Bank", "gold")).await);
    let alpine = id_of(&app.post(ORGS, with_meta("alpine Co", "silver")).await);
    let beta = id_of(&app.post(ORGS, with_meta("Beta Bank", "gold")).await);

    assert_eq!(
        ids(&page(&app, &format!("{ORGS}?metadata.tier=gold")).await),
        [alpha.clone(), beta.clone()]
    );
    assert_eq!(
        ids(&page(&app, &format!("{ORGS}?metadata.tier=silver")).await),
        [alpine.as_str()]
    );
    assert!(
        page(&app, &format!("{ORGS}?metadata.tier=bronze"))
            .await
            .is_empty()
    );
    assert!(
        page(&app, &format!("{ORGS}?metadata.missing=gold"))
            .await
            .is_empty()
    );
    let count = app
        .head(&format!("{ORGS}/metrics/count?metadata.tier=gold"))
        .await;
    assert_eq!(count.header("x-total-count").as_deref(), Some("2"));
    // Only one metadata filter is honoured: the last one.
    assert_eq!(
        ids(&page(
            &app,
            &format!("{ORGS}?metadata.tier=silver&metadata.tier=gold")
        )
        .await),
        [alpha.clone(), beta.clone()]
    );
    // An organization's metadata filter does not combine with its name filters.
    assert_error(
        &app.get(&format!("{ORGS}?metadata.tier=gold&legal_name=Alpha"))
            .await,
        400,
        "0082",
    );
    assert_error(
        &app.get(&format!("{ORGS}?doing_business_as=Beta&metadata.tier=gold"))
            .await,
        400,
        "0082",
    );
    assert_eq!(
        app.head(&format!(
            "{ORGS}/metrics/count?metadata.tier=gold&legal_name=A"
        ))
        .await
        .status,
        400
    );
    assert_eq!(
        ids(&page(&app, &format!("{ORGS}?metadata.tier=gold&legal_document=1")).await),
        [alpha.clone(), beta.clone()]
    );

    // Name filters are case-insensitive prefixes.
    assert_eq!(
        ids(&page(&app, &format!("{ORGS}?legal_name=alp")).await),
        [alpha.clone(), alpine.clone()]
    );
    assert_eq!(
        ids(&page(&app, &format!("{ORGS}?legal_name=ALPHA")).await),
        [alpha.as_str()]
    );
    assert!(
        page(&app, &format!("{ORGS}?legal_name=Bank"))
            .await
            .is_empty()
    );
    assert_eq!(
        ids(&page(&app, &format!("{ORGS}?doing_business_as=beta")).await),
        [beta.as_str()]
    );
    assert!(
        page(&app, &format!("{ORGS}?legal_name=%25"))
            .await
            .is_empty()
    );

    // Dates: both ends, inclusive, date-only end meaning the whole day.
    let today = app.get(&format!("{ORGS}/{alpha}")).await.body["createdAt"]
        .as_str()
        .expect("createdAt")[..10]
        .to_owned();
    let window = format!("{ORGS}?start_date={today}&end_date={today}");
    assert_eq!(
        ids(&page(&app, &window).await),
        [alpha.clone(), alpine.clone(), beta.clone()]
    );
    assert!(
        page(
            &app,
            &format!("{ORGS}?start_date=2000-01-01&end_date=2000-12-31")
        )
        .await
        .is_empty()
    );
    let count = app
        .head(&format!(
            "{ORGS}/metrics/count?start_date=2000-01-01&end_date=2000-12-31"
        ))
        .await;
    assert_eq!(count.header("x-total-count").as_deref(), Some("0"));

    // Ledger-scoped lists filter the same way.
    let ledger = app.ledger().await;
    let segments = format!("{ledger}/segments");
    let retail = id_of(
        &app.post(
            &segments,
            json!({"name": "Retail", "metadata": {"region": "south"}}),
        )
        .await,
    );
    let wholesale = id_of(
        &app.post(
            &segments,
            json!({"name": "Wholesale", "metadata": {"region": "north"}}),
        )
        .await,
    );
    assert_eq!(
        ids(&page(&app, &format!("{segments}?name=re")).await),
        [retail.as_str()]
    );
    assert_eq!(
        ids(&page(&app, &format!("{segments}?metadata.region=north")).await),
        [wholesale]
    );
    let count = app
        .head(&format!("{segments}/metrics/count?name=RET"))
        .await;
    assert_eq!(count.header("x-total-count").as_deref(), Some("1"));
}

// ---- ledgers -------------------------------------------------------------------------------

#[tokio::test]
async fn ledger_lifecycle_and_rules() {
    let app = spawn_app().await;
    let org = app.organization().await;
    let ledgers = format!("{ORGS}/{org}/ledgers");
    let patched = lifecycle(
        &app,
        Crud {
            collection: ledgers.clone(),
            create: json!({"name": "Main", "metadata": {"k": "v"}}),
            patch: json!({"name": "Renamed", "status": {"code": "INACTIVE", "description": "closed"}}),
            not_found: "0037",
            with_status_and_count: true,
        },
    )
    .await;
    assert_eq!(patched["organizationId"], org.as_str());
    assert_eq!(
        patched["settings"],
        json!({"accounting": {"validateAccountType": false, "validateRoutes": false}})
    );

    let main = app.post(&ledgers, json!({"name": "Main"})).await;
    assert_created(&main);
    let other = app.post(&ledgers, json!({"name": "Other"})).await;
    assert_created(&other);
    assert_error(
        &app.post(&ledgers, json!({"name": "Main"})).await,
        409,
        "0002",
    );
    assert_eq!(total(&app, &ledgers).await, 2);
    let other_path = format!("{ledgers}/{}", id_of(&other));
    let before = app.get(&other_path).await.body;
    assert_error(
        &app.patch(&other_path, json!({"name": "Main"})).await,
        409,
        "0002",
    );
    let missing = app.post(&ledgers, json!({"metadata": {}})).await;
    assert_error(&missing, 400, "0009");
    assert_fields(&missing, &["name"]);
    let long = app.post(&ledgers, json!({"name": "n".repeat(257)})).await;
    assert_error(&long, 400, "0047");
    assert_fields(&long, &["name"]);
    assert_error(
        &app.post(&ledgers, json!({"name": "X", "organizationId": org}))
            .await,
        400,
        "0053",
    );
    assert_eq!(total(&app, &ledgers).await, 2);
    assert_unchanged(&app, &other_path, &before).await;
    assert_eq!(
        ids(&page(&app, &format!("{ledgers}?name=oth")).await),
        [id_of(&other)]
    );
    assert_eq!(
        ids(&page(&app, &format!("{ledgers}?status=active")).await).len(),
        2
    );
    assert!(
        page(&app, &format!("{ledgers}?status=inactive"))
            .await
            .is_empty()
    );
    assert_error(
        &app.get(&format!("{ledgers}?status=BLOCKED")).await,
        400,
        "0082",
    );

    // The same name is fine in another organization; ids do not cross organizations.
    let org2 = app.organization().await;
    let ledgers2 = format!("{ORGS}/{org2}/ledgers");
    assert_created(&app.post(&ledgers2, json!({"name": "Main"})).await);
    assert_error(
        &app.get(&format!("{ledgers2}/{}", id_of(&main))).await,
        404,
        "0037",
    );
    assert_error(
        &app.patch(
            &format!("{ledgers2}/{}", id_of(&main)),
            json!({"name": "Z"}),
        )
        .await,
        404,
        "0037",
    );
    assert_error(
        &app.delete(&format!("{ledgers2}/{}", id_of(&main))).await,
        404,
        "0037",
    );
    assert_eq!(total(&app, &ledgers).await, 2);

    // An unknown organization is 0038 on every ledger route.
    let nowhere = format!("{ORGS}/{MISSING_ID}/ledgers");
    assert_error(&app.post(&nowhere, json!({"name": "L"})).await, 404, "0038");
    assert_error(&app.get(&nowhere).await, 404, "0038");
    assert_error(
        &app.get(&format!("{nowhere}/{}", id_of(&main))).await,
        404,
        "0038",
    );
    assert_eq!(
        app.head(&format!("{nowhere}/metrics/count")).await.status,
        404
    );
}

#[tokio::test]
async fn ledger_settings_get_and_patch() {
    let app = spawn_app().await;
    let org = app.organization().await;
    let ledgers = format!("{ORGS}/{org}/ledgers");
    let created = app
        .post(
            &ledgers,
            json!({"name": "L", "settings": {"accounting": {"validateRoutes": true}}}),
        )
        .await;
    assert_created(&created);
    assert_eq!(
        created.body["settings"],
        json!({"accounting": {"validateAccountType": false, "validateRoutes": true}})
    );
    let ledger = format!("{ledgers}/{}", id_of(&created));
    let settings = format!("{ledger}/settings");

    let got = app.get(&settings).await;
    assert_eq!(got.status, 200);
    assert_eq!(
        got.body,
        json!({"accounting": {"validateAccountType": false, "validateRoutes": true}})
    );

    let merged = app
        .patch(
            &settings,
            json!({"accounting": {"validateAccountType": true}}),
        )
        .await;
    assert_eq!(merged.status, 200, "{}", merged.body);
    assert_eq!(
        merged.body,
        json!({"accounting": {"validateAccountType": true, "validateRoutes": true}})
    );
    assert_eq!(app.get(&settings).await.body, merged.body);
    assert_eq!(app.get(&ledger).await.body["settings"], merged.body);
    let empty = app.patch(&settings, json!({})).await;
    assert_eq!(empty.status, 200);
    assert_eq!(empty.body, merged.body);

    let before = app.get(&ledger).await.body;
    use reqwest::Method;
    let cases = [
        (json!({"colour": "red"}), "0147"),
        (json!({"accounting": {"validateEverything": true}}), "0147"),
        (json!({"accounting": {"validateRoutes": "yes"}}), "0148"),
        (json!({"accounting": {"validateRoutes": 1}}), "0148"),
        (json!({"accounting": true}), "0148"),
        (json!({"validateAccountType": false}), "0149"),
        (json!({"validateRoutes": false}), "0149"),
    ];
    for (body, code) in cases {
        assert_error(&app.patch(&settings, body.clone()).await, 400, code);
    }
    // A valid field next to a rejected one is not applied either.
    assert_error(
        &app.patch(
            &settings,
            json!({"accounting": {"validateRoutes": false, "x": 1}}),
        )
        .await,
        400,
        "0147",
    );
    assert_error(
        &send_raw(&app, Method::PATCH, &settings, "{").await,
        400,
        "0094",
    );
    assert_unchanged(&app, &ledger, &before).await;

    assert_error(
        &app.get(&format!("{ledgers}/{MISSING_ID}/settings")).await,
        404,
        "0037",
    );
    assert_error(
        &app.patch(&format!("{ledgers}/{MISSING_ID}/settings"), json!({}))
            .await,
        404,
        "0037",
    );

    // validateAccountType makes account types binding (0066); external stays allowed.
    app.asset(&ledger, "USD").await;
    let accounts = format!("{ledger}/accounts");
    assert_error(
        &app.post(&accounts, json!({"assetCode": "USD", "type": "deposit"}))
            .await,
        400,
        "0066",
    );
    assert_eq!(total(&app, &accounts).await, 1);
    let key = app
        .post(
            &format!("{ledger}/account-types"),
            json!({"name": "Deposit", "keyValue": "deposit"}),
        )
        .await;
    assert_created(&key);
    assert_created(
        &app.post(&accounts, json!({"assetCode": "USD", "type": "deposit"}))
            .await,
    );
    assert_eq!(total(&app, &accounts).await, 2);
}

// ---- assets --------------------------------------------------------------------------------

#[tokio::test]
async fn asset_lifecycle_and_external_account() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let assets = format!("{ledger}/assets");
    let accounts = format!("{ledger}/accounts");

    let created = app
        .post(
            &assets,
            json!({"name": "US Dollar", "type": "currency", "code": "USD", "metadata": {"k": "v"}}),
        )
        .await;
    assert_created(&created);
    assert_eq!(created.body["code"], "USD");
    assert_eq!(created.body["type"], "currency");
    assert_eq!(created.body["name"], "US Dollar");
    assert_eq!(created.body["status"], json!({"code": "ACTIVE"}));
    let (org_id, ledger_id) = {
        let parts: Vec<&str> = ledger.split('/').collect();
        (parts[3].to_owned(), parts[5].to_owned())
    };
    assert_eq!(created.body["organizationId"], org_id.as_str());
    assert_eq!(created.body["ledgerId"], ledger_id.as_str());

    // The external account and its default balance came with it.
    let external = app.get(&format!("{accounts}/external/USD")).await;
    assert_eq!(external.status, 200, "{}", external.body);
    assert_entity(&external.body);
    assert_eq!(external.body["alias"], "@external/USD");
    assert_eq!(external.body["type"], "external");
    assert_eq!(external.body["assetCode"], "USD");
    assert_eq!(external.body["name"], "External USD");
    assert_eq!(external.body["status"]["code"], "external");
    assert_eq!(external.body["ledgerId"], ledger_id.as_str());
    let external_id = id_of(&external);
    assert_eq!(live_balances(&app, &external_id), default_balance());
    assert_eq!(ids(&page(&app, &accounts).await), [external_id.as_str()]);
    assert_eq!(total(&app, &accounts).await, 1);
    assert_eq!(
        app.get(&format!("{accounts}/{external_id}")).await.body,
        external.body
    );

    // External accounts cannot be changed or deleted.
    let external_path = format!("{accounts}/{external_id}");
    assert_error(
        &app.patch(&external_path, json!({"name": "Mine"})).await,
        400,
        "0074",
    );
    assert_error(&app.delete(&external_path).await, 400, "0074");
    assert_unchanged(&app, &external_path, &external.body).await;
    assert_eq!(live_balances(&app, &external_id), default_balance());

    // Only name, status and metadata are updatable.
    let asset = format!("{assets}/{}", id_of(&created));
    let code = app.patch(&asset, json!({"code": "EUR"})).await;
    assert_error(&code, 400, "0053");
    assert_fields(&code, &["code"]);
    assert_error(
        &app.patch(&asset, json!({"type": "crypto"})).await,
        400,
        "0053",
    );
    assert_unchanged(&app, &asset, &created.body).await;
    let renamed = app
        .patch(
            &asset,
            json!({"name": "Dollar", "status": {"code": "INACTIVE"}, "metadata": {"x": "y"}}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(renamed.body["name"], "Dollar");
    assert_eq!(renamed.body["code"], "USD");
    assert_eq!(renamed.body["status"], json!({"code": "INACTIVE"}));
    assert_eq!(renamed.body["metadata"], json!({"k": "v", "x": "y"}));

    // Deleting the asset removes its external account and that account's balances.
    assert_eq!(app.delete(&asset).await.status, 204);
    assert_error(&app.get(&asset).await, 404, "0055");
    assert_error(
        &app.get(&format!("{accounts}/external/USD")).await,
        404,
        "0085",
    );
    assert_error(&app.get(&external_path).await, 404, "0052");
    assert!(live_balances(&app, &external_id).is_empty());
    assert_eq!(total(&app, &accounts).await, 0);
    assert_eq!(total(&app, &assets).await, 0);

    // The code is free again, with a new external account.
    let again = app.asset(&ledger, "USD").await;
    assert_ne!(again["id"], created.body["id"]);
    let external_again = app.get(&format!("{accounts}/external/USD")).await;
    assert_eq!(external_again.status, 200);
    assert_ne!(external_again.body["id"], external.body["id"]);
    assert_eq!(
        live_balances(&app, &id_of(&external_again)),
        default_balance()
    );

    lifecycle(
        &app,
        Crud {
            collection: assets,
            create: json!({"name": "Bitcoin", "type": "crypto", "code": "BTC"}),
            patch: json!({"name": "Bitcoin Core", "status": {"code": "BLOCKED"}}),
            not_found: "0055",
            with_status_and_count: true,
        },
    )
    .await;
    assert_error(
        &app.get(&format!("{accounts}/external/BTC")).await,
        404,
        "0085",
    );
}

#[tokio::test]
async fn asset_validation() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let assets = format!("{ledger}/assets");
    let accounts = format!("{ledger}/accounts");
    app.asset(&ledger, "USD").await;
    let asset =
        |name: &str, kind: &str, code: &str| json!({"name": name, "type": kind, "code": code});

    assert_error(
        &app.post(&assets, asset("Dollar", "currency", "USD")).await,
        409,
        "0003",
    );
    assert_error(
        &app.post(&assets, asset("USD", "currency", "EUR")).await,
        409,
        "0003",
    );
    assert_error(
        &app.post(&assets, asset("Dollar", "currency", "usd")).await,
        400,
        "0004",
    );
    assert_error(
        &app.post(&assets, asset("Dollar", "crypto", "Usd")).await,
        400,
        "0004",
    );
    assert_error(
        &app.post(&assets, asset("Dollar", "currency", "US1")).await,
        400,
        "0033",
    );
    assert_error(
        &app.post(&assets, asset("Dollar", "crypto", "US-D")).await,
        400,
        "0033",
    );
    assert_error(
        &app.post(&assets, asset("Dollar", "currency", "ABC")).await,
        400,
        "0005",
    );
    assert_error(
        &app.post(&assets, asset("Dollar", "money", "EUR")).await,
        400,
        "0040",
    );
    assert_error(
        &app.post(&assets, asset("Dollar", "Currency", "EUR")).await,
        400,
        "0040",
    );
    let missing = app.post(&assets, json!({"name": "Euro"})).await;
    assert_error(&missing, 400, "0009");
    assert_fields(&missing, &["code", "type"]);
    let long = app
        .post(&assets, asset(&"n".repeat(257), "others", &"C".repeat(101)))
        .await;
    assert_error(&long, 400, "0047");
    assert_fields(&long, &["code", "name"]);
    assert_error(
        &app.post(
            &assets,
            json!({"name": "E", "type": "currency", "code": "EUR", "scale": 2}),
        )
        .await,
        400,
        "0053",
    );
    assert_eq!(total(&app, &assets).await, 1);
    assert_eq!(total(&app, &accounts).await, 1);

    // Non-currency types take any upper-case letters.
    for (kind, code) in [
        ("crypto", "ABC"),
        ("commodity", "GOLD"),
        ("others", "POINTS"),
    ] {
        let reply = app.post(&assets, asset(code, kind, code)).await;
        assert_created(&reply);
        let external = app.get(&format!("{accounts}/external/{code}")).await;
        assert_eq!(external.status, 200, "{}", external.body);
    }
    assert_eq!(total(&app, &assets).await, 4);
    assert_eq!(total(&app, &accounts).await, 4);

    // Renaming onto another asset's name is a duplicate.
    let abc = page(&app, &format!("{assets}?name=ABC")).await;
    let abc_path = format!("{assets}/{}", abc[0]["id"].as_str().expect("id"));
    assert_error(
        &app.patch(&abc_path, json!({"name": "USD"})).await,
        409,
        "0003",
    );
    assert_unchanged(&app, &abc_path, &abc[0]).await;

    // Assets live in their ledger only.
    assert_error(
        &app.post(
            &format!("{ORGS}/{MISSING_ID}/ledgers/{MISSING_ID}/assets"),
            asset("E", "currency", "EUR"),
        )
        .await,
        404,
        "0038",
    );
    let org = ledger.split("/ledgers/").next().expect("org");
    assert_error(
        &app.post(
            &format!("{org}/ledgers/{MISSING_ID}/assets"),
            asset("E", "currency", "EUR"),
        )
        .await,
        404,
        "0037",
    );
    let other = app.ledger().await;
    assert_error(
        &app.get(&format!(
            "{other}/assets/{}",
            abc[0]["id"].as_str().expect("id")
        ))
        .await,
        404,
        "0055",
    );
    assert!(page(&app, &format!("{other}/assets")).await.is_empty());
    // Another ledger may use the same code, with an external account of its own.
    app.asset(&other, "USD").await;
    let theirs = app.get(&format!("{other}/accounts/external/USD")).await;
    let ours = app.get(&format!("{accounts}/external/USD")).await;
    assert_eq!((theirs.status.as_u16(), ours.status.as_u16()), (200, 200));
    assert_ne!(theirs.body["id"], ours.body["id"]);
    assert_eq!(total(&app, &assets).await, 4);
}

// ---- portfolios, segments, account types ---------------------------------------------------

#[tokio::test]
async fn portfolio_lifecycle() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let portfolios = format!("{ledger}/portfolios");
    let patched = lifecycle(
        &app,
        Crud {
            collection: portfolios.clone(),
            create: json!({"name": "Main", "entityId": "customer-1", "metadata": {"k": "v"}}),
            patch: json!({"name": "Renamed", "entityId": "customer-2", "status": {"code": "INACTIVE"}}),
            not_found: "0035",
            with_status_and_count: true,
        },
    )
    .await;
    assert_eq!(patched["metadata"], json!({"k": "v"}));

    let missing = app.post(&portfolios, json!({"entityId": "x"})).await;
    assert_error(&missing, 400, "0009");
    assert_fields(&missing, &["name"]);
    let long = app
        .post(
            &portfolios,
            json!({"name": "P", "entityId": "e".repeat(257)}),
        )
        .await;
    assert_error(&long, 400, "0047");
    assert_fields(&long, &["entityId"]);
    assert_error(
        &app.post(&portfolios, json!({"name": "P", "segmentId": MISSING_ID}))
            .await,
        400,
        "0053",
    );
    assert_eq!(total(&app, &portfolios).await, 0);

    let created = app
        .post(&portfolios, json!({"name": "P", "entityId": null}))
        .await;
    assert_created(&created);
    assert!(created.body["entityId"].is_null());
    let path = format!("{portfolios}/{}", id_of(&created));
    assert_error(
        &app.patch(&path, json!({"name": "n".repeat(257)})).await,
        400,
        "0047",
    );
    assert_error(
        &app.patch(&path, json!({"entityId": "e".repeat(257)})).await,
        400,
        "0047",
    );
    assert_unchanged(&app, &path, &created.body).await;
}

#[tokio::test]
async fn segment_lifecycle_and_unique_name() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let segments = format!("{ledger}/segments");
    lifecycle(
        &app,
        Crud {
            collection: segments.clone(),
            create: json!({"name": "Retail"}),
            patch: json!({"name": "Retail banking", "status": {"code": "INACTIVE"}}),
            not_found: "0036",
            with_status_and_count: true,
        },
    )
    .await;

    // The deleted segment's name is free again; a live one's is not.
    let retail = app.post(&segments, json!({"name": "Retail"})).await;
    assert_created(&retail);
    let corporate = app.post(&segments, json!({"name": "Corporate"})).await;
    assert_created(&corporate);
    assert_error(
        &app.post(&segments, json!({"name": "Retail"})).await,
        409,
        "0015",
    );
    assert_eq!(total(&app, &segments).await, 2);
    let corporate_path = format!("{segments}/{}", id_of(&corporate));
    assert_error(
        &app.patch(&corporate_path, json!({"name": "Retail"})).await,
        409,
        "0015",
    );
    assert_unchanged(&app, &corporate_path, &corporate.body).await;
    let same = app
        .patch(&corporate_path, json!({"name": "Corporate"}))
        .await;
    assert_eq!(same.status, 200, "{}", same.body);

    let missing = app.post(&segments, json!({"name": ""})).await;
    assert_error(&missing, 400, "0009");
    assert_fields(&missing, &["name"]);
    assert_eq!(total(&app, &segments).await, 2);

    // Another ledger may reuse the name.
    let other = app.ledger().await;
    assert_created(
        &app.post(&format!("{other}/segments"), json!({"name": "Retail"}))
            .await,
    );
    assert_eq!(total(&app, &segments).await, 2);
}

#[tokio::test]
async fn account_type_lifecycle_and_key_value() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let types = format!("{ledger}/account-types");
    let patched = lifecycle(
        &app,
        Crud {
            collection: types.clone(),
            create: json!({"name": "Checking", "description": "Current accounts", "keyValue": "checking", "metadata": {"k": "v"}}),
            patch: json!({"name": "Checking accounts", "description": "Everyday"}),
            not_found: "0109",
            with_status_and_count: false,
        },
    )
    .await;
    assert_eq!(patched["keyValue"], "checking");
    assert_eq!(patched["metadata"], json!({"k": "v"}));

    let savings = app
        .post(
            &types,
            json!({"name": "Savings", "keyValue": "savings_1-A"}),
        )
        .await;
    assert_created(&savings);
    assert_eq!(savings.body["keyValue"], "savings_1-A");
    assert!(savings.body["description"].is_null());
    assert_error(
        &app.post(&types, json!({"name": "Other", "keyValue": "savings_1-A"}))
            .await,
        409,
        "0108",
    );
    assert_error(
        &app.post(&types, json!({"name": "Bad", "keyValue": "has space"}))
            .await,
        400,
        "0120",
    );
    assert_error(
        &app.post(&types, json!({"name": "Bad", "keyValue": "dot.ted"}))
            .await,
        400,
        "0120",
    );
    let missing = app.post(&types, json!({"description": "d"})).await;
    assert_error(&missing, 400, "0009");
    assert_fields(&missing, &["keyValue", "name"]);
    let long = app.post(&types, json!({"name": "n".repeat(101), "keyValue": "k".repeat(51), "description": "d".repeat(501)})).await;
    assert_error(&long, 400, "0047");
    assert_fields(&long, &["description", "keyValue", "name"]);
    assert_error(
        &app.post(
            &types,
            json!({"name": "S", "keyValue": "s", "status": {"code": "ACTIVE"}}),
        )
        .await,
        400,
        "0053",
    );
    assert_eq!(ids(&items(&app, &types).await), [id_of(&savings)]);

    // keyValue is immutable.
    let path = format!("{types}/{}", id_of(&savings));
    let key = app.patch(&path, json!({"keyValue": "other"})).await;
    assert_error(&key, 400, "0053");
    assert_fields(&key, &["keyValue"]);
    assert_error(
        &app.patch(&path, json!({"name": "n".repeat(101)})).await,
        400,
        "0047",
    );
    assert_unchanged(&app, &path, &savings.body).await;
}

/// Account types are a cursor list (`{items, limit, next_cursor?, prev_cursor?}`, reference §5),
/// not a page list.
#[tokio::test]
async fn account_types_use_cursor_pagination() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let types = format!("{ledger}/account-types");
    let mut created = Vec::new();
    for key in ["a", "b", "c"] {
        created.push(id_of(
            &app.post(
                &types,
                json!({"name": format!("Type {key}"), "keyValue": key}),
            )
            .await,
        ));
    }
    let cursor_of =
        |reply: &Reply, name: &str| reply.body[name].as_str().expect("cursor").to_owned();
    let keys = |reply: &Reply| {
        let mut keys: Vec<String> = reply
            .body
            .as_object()
            .expect("object")
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    };

    let all = app.get(&types).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(keys(&all), ["items", "limit"]);
    assert_eq!(all.body["limit"], 10);
    assert_eq!(ids(all.body["items"].as_array().expect("items")), created);

    let first = app.get(&format!("{types}?limit=2")).await;
    assert_eq!(keys(&first), ["items", "limit", "next_cursor"]);
    assert_eq!(
        ids(first.body["items"].as_array().expect("items")),
        created[..2]
    );
    let second = app
        .get(&format!(
            "{types}?limit=2&cursor={}",
            cursor_of(&first, "next_cursor")
        ))
        .await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(keys(&second), ["items", "limit", "prev_cursor"]);
    assert_eq!(
        ids(second.body["items"].as_array().expect("items")),
        created[2..]
    );
    let back = app
        .get(&format!(
            "{types}?limit=2&cursor={}",
            cursor_of(&second, "prev_cursor")
        ))
        .await;
    assert_eq!(
        ids(back.body["items"].as_array().expect("items")),
        created[..2]
    );
    assert!(back.body["next_cursor"].is_string(), "{}", back.body);

    let mut reversed = created.clone();
    reversed.reverse();
    assert_eq!(
        ids(&items(&app, &format!("{types}?sort_order=desc")).await),
        reversed
    );
    assert_eq!(
        ids(&items(&app, &format!("{types}?name=type%20b")).await),
        [created[1].as_str()]
    );
    assert_error(
        &app.get(&format!("{types}?cursor=not-a-cursor")).await,
        400,
        "0082",
    );
    assert_error(&app.get(&format!("{types}?limit=101")).await, 400, "0080");
    assert_error(
        &app.get(&format!("{types}?sort_order=up")).await,
        400,
        "0081",
    );
    assert_error(
        &app.get(&format!(
            "{ORGS}/{MISSING_ID}/ledgers/{MISSING_ID}/account-types"
        ))
        .await,
        404,
        "0038",
    );
}

// ---- accounts ------------------------------------------------------------------------------

#[tokio::test]
async fn account_lifecycle() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let accounts = format!("{ledger}/accounts");
    app.asset(&ledger, "USD").await;

    // Alias and name default from the id and the asset and type.
    let plain = app
        .post(&accounts, json!({"assetCode": "USD", "type": "deposit"}))
        .await;
    assert_created(&plain);
    let plain_id = id_of(&plain);
    assert_eq!(plain.body["alias"], plain_id.as_str());
    assert_eq!(plain.body["name"], "USD deposit account");
    assert_eq!(plain.body["type"], "deposit");
    assert_eq!(plain.body["assetCode"], "USD");
    assert_eq!(plain.body["blocked"], false);
    assert_eq!(plain.body["status"], json!({"code": "ACTIVE"}));
    for key in ["parentAccountId", "portfolioId", "segmentId", "entityId"] {
        assert!(plain.body[key].is_null(), "{key}: {}", plain.body);
    }
    assert_eq!(live_balances(&app, &plain_id), default_balance());
    let by_alias = app.get(&format!("{accounts}/alias/{plain_id}")).await;
    assert_eq!(by_alias.status, 200);
    assert_eq!(by_alias.body, plain.body);

    let patched = lifecycle(
        &app,
        Crud {
            collection: accounts.clone(),
            create: json!({"alias": "@alice", "name": "Alice", "assetCode": "USD", "type": "savings", "blocked": true, "entityId": "person-1", "metadata": {"k": "v"}}),
            patch: json!({"name": "Alice S.", "blocked": false, "entityId": "person-2", "status": {"code": "BLOCKED", "description": "review"}}),
            not_found: "0052",
            with_status_and_count: true,
        },
    )
    .await;
    assert_eq!(patched["alias"], "@alice");
    assert_eq!(patched["type"], "savings");
    assert_eq!(patched["metadata"], json!({"k": "v"}));
    let alice_id = patched["id"].as_str().expect("id").to_owned();
    assert!(live_balances(&app, &alice_id).is_empty());
    assert_error(
        &app.get(&format!("{accounts}/alias/@alice")).await,
        404,
        "0085",
    );

    // The alias of a deleted account is free again.
    let again = app.account(&ledger, "@alice", "USD").await;
    assert_ne!(again["id"].as_str(), Some(alice_id.as_str()));
    let by_alias = app.get(&format!("{accounts}/alias/@alice")).await;
    assert_eq!(by_alias.status, 200);
    assert_eq!(by_alias.body, again);

    // An account with a zero balance deletes like any other.
    let plain_path = format!("{accounts}/{plain_id}");
    assert_eq!(app.delete(&plain_path).await.status, 204);
    assert_error(&app.get(&plain_path).await, 404, "0052");
    assert!(live_balances(&app, &plain_id).is_empty());
    assert_eq!(total(&app, &accounts).await, 2);
}

#[tokio::test]
async fn account_creation_rules() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let accounts = format!("{ledger}/accounts");
    app.asset(&ledger, "USD").await;
    app.asset(&ledger, "EUR").await;
    let usd_parent = app.account(&ledger, "@parent", "USD").await;
    let parent_id = usd_parent["id"].as_str().expect("id").to_owned();
    let before = ids(&page(&app, &format!("{accounts}?limit=100")).await);
    assert_eq!(before.len(), 3);
    let account = |extra: Value| {
        let mut body = json!({"assetCode": "USD", "type": "deposit"});
        for (k, v) in extra.as_object().expect("object") {
            body[k] = v.clone();
        }
        body
    };

    assert_error(
        &app.post(&accounts, account(json!({"alias": "@parent"})))
            .await,
        409,
        "0020",
    );
    assert_error(
        &app.post(&accounts, account(json!({"alias": "@external/USD"})))
            .await,
        400,
        "0047",
    );
    assert_error(
        &app.post(&accounts, account(json!({"alias": "bad alias"})))
            .await,
        400,
        "0096",
    );
    assert_error(
        &app.post(&accounts, account(json!({"alias": "al!as"})))
            .await,
        400,
        "0096",
    );
    assert_error(
        &app.post(&accounts, account(json!({"alias": "a/b"}))).await,
        400,
        "0096",
    );
    assert_error(
        &app.post(&accounts, account(json!({"assetCode": "GBP"})))
            .await,
        404,
        "0034",
    );
    assert_error(
        &app.post(&accounts, account(json!({"parentAccountId": MISSING_ID})))
            .await,
        400,
        "0029",
    );
    let eur_child = app
        .post(
            &accounts,
            account(json!({"assetCode": "EUR", "parentAccountId": parent_id})),
        )
        .await;
    assert_error(&eur_child, 400, "0030");
    assert_error(
        &app.post(&accounts, account(json!({"portfolioId": MISSING_ID})))
            .await,
        404,
        "0035",
    );
    assert_error(
        &app.post(&accounts, account(json!({"segmentId": MISSING_ID})))
            .await,
        404,
        "0036",
    );
    let bad_ids = app
        .post(
            &accounts,
            account(json!({"portfolioId": "p", "segmentId": "s", "parentAccountId": "x"})),
        )
        .await;
    assert_error(&bad_ids, 400, "0047");
    assert_fields(&bad_ids, &["parentAccountId", "portfolioId", "segmentId"]);
    let missing = app.post(&accounts, json!({"name": "N"})).await;
    assert_error(&missing, 400, "0009");
    assert_fields(&missing, &["assetCode", "type"]);
    let long = app
        .post(
            &accounts,
            account(json!({"alias": "a".repeat(101), "name": "n".repeat(257)})),
        )
        .await;
    assert_error(&long, 400, "0047");
    assert_fields(&long, &["alias", "name"]);
    let unknown = app.post(&accounts, account(json!({"balance": "10"}))).await;
    assert_error(&unknown, 400, "0053");
    assert_fields(&unknown, &["balance"]);
    assert_error(
        &app.post(&accounts, account(json!({"blocked": "no"}))).await,
        400,
        "0094",
    );
    assert_eq!(
        ids(&page(&app, &format!("{accounts}?limit=100")).await),
        before
    );
    assert_eq!(total(&app, &accounts).await, 3);

    // A child of the same asset; a portfolio's entityId is inherited when none is given.
    let child = app
        .post(
            &accounts,
            account(json!({"alias": "@child", "parentAccountId": parent_id})),
        )
        .await;
    assert_created(&child);
    assert_eq!(child.body["parentAccountId"], parent_id.as_str());
    let portfolio = app
        .post(
            &format!("{ledger}/portfolios"),
            json!({"name": "P", "entityId": "owner-9"}),
        )
        .await;
    let segment = app
        .post(&format!("{ledger}/segments"), json!({"name": "S"}))
        .await;
    let placed = app
        .post(&accounts, account(json!({"alias": "user_1:main-A", "portfolioId": id_of(&portfolio), "segmentId": id_of(&segment)})))
        .await;
    assert_created(&placed);
    assert_eq!(placed.body["alias"], "user_1:main-A");
    assert_eq!(placed.body["entityId"], "owner-9");
    assert_eq!(placed.body["portfolioId"], id_of(&portfolio).as_str());
    assert_eq!(placed.body["segmentId"], id_of(&segment).as_str());
    let own_entity = app
        .post(
            &accounts,
            account(json!({"portfolioId": id_of(&portfolio), "entityId": "mine"})),
        )
        .await;
    assert_eq!(own_entity.body["entityId"], "mine");

    // Explicit nulls are accepted.
    let nulls = app
        .post(
            &accounts,
            account(json!({"alias": null, "name": null, "parentAccountId": null, "portfolioId": null, "segmentId": null, "entityId": null, "blocked": null, "status": null, "metadata": null})),
        )
        .await;
    assert_created(&nulls);
    assert_eq!(nulls.body["alias"], nulls.body["id"]);

    // An external account of one's own needs an alias.
    let custom = app
        .post(&accounts, json!({"assetCode": "USD", "type": "external"}))
        .await;
    assert_error(&custom, 400, "0009");
    assert_fields(&custom, &["alias"]);
    assert_eq!(total(&app, &accounts).await, 7);

    // Accounts of another ledger are not visible here.
    let other = app.ledger().await;
    assert_error(
        &app.get(&format!("{other}/accounts/{parent_id}")).await,
        404,
        "0052",
    );
    assert_error(
        &app.get(&format!("{other}/accounts/alias/@parent")).await,
        404,
        "0085",
    );
    assert_error(
        &app.get(&format!("{other}/accounts/external/USD")).await,
        404,
        "0085",
    );
}

#[tokio::test]
async fn account_patch_rules() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let accounts = format!("{ledger}/accounts");
    app.asset(&ledger, "USD").await;
    let account = app.account(&ledger, "@bob", "USD").await;
    let path = format!("{accounts}/{}", account["id"].as_str().expect("id"));
    let portfolio = id_of(
        &app.post(&format!("{ledger}/portfolios"), json!({"name": "P"}))
            .await,
    );
    let segment = id_of(
        &app.post(&format!("{ledger}/segments"), json!({"name": "S"}))
            .await,
    );

    let placed = app
        .patch(
            &path,
            json!({"portfolioId": portfolio, "segmentId": segment, "entityId": "e1"}),
        )
        .await;
    assert_eq!(placed.status, 200, "{}", placed.body);
    assert_eq!(placed.body["portfolioId"], portfolio.as_str());
    assert_eq!(placed.body["segmentId"], segment.as_str());
    assert_eq!(placed.body["entityId"], "e1");

    let before = app.get(&path).await.body;
    assert_error(
        &app.patch(&path, json!({"portfolioId": MISSING_ID, "name": "X"}))
            .await,
        404,
        "0035",
    );
    assert_error(
        &app.patch(&path, json!({"segmentId": MISSING_ID, "name": "X"}))
            .await,
        404,
        "0036",
    );
    assert_error(
        &app.patch(&path, json!({"portfolioId": "nope"})).await,
        400,
        "0047",
    );
    for field in ["alias", "assetCode", "type", "parentAccountId"] {
        let reply = app.patch(&path, json!({ field: "x" })).await;
        assert_error(&reply, 400, "0053");
        assert_fields(&reply, &[field]);
    }
    assert_error(
        &app.patch(&format!("{accounts}/{MISSING_ID}"), json!({"name": "X"}))
            .await,
        404,
        "0052",
    );
    assert_unchanged(&app, &path, &before).await;

    let cleared = app
        .patch(
            &path,
            json!({"portfolioId": null, "segmentId": null, "entityId": null}),
        )
        .await;
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    for key in ["portfolioId", "segmentId", "entityId"] {
        assert!(cleared.body[key].is_null(), "{key}: {}", cleared.body);
    }
    assert_eq!(cleared.body["alias"], "@bob");
    assert_eq!(
        app.get(&format!("{accounts}/alias/@bob")).await.body,
        cleared.body
    );
}

#[tokio::test]
async fn account_lists_filter() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let accounts = format!("{ledger}/accounts");
    app.asset(&ledger, "USD").await;
    app.asset(&ledger, "EUR").await;
    let anna = id_of(&app.post(&accounts, json!({"alias": "@anna", "assetCode": "USD", "type": "deposit", "metadata": {"vip": "yes"}})).await);
    let andy = id_of(
        &app.post(
            &accounts,
            json!({"alias": "@andy", "assetCode": "EUR", "type": "savings", "blocked": true}),
        )
        .await,
    );
    let bea = id_of(&app.post(&accounts, json!({"alias": "@bea", "assetCode": "USD", "type": "deposit", "status": {"code": "INACTIVE"}})).await);

    assert_eq!(
        ids(&page(&app, &format!("{accounts}?alias=@an")).await),
        [anna.clone(), andy.clone()]
    );
    assert_eq!(
        ids(&page(&app, &format!("{accounts}?alias=%40AN")).await),
        [anna.clone(), andy.clone()]
    );
    assert_eq!(
        ids(&page(&app, &format!("{accounts}?type=deposit")).await),
        [anna.clone(), bea.clone()]
    );
    assert_eq!(
        ids(&page(&app, &format!("{accounts}?asset_code=EUR&type=external")).await).len(),
        1
    );
    assert_eq!(
        ids(&page(&app, &format!("{accounts}?blocked=true")).await),
        [andy.as_str()]
    );
    assert_eq!(
        ids(&page(&app, &format!("{accounts}?status=inactive")).await),
        [bea.as_str()]
    );
    assert_eq!(
        ids(&page(&app, &format!("{accounts}?metadata.vip=yes")).await),
        [anna.as_str()]
    );
    assert_eq!(
        ids(&page(&app, &format!("{accounts}?name=usd")).await),
        [anna.clone(), bea.clone()]
    );
    assert_error(
        &app.get(&format!("{accounts}?status=CLOSED")).await,
        400,
        "0082",
    );
    assert_error(
        &app.get(&format!("{accounts}?blocked=maybe")).await,
        400,
        "0082",
    );
    let count = app
        .head(&format!("{accounts}/metrics/count?type=deposit"))
        .await;
    assert_eq!(count.header("x-total-count").as_deref(), Some("2"));
    assert_eq!(total(&app, &accounts).await, 5);
}

#[tokio::test]
async fn lookups_by_alias_and_external_code() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let accounts = format!("{ledger}/accounts");
    app.asset(&ledger, "BRL").await;
    let carol = app.account(&ledger, "@carol", "BRL").await;
    let got = app.get(&format!("{accounts}/alias/@carol")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, carol);
    assert_error(
        &app.get(&format!("{accounts}/alias/@nobody")).await,
        404,
        "0085",
    );
    assert_error(
        &app.get(&format!("{accounts}/alias/@Carol")).await,
        404,
        "0085",
    );
    let external = app.get(&format!("{accounts}/external/BRL")).await;
    assert_eq!(external.status, 200);
    assert_eq!(external.body["alias"], "@external/BRL");
    assert_error(
        &app.get(&format!("{accounts}/external/USD")).await,
        404,
        "0085",
    );
    let org = ledger.split("/ledgers/").next().expect("org");
    assert_error(
        &app.get(&format!("{org}/ledgers/{MISSING_ID}/accounts/alias/@carol"))
            .await,
        404,
        "0037",
    );
    assert_error(
        &app.get(&format!(
            "{ORGS}/{MISSING_ID}/ledgers/{MISSING_ID}/accounts/external/BRL"
        ))
        .await,
        404,
        "0038",
    );
}

#[tokio::test]
async fn counts_of_every_collection() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let org = ledger.split("/ledgers/").next().expect("org").to_owned();
    assert_eq!(total(&app, ORGS).await, 1);
    assert_eq!(total(&app, &format!("{org}/ledgers")).await, 1);
    for collection in ["assets", "portfolios", "segments", "accounts"] {
        assert_eq!(
            total(&app, &format!("{ledger}/{collection}")).await,
            0,
            "{collection}"
        );
    }
    app.asset(&ledger, "USD").await;
    app.account(&ledger, "@a", "USD").await;
    app.post(&format!("{ledger}/portfolios"), json!({"name": "P"}))
        .await;
    app.post(&format!("{ledger}/segments"), json!({"name": "S"}))
        .await;
    let reply = app.head(&format!("{ledger}/accounts/metrics/count")).await;
    assert_eq!(reply.status, 204);
    assert_eq!(reply.header("x-total-count").as_deref(), Some("2"));
    for (collection, n) in [("assets", 1), ("portfolios", 1), ("segments", 1)] {
        assert_eq!(
            total(&app, &format!("{ledger}/{collection}")).await,
            n,
            "{collection}"
        );
    }
}

#[tokio::test]
async fn page_lists_share_one_envelope() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let org = ledger.split("/ledgers/").next().expect("org").to_owned();
    let collections = [
        ORGS.to_owned(),
        format!("{org}/ledgers"),
        format!("{ledger}/assets"),
        format!("{ledger}/portfolios"),
        format!("{ledger}/segments"),
        format!("{ledger}/accounts"),
    ];
    for collection in collections {
        let reply = app.get(&format!("{collection}?limit=5&page=2")).await;
        assert_eq!(reply.status, 200, "{collection}: {}", reply.body);
        assert_eq!(
            reply.body,
            json!({"items": [], "page": 2, "limit": 5}),
            "{collection}"
        );
        assert_error(
            &app.get(&format!("{collection}?limit=101")).await,
            400,
            "0080",
        );
    }
}
