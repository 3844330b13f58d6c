//! The flow a Midaz client library walks, end to end, on a ledger that validates account
//! types and routes: onboarding, account types, operation routes, transaction routes,
//! accounts, routed transactions, balances and operations read back, then everything deleted
//! again in reverse order, with what Midaz refuses refused with its code.

use serde_json::{Value, json};

use crate::common::{Reply, spawn_app};

fn expect(reply: &Reply, status: u16, what: &str) -> Value {
    assert_eq!(reply.status.as_u16(), status, "{what}: {}", reply.body);
    reply.body.clone()
}

fn refused(reply: &Reply, status: u16, code: &str, what: &str) {
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (status, code),
        "{what}: {}",
        reply.body
    );
}

fn leg(alias: &str, value: &str, route: &Value) -> Value {
    json!({"accountAlias": alias, "amount": {"asset": "BRL", "value": value}, "routeId": route})
}

fn transaction(route: &Value, value: &str, from: Vec<Value>, to: Vec<Value>) -> Value {
    json!({"description": "client flow", "routeId": route,
        "send": {"asset": "BRL", "value": value, "source": {"from": from}, "distribute": {"to": to}}})
}

fn rubric(debit: Option<&str>, credit: Option<&str>) -> Value {
    let side = |code: &str| json!({"code": code, "description": format!("Account {code}")});
    json!({"direct": {"debit": debit.map(side), "credit": credit.map(side)}})
}

// One flow from creation to deletion: splitting it would hide the order it checks.
#[tokio::test]
async fn a_midaz_client_walks_a_validated_ledger_from_creation_to_deletion() {
    let app = spawn_app().await;
    let org = expect(
        &app.post(
            "/v1/organizations",
            json!({"legalName": "Client Flow", "legalDocument": "42"}),
        )
        .await,
        201,
        "organization",
    )["id"]
        .clone();
    let org = org.as_str().unwrap();
    let settings = json!({"accounting": {"validateAccountType": true, "validateRoutes": true}});
    let ledger = expect(
        &app.post(
            &format!("/v1/organizations/{org}/ledgers"),
            json!({"name": "Books", "settings": settings}),
        )
        .await,
        201,
        "ledger",
    );
    assert_eq!(ledger["settings"], settings);
    let ledger = format!(
        "/v1/organizations/{org}/ledgers/{}",
        ledger["id"].as_str().unwrap()
    );
    let at = |rest: &str| format!("{ledger}{rest}");
    let asset = expect(
        &app.post(
            &at("/assets"),
            json!({"name": "Real", "type": "currency", "code": "BRL"}),
        )
        .await,
        201,
        "asset",
    );

    let mut account_types = Vec::new();
    for key in ["checking", "savings"] {
        let body = json!({"name": key, "keyValue": key});
        account_types
            .push(expect(&app.post(&at("/account-types"), body).await, 201, key)["id"].clone());
    }

    // Operation routes: funding from the external account, transfers checking → savings,
    // withdrawals from either back out.
    let operation = async |title: &str, kind: &str, account: Value, entries: Value| {
        let body = json!({"title": title, "operationType": kind, "account": account, "accountingEntries": entries});
        expect(&app.post(&at("/operation-routes"), body).await, 201, title)["id"].clone()
    };
    let alias = |a: &str| json!({"ruleType": "alias", "validIf": a});
    let types = |t: &[&str]| json!({"ruleType": "account_type", "validIf": t});
    let from_world = operation(
        "From the world",
        "source",
        alias("@external/BRL"),
        rubric(Some("1.1"), None),
    )
    .await;
    let into_checking = operation(
        "Into checking",
        "destination",
        types(&["checking"]),
        rubric(None, Some("2.1")),
    )
    .await;
    let out_of_checking = operation(
        "Out of checking",
        "source",
        types(&["checking"]),
        rubric(Some("2.1"), None),
    )
    .await;
    let into_savings = operation(
        "Into savings",
        "destination",
        types(&["savings"]),
        rubric(None, Some("3.1")),
    )
    .await;
    let out_of_accounts = operation(
        "Out of accounts",
        "source",
        types(&["checking", "savings"]),
        rubric(Some("4.1"), None),
    )
    .await;
    let to_world = operation(
        "To the world",
        "destination",
        alias("@external/BRL"),
        rubric(None, Some("1.1")),
    )
    .await;
    let operation_routes = [
        &from_world,
        &into_checking,
        &out_of_checking,
        &into_savings,
        &out_of_accounts,
        &to_world,
    ];

    let transaction_route = async |title: &str, routes: [&Value; 2]| {
        let body = json!({"title": title, "operationRoutes": routes});
        let route = expect(
            &app.post(&at("/transaction-routes"), body).await,
            201,
            title,
        );
        assert_eq!(
            route["operationRoutes"][0]["id"], *routes[0],
            "{title} embeds its routes"
        );
        route["id"].clone()
    };
    let deposit = transaction_route("Deposit", [&from_world, &into_checking]).await;
    let transfer = transaction_route("Transfer", [&out_of_checking, &into_savings]).await;
    let withdraw = transaction_route("Withdraw", [&out_of_accounts, &to_world]).await;

    // Accounts must have one of the ledger's account types.
    let account =
        |alias: &str, kind: &str| json!({"alias": alias, "assetCode": "BRL", "type": kind});
    refused(
        &app.post(&at("/accounts"), account("@nobody", "loan")).await,
        400,
        "0066",
        "unknown type",
    );
    let alice = expect(
        &app.post(&at("/accounts"), account("@alice", "checking"))
            .await,
        201,
        "alice",
    );
    let bob = expect(
        &app.post(&at("/accounts"), account("@bob", "savings")).await,
        201,
        "bob",
    );

    // Transactions name their route; one that does not is refused and moves nothing.
    let json_path = at("/transactions/json");
    let funding = transaction(
        &deposit,
        "100",
        vec![leg("@external/BRL", "100", &from_world)],
        vec![leg("@alice", "100", &into_checking)],
    );
    let mut unrouted = funding.clone();
    unrouted.as_object_mut().unwrap().remove("routeId");
    refused(
        &app.post(&json_path, unrouted).await,
        422,
        "0114",
        "no route",
    );
    let wrong_side = transaction(
        &transfer,
        "10",
        vec![leg("@bob", "10", &out_of_checking)],
        vec![leg("@alice", "10", &into_savings)],
    );
    refused(
        &app.post(&json_path, wrong_side).await,
        422,
        "0119",
        "savings is not checking",
    );
    let funded = expect(&app.post(&json_path, funding).await, 201, "deposit");
    assert_eq!(funded["routeId"], deposit);
    let moved = transaction(
        &transfer,
        "30",
        vec![leg("@alice", "30", &out_of_checking)],
        vec![leg("@bob", "30", &into_savings)],
    );
    let moved = expect(&app.post(&json_path, moved).await, 201, "transfer");
    let codes: Vec<(&Value, &Value)> = moved["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (&o["routeId"], &o["routeCode"]))
        .collect();
    assert_eq!(
        codes,
        [
            (&out_of_checking, &json!("2.1")),
            (&into_savings, &json!("3.1"))
        ]
    );

    // Balances and operations read back.
    let balance = async |alias: &str| {
        let reply = app
            .get(&at(&format!("/accounts/alias/{alias}/balances")))
            .await;
        expect(&reply, 200, alias)["items"][0]["available"].clone()
    };
    assert_eq!(
        (balance("@alice").await, balance("@bob").await),
        (json!("70"), json!("30"))
    );
    let bob_id = bob["id"].as_str().unwrap();
    let route_code = app
        .get(&at(&format!(
            "/accounts/{bob_id}/operations?route_code=3.1"
        )))
        .await;
    let ops = expect(&route_code, 200, "bob's operations")["items"].clone();
    assert_eq!(ops.as_array().unwrap().len(), 1, "{ops}");
    assert_eq!(
        (
            &ops[0]["type"],
            &ops[0]["amount"]["value"],
            &ops[0]["routeDescription"]
        ),
        (&json!("CREDIT"), &json!("30"), &json!("Account 3.1"))
    );
    let read = expect(
        &app.get(&at(&format!(
            "/transactions/{}",
            moved["id"].as_str().unwrap()
        )))
        .await,
        200,
        "transaction",
    );
    assert_eq!(read["operations"], moved["operations"]);

    // Deleting in reverse order: what Midaz refuses first, then everything.
    refused(
        &app.delete(&at(&format!(
            "/operation-routes/{}",
            into_savings.as_str().unwrap()
        )))
        .await,
        422,
        "0107",
        "listed route",
    );
    let alice_id = alice["id"].as_str().unwrap();
    refused(
        &app.delete(&at(&format!("/accounts/{alice_id}"))).await,
        400,
        "0012",
        "account with funds",
    );
    let payout = transaction(
        &withdraw,
        "100",
        vec![
            leg("@alice", "70", &out_of_accounts),
            leg("@bob", "30", &out_of_accounts),
        ],
        vec![leg("@external/BRL", "100", &to_world)],
    );
    expect(&app.post(&json_path, payout).await, 201, "withdrawal");
    assert_eq!(
        (balance("@alice").await, balance("@bob").await),
        (json!("0"), json!("0"))
    );
    for route in [&withdraw, &transfer, &deposit] {
        expect(
            &app.delete(&at(&format!(
                "/transaction-routes/{}",
                route.as_str().unwrap()
            )))
            .await,
            204,
            "transaction route",
        );
    }
    for route in operation_routes.iter().rev() {
        expect(
            &app.delete(&at(&format!(
                "/operation-routes/{}",
                route.as_str().unwrap()
            )))
            .await,
            204,
            "operation route",
        );
    }
    assert_eq!(
        app.get(&at("/operation-routes")).await.body["items"],
        json!([])
    );
    for id in [bob_id, alice_id] {
        expect(
            &app.delete(&at(&format!("/accounts/{id}"))).await,
            204,
            "account",
        );
    }
    for id in account_types.iter().rev() {
        expect(
            &app.delete(&at(&format!("/account-types/{}", id.as_str().unwrap())))
                .await,
            204,
            "account type",
        );
    }
    expect(
        &app.delete(&at(&format!("/assets/{}", asset["id"].as_str().unwrap())))
            .await,
        204,
        "asset",
    );
    expect(&app.delete(&ledger).await, 204, "ledger");
    expect(
        &app.delete(&format!("/v1/organizations/{org}")).await,
        204,
        "organization",
    );
    refused(
        &app.get(&format!("/v1/organizations/{org}")).await,
        404,
        "0038",
        "deleted organization",
    );
}
