//! The OpenAPI document describes exactly the routes the server serves (the admin API's only
//! when it is enabled), and Swagger UI is served from the binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::collections::BTreeSet;

use common::{TestApp, spawn_app, spawn_multi_tenant};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];
/// The admin credential of the admin-enabled test servers.
const ADMIN: &str = "admin-token-0123456789abcdef";

async fn admin_app() -> TestApp {
    spawn_multi_tenant(|config| config.admin_token = Some(ADMIN.to_owned())).await
}

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

/// The routes of the route table, with the admin API's or without.
fn registered(admin: bool) -> BTreeSet<(String, String)> {
    ledgerlite::http::routes(admin).into_iter().collect()
}

/// The document an app serves, checked to be OpenAPI 3.1.
async fn document(app: &TestApp) -> Value {
    let reply = app.get("/openapi.json").await;
    assert_eq!(reply.status, 200);
    let version = reply.body["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1."), "openapi {version}");
    reply.body
}

/// The document describes `registered` both ways, and every operation has what it needs.
fn assert_covers_exactly(doc: &Value, registered: &BTreeSet<(String, String)>) {
    let documented = documented(doc);
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let unregistered: Vec<_> = documented.difference(registered).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the document: {undocumented:?}"
    );
    assert!(
        unregistered.is_empty(),
        "documented but not in the route table: {unregistered:?}"
    );

    // Every operation: a unique id, a response, the error envelope for /v1 failures and for
    // refused admin tokens, and a declared parameter for each path placeholder.
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
        if path.starts_with("/admin/") {
            assert_eq!(
                operation["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/Error",
                "{method} {path}"
            );
        }
        let parameters: Vec<(&str, &str)> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p["in"].as_str()?, p["name"].as_str()?)))
            .collect();
        let unique: BTreeSet<&(&str, &str)> = parameters.iter().collect();
        assert_eq!(
            unique.len(),
            parameters.len(),
            "{method} {path}: {parameters:?}"
        );
        let declared: BTreeSet<&str> = parameters
            .iter()
            .filter(|(place, _)| *place == "path")
            .map(|(_, name)| *name)
            .collect();
        let placeholders: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        assert_eq!(declared, placeholders, "{method} {path}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_covers_exactly_the_routes() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert_covers_exactly(&doc, &registered(false));

    // Without LEDGERLITE_ADMIN_TOKEN there is no admin API, so nothing of it is described.
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.keys().all(|path| !path.starts_with("/admin")));
    assert!(doc["components"]["securitySchemes"]["adminToken"].is_null());
    let tags = doc["tags"].as_array().unwrap();
    assert!(tags.iter().all(|tag| tag["name"] != "Admin"));

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

#[tokio::test]
async fn with_the_admin_api_enabled_the_document_covers_it_too() {
    let app = admin_app().await;
    let doc = document(&app).await;
    assert_covers_exactly(&doc, &registered(true));

    // Admin operations take the admin token and nothing else; no other operation takes it.
    let scheme = &doc["components"]["securitySchemes"]["adminToken"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    for (method, path) in documented(&doc) {
        let operation = &doc["paths"][&path][method.to_lowercase()];
        if path.starts_with("/admin/") {
            assert_eq!(operation["tags"], json!(["Admin"]), "{method} {path}");
            assert_eq!(
                operation["security"],
                json!([{"adminToken": []}]),
                "{method} {path}"
            );
        } else {
            assert!(
                !operation["security"].to_string().contains("adminToken"),
                "{method} {path}"
            );
        }
    }

    // The tenant id rule, the deletion's confirmation and the export's media type.
    let tenant_id = format!(
        "^[A-Za-z0-9][A-Za-z0-9_-]{{0,{}}}$",
        ledgerlite::domain::tenant::TENANT_ID_LENGTH_MAX - 1
    );
    let delete = &doc["paths"]["/admin/v1/tenants/{tenant}"]["delete"];
    let parameter = |name: &str| {
        delete["parameters"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["name"] == name))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(parameter("tenant")["schema"]["pattern"], tenant_id.as_str());
    assert_eq!(parameter("yes")["in"], "query");
    assert_eq!(parameter("yes")["required"], true);
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["CreateTenant"]["properties"]["id"]["pattern"],
        tenant_id.as_str()
    );
    assert_eq!(schemas["CreateTenant"]["additionalProperties"], false);
    let export = &doc["paths"]["/admin/v1/tenants/{tenant}/export"]["get"];
    assert!(export["responses"]["200"]["content"]["application/x-ndjson"].is_object());
}

/// Fills a path template with real organization and ledger ids, the tenant `acme` and
/// placeholder values.
fn concrete(path: &str, org: &str, ledger: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{organization_id}" => org.to_owned(),
            "{ledger_id}" => ledger.to_owned(),
            "{tenant}" => "acme".to_owned(),
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
    assert_serves_exactly(&app, &registered(false), |path| concrete(path, org, ledger)).await;
}

#[tokio::test]
async fn with_the_admin_token_every_admin_route_is_served_and_no_other_method_is() {
    let app = admin_app().await;
    let admin = app.with_token(ADMIN.to_owned());
    let created = admin.post("/admin/v1/tenants", json!({"id": "acme"})).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let admin_routes = registered(true)
        .difference(&registered(false))
        .cloned()
        .collect();
    assert_serves_exactly(&admin, &admin_routes, |path| concrete(path, "", "")).await;
}

/// A known path called with another method: 405 in the framework's envelope, `Allow` naming
/// exactly the methods the path serves.
fn assert_method_not_allowed(
    reply: &common::Reply,
    listed: &BTreeSet<(String, String)>,
    path: &str,
    method: &str,
) {
    let allowed: BTreeSet<&str> = reply.headers["allow"]
        .to_str()
        .unwrap()
        .split(", ")
        .collect();
    let served: BTreeSet<&str> = listed
        .iter()
        .filter(|(_, p)| p == path)
        .map(|(m, _)| m.as_str())
        .collect();
    assert_eq!(allowed, served, "{method} {path}");
    if method != "HEAD" {
        assert_eq!(
            reply.body,
            json!({"code": 405, "title": "request_failed", "message": "Method Not Allowed"}),
            "{method} {path}"
        );
    }
}

/// Calls every method on every path of `listed` (filled in by `fill`): served exactly when
/// listed; another method on a listed path is refused with 405.
async fn assert_serves_exactly(
    app: &TestApp,
    listed: &BTreeSet<(String, String)>,
    fill: impl Fn(&str) -> String,
) {
    let paths: BTreeSet<&String> = listed.iter().map(|(_, path)| path).collect();
    for path in paths {
        let url = fill(path);
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
            if reply.status == StatusCode::METHOD_NOT_ALLOWED {
                assert_method_not_allowed(&reply, listed, path, method);
            }
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
