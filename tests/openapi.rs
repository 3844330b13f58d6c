//! The OpenAPI document describes exactly the routes the server serves, and Swagger UI is
//! served from the binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::Value;

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

/// `(METHOD, path)` of every operation in the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            if item.get(method.to_lowercase()).is_some() {
                operations.insert((method.to_owned(), path.clone()));
            }
        }
    }
    operations
}

fn registered() -> BTreeSet<(String, String)> {
    ledgerlite::http::routes()
        .map(|(method, path)| (method.to_owned(), path))
        .collect()
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_covers_exactly_the_routes() {
    let app = spawn_app().await;
    let reply = app.get("/openapi.json").await;
    assert_eq!(reply.status, 200);
    let doc = reply.body;
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1."), "openapi {version}");

    let documented = documented(&doc);
    let registered = registered();
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let unregistered: Vec<_> = documented.difference(&registered).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the document: {undocumented:?}"
    );
    assert!(
        unregistered.is_empty(),
        "documented but not in http::ROUTES: {unregistered:?}"
    );

    // Every operation: a unique id, a response, the error envelope for /v1 failures, and a
    // declared parameter for each path placeholder.
    let mut ids = BTreeSet::new();
    for (method, path) in &documented {
        let operation = &doc["paths"][path][method.to_lowercase()];
        let id = operation["operationId"].as_str().unwrap_or_default();
        assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
        assert!(
            operation["responses"]
                .as_object()
                .is_some_and(|r| !r.is_empty())
        );
        if path.starts_with("/v1/") && method != "HEAD" {
            assert_eq!(
                operation["responses"]["4XX"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/Error",
                "{method} {path}"
            );
        }
        let declared: BTreeSet<&str> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
            .filter_map(|p| p["name"].as_str())
            .collect();
        let placeholders: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        assert_eq!(declared, placeholders, "{method} {path}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    // Limits written as literals in the annotations match the server's constants.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["BatchInput"]["properties"]["transactions"]["maxItems"],
        ledgerlite::ledger::transactions::BATCH_TRANSACTIONS_MAX
    );
    assert_eq!(
        schemas["SourceInput"]["properties"]["from"]["maxItems"],
        ledgerlite::domain::transaction::LEGS_PER_SIDE_MAX
    );
    let limit = doc["paths"]["/v1/organizations"]["get"]["parameters"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "limit"))
        .map(|p| p["schema"]["maximum"].clone());
    assert_eq!(
        limit,
        Some(ledgerlite::domain::query::PAGE_LIMIT_MAX.into())
    );
}

/// Fills a path template with real organization and ledger ids and placeholder values.
fn concrete(path: &str, org: &str, ledger: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{organization_id}" => org.to_owned(),
            "{ledger_id}" => ledger.to_owned(),
            "{alias}" | "{code}" | "{asset_code}" => "BRL".to_owned(),
            s if s.starts_with('{') => "01940000-0000-7000-8000-000000000001".to_owned(),
            s => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The framework's answer for a path no route matches (as opposed to a handler's 404). A HEAD
/// answer has no body, so any 404 counts; the probes use a real organization and ledger so
/// that the HEAD routes (counts) answer 204.
fn unrouted(method: &str, status: StatusCode, body: &Value) -> bool {
    status == StatusCode::NOT_FOUND && (method == "HEAD" || body["title"] == "request_failed")
}

#[tokio::test]
async fn every_listed_route_is_served_and_no_other_method_is() {
    let app = spawn_app().await;
    let scope = app.ledger().await;
    let parts: Vec<&str> = scope.split('/').collect();
    let (org, ledger) = (parts[3], parts[5]);
    let listed = registered();
    let paths: BTreeSet<&String> = listed.iter().map(|(_, path)| path).collect();
    for path in paths {
        let url = concrete(path, org, ledger);
        for method in METHODS {
            let verb = Method::from_bytes(method.as_bytes()).unwrap();
            let reply = app.call(verb, &url, None).await;
            let served = reply.status != StatusCode::METHOD_NOT_ALLOWED
                && !unrouted(method, reply.status, &reply.body);
            let expected = listed.contains(&(method.to_owned(), path.clone()));
            assert_eq!(
                served, expected,
                "{method} {url}: {} {}",
                reply.status, reply.body
            );
        }
    }
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    for path in ["/swagger/", "/swagger"] {
        let response = client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(content_type.starts_with("text/html"), "{content_type}");
        assert!(response.text().await.unwrap().contains("swagger-ui"));
    }
    let initializer = client
        .get(format!("{}/swagger/swagger-initializer.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(initializer.status(), 200);
    assert!(initializer.text().await.unwrap().contains("/openapi.json"));
}
