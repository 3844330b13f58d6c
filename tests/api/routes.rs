//! `…/operation-routes` and `…/transaction-routes`, the route fields of transactions and
//! operations, and `accounting.validateRoutes`.

use serde_json::{Value, json};

use crate::common::{TestApp, spawn_app, transfer};

fn entry(debit: Option<&str>, credit: Option<&str>) -> Value {
    let rubric = |code: &str| json!({"code": code, "description": format!("Rubric {code}")});
    json!({"debit": debit.map(rubric), "credit": credit.map(rubric)})
}

async fn operation_route(app: &TestApp, ledger: &str, body: Value) -> String {
    let reply = app.post(&format!("{ledger}/operation-routes"), body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body["id"].as_str().unwrap().to_owned()
}

/// Posts each body to `path` and expects its refusal (status, code).
async fn assert_refused(app: &TestApp, path: &str, cases: Vec<(Value, u16, &str)>) {
    for (body, status, code) in cases {
        let reply = app.post(path, body.clone()).await;
        let got = (reply.status.as_u16(), reply.code());
        assert_eq!(got, (status, code), "{body}: {}", reply.body);
    }
}

/// A ledger with USD, accounts @a and @b, and 100 on @a.
async fn funded(app: &TestApp) -> String {
    let ledger = app.ledger().await;
    app.asset(&ledger, "USD").await;
    app.account(&ledger, "@a", "USD").await;
    app.account(&ledger, "@b", "USD").await;
    let reply = app
        .post(
            &format!("{ledger}/transactions/inflow"),
            transfer(None, "@a", "100"),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    ledger
}

// One resource's life in order (create, refusals, read, list, update, delete): each step
// builds on the state the one before left.
#[tokio::test]
async fn operation_routes_are_created_read_listed_updated_and_deleted_with_midazs_codes() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let routes = format!("{ledger}/operation-routes");
    let body = json!({"title": "Cash out", "description": "Leaves the cash account", "code": "EXT-1",
        "operationType": "source", "account": {"ruleType": "alias", "validIf": "@cash"},
        "accountingEntries": {"direct": entry(Some("1001"), None)}, "metadata": {"team": "ops"}});
    let created = app.post(&routes, body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["operationType"], "source");
    assert_eq!(
        created.body["account"],
        json!({"ruleType": "alias", "validIf": "@cash"})
    );
    assert_eq!(
        created.body["accountingEntries"],
        json!({"direct": {"debit": {"code": "1001", "description": "Rubric 1001"}, "credit": null}})
    );
    assert_eq!(created.body["deletedAt"], Value::Null);
    let one = app.get(&format!("{routes}/{id}")).await;
    assert_eq!((one.status.as_u16(), &one.body), (200, &created.body));

    // Midaz's refusals, each leaving the list as it was.
    let refused = vec![
        (json!({"operationType": "source"}), 400, "0009"),
        (
            json!({"title": "x", "operationType": "sideways"}),
            400,
            "0103",
        ),
        (
            json!({"title": "x", "operationType": "source", "account": {"ruleType": "name", "validIf": "x"}}),
            400,
            "0111",
        ),
        (
            json!({"title": "x", "operationType": "source", "account": {"ruleType": "account_type", "validIf": "deposit"}}),
            400,
            "0112",
        ),
        (
            json!({"title": "x", "operationType": "source", "account": {"ruleType": "alias"}}),
            400,
            "0009",
        ),
        (
            json!({"title": "x", "operationType": "source", "accountingEntries": {"direct": {}}}),
            400,
            "0009",
        ),
        (
            json!({"title": "x", "operationType": "source", "accountingEntries": {"block": {}}}),
            422,
            "0166",
        ),
        (
            json!({"title": "x", "operationType": "source", "accountingEntries": {"direct": entry(None, Some("2"))}}),
            422,
            "0166",
        ),
        (
            json!({"title": "x", "operationType": "destination", "accountingEntries": {"direct": entry(None, Some("2")), "hold": entry(Some("1"), Some("2"))}}),
            422,
            "0162",
        ),
        (
            json!({"title": "x", "operationType": "source", "accountingEntries": {"direct": entry(Some("1"), None), "revert": entry(Some("1"), Some("2"))}}),
            422,
            "0165",
        ),
        (
            json!({"title": "x", "operationType": "source", "accountingEntries": {"direct": entry(Some("1"), None), "hold": entry(Some("1"), Some("2"))}}),
            422,
            "0163",
        ),
        (
            json!({"title": "x", "operationType": "bidirectional", "accountingEntries": {"revert": entry(Some("1"), Some("2"))}}),
            422,
            "0164",
        ),
        (
            json!({"title": "x", "operationType": "source", "accountingEntries": {"later": {}}}),
            400,
            "0053",
        ),
    ];
    assert_refused(&app, &routes, refused).await;
    let list = app.get(&routes).await;
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        list.body
    );
    let by_metadata = app.get(&format!("{routes}?metadata.team=ops")).await;
    assert_eq!(by_metadata.body["items"][0]["id"], id.as_str());
    let none = app.get(&format!("{routes}?metadata.team=finance")).await;
    assert_eq!(none.body["items"], json!([]));

    // PATCH: title kept when absent, entries merged (null removes one), type fixed (0053).
    let patch = json!({"description": "Cash leaves", "accountingEntries": {"block": entry(Some("3001"), None)}});
    let updated = app.patch(&format!("{routes}/{id}"), patch).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["title"], "Cash out");
    assert_eq!(updated.body["description"], "Cash leaves");
    assert_eq!(
        updated.body["accountingEntries"]["direct"]["debit"]["code"],
        "1001"
    );
    assert_eq!(
        updated.body["accountingEntries"]["block"]["debit"]["code"],
        "3001"
    );
    let mismatched = json!({"accountingEntries": {"hold": entry(Some("1"), Some("2"))}});
    let reply = app.patch(&format!("{routes}/{id}"), mismatched).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (422, "0163"),
        "{}",
        reply.body
    );
    let reply = app
        .patch(
            &format!("{routes}/{id}"),
            json!({"operationType": "destination"}),
        )
        .await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (400, "0053"),
        "{}",
        reply.body
    );
    let removed = app
        .patch(
            &format!("{routes}/{id}"),
            json!({"accountingEntries": {"block": null}}),
        )
        .await;
    assert_eq!(
        removed.body["accountingEntries"],
        created.body["accountingEntries"]
    );

    let missing = format!("{routes}/0196f1d2-0000-7000-8000-000000000000");
    for reply in [
        app.get(&missing).await,
        app.patch(&missing, json!({"title": "y"})).await,
        app.delete(&missing).await,
    ] {
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (404, "0101"),
            "{}",
            reply.body
        );
    }
    assert_eq!(app.delete(&format!("{routes}/{id}")).await.status, 204);
    let gone = app.get(&format!("{routes}/{id}")).await;
    assert_eq!((gone.status.as_u16(), gone.code()), (404, "0101"));
    assert_eq!(app.get(&routes).await.body["items"], json!([]));
}

// One resource's life in order (create, refusals, read, list, update, delete): each step
// builds on the state the one before left.
#[tokio::test]
async fn transaction_routes_embed_their_operation_routes_and_hold_them_against_deletion() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    let source = operation_route(
        &app,
        &ledger,
        json!({"title": "Out", "operationType": "source"}),
    )
    .await;
    let destination = operation_route(
        &app,
        &ledger,
        json!({"title": "In", "operationType": "destination"}),
    )
    .await;
    let both = operation_route(
        &app,
        &ledger,
        json!({"title": "Both", "operationType": "bidirectional"}),
    )
    .await;
    let routes = format!("{ledger}/transaction-routes");
    let missing_route = "0196f1d2-0000-7000-8000-000000000000";
    let refused = vec![
        (json!({"title": "T"}), 400, "0009"),
        (
            json!({"title": "T", "operationRoutes": [source]}),
            400,
            "0154",
        ),
        (
            json!({"title": "T", "operationRoutes": [destination]}),
            400,
            "0153",
        ),
        (
            json!({"title": "T", "operationRoutes": [source, missing_route]}),
            404,
            "0101",
        ),
        (
            json!({"title": "T", "operationRoutes": ["not-a-uuid"]}),
            400,
            "0094",
        ),
    ];
    assert_refused(&app, &routes, refused).await;
    assert_eq!(app.get(&routes).await.body["items"], json!([]));

    let created = app
        .post(&routes, json!({"title": "Transfer", "operationRoutes": [source, destination], "metadata": {"k": "v"}}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let embedded: Vec<&str> = created.body["operationRoutes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(embedded, [source.as_str(), destination.as_str()]);
    assert_eq!(created.body["operationRoutes"][0]["title"], "Out");
    let one = app.get(&format!("{routes}/{id}")).await;
    assert_eq!(one.body, created.body);
    let listed = app.get(&format!("{routes}?metadata.k=v")).await;
    assert_eq!(listed.body["items"], json!([created.body]));

    // A listed operation route cannot be deleted, and stays.
    let reply = app
        .delete(&format!("{ledger}/operation-routes/{source}"))
        .await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (422, "0107"),
        "{}",
        reply.body
    );
    assert_eq!(
        app.get(&format!("{ledger}/operation-routes/{source}"))
            .await
            .status,
        200
    );

    // PATCH: 2 to 100 routes (0104 before the route is even looked up), then replaced.
    let path = format!("{routes}/{id}");
    let reply = app.patch(&path, json!({"operationRoutes": [both]})).await;
    assert_eq!((reply.status.as_u16(), reply.code()), (400, "0104"));
    let too_many: Vec<&str> = vec![both.as_str(); 101];
    let reply = app.patch(&path, json!({"operationRoutes": too_many})).await;
    assert_eq!((reply.status.as_u16(), reply.code()), (400, "0158"));
    let reply = app
        .patch(&format!("{routes}/{missing_route}"), json!({"title": "x"}))
        .await;
    assert_eq!((reply.status.as_u16(), reply.code()), (404, "0105"));
    let updated = app
        .patch(
            &path,
            json!({"title": "Swap", "operationRoutes": [both, destination]}),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["title"], "Swap");
    assert_eq!(updated.body["operationRoutes"].as_array().unwrap().len(), 2);
    assert_eq!(updated.body["operationRoutes"][0]["id"], both.as_str());
    // The route left out is free again; the ones listed are not.
    assert_eq!(
        app.delete(&format!("{ledger}/operation-routes/{source}"))
            .await
            .status,
        204
    );
    let reply = app
        .delete(&format!("{ledger}/operation-routes/{both}"))
        .await;
    assert_eq!(reply.code(), "0107");

    assert_eq!(app.delete(&path).await.status, 204);
    let gone = app.get(&path).await;
    assert_eq!((gone.status.as_u16(), gone.code()), (404, "0105"));
    let again = app.delete(&path).await;
    assert_eq!((again.status.as_u16(), again.code()), (404, "0105"));
    assert_eq!(
        app.delete(&format!("{ledger}/operation-routes/{both}"))
            .await
            .status,
        204
    );
}

// One resource's life in order (create, refusals, read, list, update, delete): each step
// builds on the state the one before left.
#[tokio::test]
async fn operations_carry_their_route_and_are_listed_by_it() {
    let app = spawn_app().await;
    let ledger = funded(&app).await;
    let source = operation_route(
        &app,
        &ledger,
        json!({"title": "Out", "operationType": "source"}),
    )
    .await;
    let mut body = transfer(Some("@a"), "@b", "30");
    body["routeId"] = json!("0196F1D2-0000-7000-8000-0000000000AA");
    body["route"] = json!("legacy text");
    body["send"]["source"]["from"][0]["routeId"] = json!(source);
    let created = app.post(&format!("{ledger}/transactions/json"), body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.body["routeId"],
        "0196f1d2-0000-7000-8000-0000000000aa"
    );
    assert_eq!(created.body["route"], "legacy text");
    let ops = created.body["operations"].as_array().unwrap();
    let debit = ops.iter().find(|o| o["type"] == "DEBIT").unwrap();
    let credit = ops.iter().find(|o| o["type"] == "CREDIT").unwrap();
    assert_eq!(debit["routeId"], source.as_str());
    for field in ["routeCode", "routeDescription"] {
        assert_eq!(debit[field], Value::Null, "{field}");
    }
    assert_eq!(credit["routeId"], Value::Null);

    let mut bad = transfer(Some("@a"), "@b", "1");
    bad["send"]["source"]["from"][0]["routeId"] = json!("nope");
    let reply = app.post(&format!("{ledger}/transactions/json"), bad).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (400, "0047"),
        "{}",
        reply.body
    );

    let a = app.get(&format!("{ledger}/accounts/alias/@a")).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = |query: String| {
        let path = format!("{ledger}/accounts/{a}/operations?{query}");
        let app = &app;
        async move {
            let reply = app.get(&path).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            reply.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].clone())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(format!("route_id={source}")).await,
        [debit["id"].clone()]
    );
    assert_eq!(
        list("route_id=0196f1d2-0000-7000-8000-000000000001".to_owned())
            .await
            .len(),
        0
    );
    assert_eq!(list("type=CREDIT".to_owned()).await.len(), 1, "the inflow");
    assert_eq!(
        list("direction=debit".to_owned()).await,
        [debit["id"].clone()]
    );
}

/// A ledger validating routes, with @a (type deposit) funded with 100 and @b, a transaction
/// route over a source route for @a and a destination route for deposit accounts, both
/// with direct, hold/commit/cancel rubrics. Returns (ledger, transaction route, source, destination).
async fn validated(app: &TestApp) -> (String, String, String, String) {
    let ledger = funded(app).await;
    let source = operation_route(app, &ledger, json!({"title": "Out", "operationType": "source",
        "account": {"ruleType": "alias", "validIf": "@a"},
        "accountingEntries": {"direct": entry(Some("1100"), None), "hold": entry(Some("1200"), Some("1201")),
            "commit": entry(Some("1300"), None), "cancel": entry(Some("1400"), Some("1401"))}})).await;
    let destination = operation_route(app, &ledger, json!({"title": "In", "operationType": "destination",
        "account": {"ruleType": "account_type", "validIf": ["deposit"]},
        "accountingEntries": {"direct": entry(None, Some("2100")), "commit": entry(None, Some("2300"))}})).await;
    let route = app
        .post(
            &format!("{ledger}/transaction-routes"),
            json!({"title": "T", "operationRoutes": [source, destination]}),
        )
        .await;
    assert_eq!(route.status, 201, "{}", route.body);
    let (org_and_ledger, id) = ledger.rsplit_once('/').unwrap();
    let settings = json!({"accounting": {"validateRoutes": true}});
    let reply = app
        .patch(&format!("{org_and_ledger}/{id}/settings"), settings)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    (
        ledger,
        route.body["id"].as_str().unwrap().to_owned(),
        source,
        destination,
    )
}

fn routed(
    route: &str,
    source: Option<&str>,
    destination: Option<&str>,
    to: &str,
    value: &str,
) -> Value {
    let mut body = transfer(Some("@a"), to, value);
    body["routeId"] = json!(route);
    body["send"]["source"]["from"][0]["routeId"] = json!(source);
    body["send"]["distribute"]["to"][0]["routeId"] = json!(destination);
    body
}

async fn available(app: &TestApp, ledger: &str, alias: &str) -> Value {
    let reply = app
        .get(&format!("{ledger}/accounts/alias/{alias}/balances"))
        .await;
    reply.body["items"][0]["available"].clone()
}

// One resource's life in order (create, refusals, read, list, update, delete): each step
// builds on the state the one before left.
#[tokio::test]
async fn validate_routes_refuses_what_the_route_does_not_allow_and_books_what_it_does() {
    let app = spawn_app().await;
    let (ledger, route, source, destination) = validated(&app).await;
    app.post(
        &format!("{ledger}/accounts"),
        json!({"alias": "@c", "assetCode": "USD", "type": "savings"}),
    )
    .await;
    let json_path = format!("{ledger}/transactions/json");
    let s = Some(source.as_str());
    let d = Some(destination.as_str());
    let unknown = "0196f1d2-0000-7000-8000-000000000000";
    let mut no_route = routed(&route, s, d, "@b", "10");
    no_route.as_object_mut().unwrap().remove("routeId");
    let mut legacy_text = no_route.clone();
    legacy_text["route"] = json!("not-a-uuid");
    let refused = vec![
        (no_route, 422, "0114"),
        (legacy_text, 400, "0115"),
        (routed(unknown, s, d, "@b", "10"), 404, "0105"),
        (routed(&route, s, None, "@b", "10"), 422, "0116"),
        (routed(&route, d, s, "@b", "10"), 422, "0117"),
        (routed(&route, s, d, "@c", "10"), 422, "0119"),
    ];
    assert_refused(&app, &json_path, refused).await;
    assert_eq!(available(&app, &ledger, "@a").await, "100", "nothing moved");

    let created = app.post(&json_path, routed(&route, s, d, "@b", "10")).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let ops = created.body["operations"].as_array().unwrap();
    let debit = ops.iter().find(|o| o["type"] == "DEBIT").unwrap();
    let credit = ops.iter().find(|o| o["type"] == "CREDIT").unwrap();
    assert_eq!(
        (&debit["routeCode"], &debit["routeDescription"]),
        (&json!("1100"), &json!("Rubric 1100"))
    );
    assert_eq!(credit["routeCode"], "2100");
    let id = created.body["id"].as_str().unwrap();
    let read = app.get(&format!("{ledger}/transactions/{id}")).await;
    assert_eq!(read.body["operations"], created.body["operations"]);
    assert_eq!(available(&app, &ledger, "@b").await, "10");

    // Pending: hold, then commit books the commit rubrics; cancel the release ones.
    let mut pending = routed(&route, s, d, "@b", "5");
    pending["pending"] = json!(true);
    let held = app.post(&json_path, pending.clone()).await;
    assert_eq!(held.status, 201, "{}", held.body);
    assert_eq!(held.body["operations"][0]["routeCode"], "1200");
    let committed = app
        .post(
            &format!(
                "{ledger}/transactions/{}/commit",
                held.body["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(committed.status, 201, "{}", committed.body);
    let codes: Vec<&Value> = committed.body["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["routeCode"])
        .collect();
    assert_eq!(codes, [&json!("1200"), &json!("1300"), &json!("2300")]);
    let mut pending = routed(&route, s, d, "@b", "6");
    pending["pending"] = json!(true);
    let held = app.post(&json_path, pending).await;
    let cancelled = app
        .post(
            &format!(
                "{ledger}/transactions/{}/cancel",
                held.body["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(cancelled.status, 201, "{}", cancelled.body);
    assert_eq!(cancelled.body["operations"][1]["routeCode"], "1401");
    assert_eq!(available(&app, &ledger, "@a").await, "85");

    // The routes are not bidirectional: no revert (0150), whatever the settings.
    let reply = app
        .post(&format!("{ledger}/transactions/{id}/revert"), json!({}))
        .await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (422, "0150"),
        "{}",
        reply.body
    );
    assert_eq!(available(&app, &ledger, "@b").await, "15");
}

#[tokio::test]
async fn a_bidirectional_route_needs_its_counterpart_and_allows_reverts() {
    let app = spawn_app().await;
    let (ledger, _, _, _) = validated(&app).await;
    let both = operation_route(&app, &ledger, json!({"title": "Both", "operationType": "bidirectional",
        "accountingEntries": {"direct": entry(Some("5000"), Some("5001")), "revert": entry(Some("5100"), Some("5101"))}})).await;
    let route = app
        .post(
            &format!("{ledger}/transaction-routes"),
            json!({"title": "Swap", "operationRoutes": [both]}),
        )
        .await;
    let route = route.body["id"].as_str().unwrap().to_owned();
    let json_path = format!("{ledger}/transactions/json");
    let b = Some(both.as_str());
    let created = app.post(&json_path, routed(&route, b, b, "@b", "20")).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let codes: Vec<&Value> = created.body["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["routeCode"])
        .collect();
    assert_eq!(codes, [&json!("5000"), &json!("5001")]);
    let id = created.body["id"].as_str().unwrap();
    let reverted = app
        .post(&format!("{ledger}/transactions/{id}/revert"), json!({}))
        .await;
    assert_eq!(reverted.status, 201, "{}", reverted.body);
    let ops = reverted.body["operations"].as_array().unwrap();
    assert!(
        ops.iter().all(|o| o["routeId"] == both.as_str()),
        "{}",
        reverted.body
    );
    let codes: Vec<&Value> = ops.iter().map(|o| &o["routeCode"]).collect();
    assert_eq!(codes, [&json!("5100"), &json!("5101")]);
    assert_eq!(available(&app, &ledger, "@a").await, "100");
}

/// With route validation on, an overdraft needs an `overdraft` rubric on the route of the leg
/// that borrows (422 `0176`, nothing moves); with one, the overdraft balance's operation is
/// booked under it.
#[tokio::test]
async fn an_overdraft_under_route_validation_needs_its_rubric() {
    let app = spawn_app().await;
    let (ledger, route, source, destination) = validated(&app).await;
    let balances = app
        .get(&format!("{ledger}/accounts/alias/@a/balances"))
        .await;
    let balance = balances.body["items"][0]["id"].as_str().unwrap().to_owned();
    let settings = json!({"settings": {"allowOverdraft": true, "overdraftLimitEnabled": false}});
    let reply = app
        .patch(&format!("{ledger}/balances/{balance}"), settings)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let json_path = format!("{ledger}/transactions/json");
    let (s, d) = (Some(source.as_str()), Some(destination.as_str()));
    let body = routed(&route, s, d, "@b", "130");
    assert_refused(&app, &json_path, vec![(body, 422, "0176")]).await;
    assert_eq!(available(&app, &ledger, "@a").await, "100", "nothing moved");

    let lender = operation_route(
        &app,
        &ledger,
        json!({"title": "Out on credit",
        "operationType": "source", "account": {"ruleType": "alias", "validIf": "@a"},
        "accountingEntries": {"direct": entry(Some("1100"), None),
            "overdraft": entry(Some("1900"), Some("1901"))}}),
    )
    .await;
    let with_overdraft = app
        .post(
            &format!("{ledger}/transaction-routes"),
            json!({"title": "T2", "operationRoutes": [lender, destination]}),
        )
        .await;
    assert_eq!(with_overdraft.status, 201, "{}", with_overdraft.body);
    let route = with_overdraft.body["id"].as_str().unwrap();
    let body = routed(route, Some(lender.as_str()), d, "@b", "130");
    let created = app.post(&json_path, body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let companion = created.body["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["type"] == "OVERDRAFT")
        .unwrap();
    assert_eq!(
        (
            &companion["balanceKey"],
            &companion["amount"]["value"],
            &companion["routeCode"]
        ),
        (&json!("overdraft"), &json!("30"), &json!("1900"))
    );
    assert_eq!(available(&app, &ledger, "@a").await, "0");
}
