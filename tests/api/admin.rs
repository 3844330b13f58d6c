//! The admin API under `/admin/v1`: absent without `LEDGERLITE_ADMIN_TOKEN`, guarded by it
//! otherwise, and each endpoint's effect on the tenants the `/v1` API serves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{
    SECRET, TestApp, assert_export_matches, count, empty_tables, fill_every_kind, spawn_app_with,
    spawn_multi_tenant, tamper_balance, token_for, transfer,
};
use serde_json::{Value, json};

/// The admin credential of the test servers.
const ADMIN: &str = "admin-token-0123456789abcdef";

async fn admin_app() -> (TestApp, TestApp) {
    let app = spawn_multi_tenant(|config| config.admin_token = Some(ADMIN.to_owned())).await;
    let admin = app.with_token(ADMIN.to_owned());
    (app, admin)
}

fn tenant_files(app: &TestApp) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(app.data_dir.join("tenants"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A ledger with @a and @b, 100 USD in, 30 moved from @a to @b; returns the ledger path.
async fn fill(tenant: &TestApp) -> String {
    let ledger = tenant.funded_ledger("@a", "@b").await;
    let moved = tenant
        .post(
            &format!("{ledger}/transactions/json"),
            transfer(Some("@a"), "@b", "30"),
        )
        .await;
    assert_eq!(moved.status, 201, "{}", moved.body);
    ledger
}

#[tokio::test]
async fn without_an_admin_token_the_admin_api_does_not_exist() {
    let app = spawn_multi_tenant(|_| {}).await;
    let admin = app.with_token(ADMIN.to_owned());
    let before = tenant_files(&app);
    for (method, path) in [
        ("GET", "/admin/v1/tenants"),
        ("POST", "/admin/v1/tenants"),
        ("POST", "/admin/v1/tenants/acme/suspend"),
        ("DELETE", "/admin/v1/tenants/acme?yes=true"),
        ("POST", "/admin/v1/verify"),
        ("GET", "/admin/v1/nothing"),
    ] {
        let reply = admin
            .call(method.parse().unwrap(), path, Some(json!({"id": "acme"})))
            .await;
        assert_eq!(reply.status, 404, "{method} {path}");
        assert_eq!(reply.body["code"], 404, "{method} {path}: {}", reply.body);
        assert_eq!(reply.body["title"], "request_failed");
    }
    assert_eq!(tenant_files(&app), before, "nothing was created");
}

#[tokio::test]
async fn admin_routes_want_the_admin_token_and_nothing_else() {
    let (app, admin) = admin_app().await;
    assert_eq!(
        admin
            .post("/admin/v1/tenants", json!({"id": "acme"}))
            .await
            .status,
        201
    );
    let files = tenant_files(&app);
    let jwt = token_for("acme", json!({}));
    let jwt_header = format!("Bearer {jwt}");
    let secret_header = format!("Bearer {SECRET}");
    let callers = [
        (None, "MISSING_ADMIN_TOKEN"),
        (Some("Basic YWRtaW46YWRtaW4="), "MISSING_ADMIN_TOKEN"),
        (Some("Bearer "), "MISSING_ADMIN_TOKEN"),
        (
            Some("Bearer admin-token-0123456789abcdeX"),
            "INVALID_ADMIN_TOKEN",
        ),
        (Some("Bearer admin-token"), "INVALID_ADMIN_TOKEN"),
        (Some(jwt_header.as_str()), "INVALID_ADMIN_TOKEN"),
        (Some(secret_header.as_str()), "INVALID_ADMIN_TOKEN"),
    ];
    let requests = [
        ("GET", "/admin/v1/tenants"),
        ("POST", "/admin/v1/tenants"),
        ("POST", "/admin/v1/tenants/acme/suspend"),
        ("POST", "/admin/v1/tenants/acme/backup"),
        ("GET", "/admin/v1/tenants/acme/export"),
        ("POST", "/admin/v1/tenants/acme/verify"),
        ("POST", "/admin/v1/verify"),
        ("DELETE", "/admin/v1/tenants/acme?yes=true"),
        ("GET", "/admin/v1/no-such-route"),
    ];
    for (authorization, code) in callers {
        for (method, path) in requests {
            let mut request = app
                .client
                .request(method.parse().unwrap(), format!("{}{path}", app.base))
                .json(&json!({"id": "intruder"}));
            if let Some(value) = authorization {
                request = request.header("Authorization", value);
            }
            let reply = common::Reply::from(request.send().await.unwrap()).await;
            assert_eq!(reply.status, 401, "{authorization:?} {method} {path}");
            assert_eq!(reply.code(), code, "{authorization:?} {method} {path}");
            assert!(reply.body["title"].is_string() && reply.body["message"].is_string());
        }
    }
    // Nothing changed: no tenant created, none suspended, deleted or backed up.
    assert_eq!(tenant_files(&app), files);
    assert!(!app.data_dir.join("backups").exists());
    let tenant = app.with_token(jwt);
    assert_eq!(tenant.get("/v1/organizations").await.status, 200);

    // The admin token is no tenant credential.
    let reply = admin.get("/v1/organizations").await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.code(), "INVALID_TOKEN");

    // With the admin token, an unknown admin path is a plain 404.
    let reply = admin.get("/admin/v1/no-such-route").await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.body["code"], 404);
}

#[tokio::test]
async fn create_list_suspend_and_resume_tenants() {
    let (app, admin) = admin_app().await;
    let created = admin.post("/admin/v1/tenants", json!({"id": "acme"})).await;
    assert_eq!(created.status, 201);
    assert_eq!(created.body, json!({"id": "acme", "status": "active"}));
    assert!(app.data_dir.join("tenants/acme.sqlite").is_file());
    let again = admin.post("/admin/v1/tenants", json!({"id": "acme"})).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body, json!({"id": "acme", "status": "active"}));

    // Refused bodies and ids create nothing.
    let files = tenant_files(&app);
    for (body, status, code) in [
        (json!({"id": "a.b"}), 400, "INVALID_TENANT"),
        (json!({"id": "-x"}), 400, "INVALID_TENANT"),
        (json!({"id": "../x"}), 400, "INVALID_TENANT"),
        (json!({"id": "a".repeat(65)}), 400, "INVALID_TENANT"),
        (json!({"id": ""}), 400, "INVALID_TENANT"),
        (json!({}), 400, "0009"),
        (json!({"id": "ok", "extra": 1}), 400, "0053"),
        (json!({"id": 7}), 400, "0094"),
    ] {
        let reply = admin.post("/admin/v1/tenants", body.clone()).await;
        assert_eq!(reply.status, status, "{body}");
        assert_eq!(reply.code(), code, "{body}: {}", reply.body);
    }
    assert_eq!(tenant_files(&app), files);

    assert_eq!(
        admin
            .post("/admin/v1/tenants", json!({"id": "beta"}))
            .await
            .status,
        201
    );
    let listed = admin.get("/admin/v1/tenants").await;
    assert_eq!(listed.status, 200);
    assert_eq!(
        listed.body,
        json!({
            "items": [{"id": "acme", "status": "active"}, {"id": "beta", "status": "active"}],
            "limit": 10
        })
    );

    let tenant = app.with_token(token_for("acme", json!({})));
    assert_eq!(tenant.get("/v1/organizations").await.status, 200);

    let suspended = admin
        .post("/admin/v1/tenants/acme/suspend", json!({}))
        .await;
    assert_eq!(suspended.status, 200);
    assert_eq!(suspended.body, json!({"id": "acme", "status": "suspended"}));
    let refused = tenant.get("/v1/organizations").await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.code(), "TENANT_SUSPENDED");
    assert_eq!(
        admin.get("/admin/v1/tenants").await.body["items"][0],
        json!({"id": "acme", "status": "suspended"})
    );
    // Other tenants are not affected.
    let beta = app.with_token(token_for("beta", json!({})));
    assert_eq!(beta.get("/v1/organizations").await.status, 200);

    let resumed = admin.post("/admin/v1/tenants/acme/resume", json!({})).await;
    assert_eq!(resumed.status, 200);
    assert_eq!(resumed.body, json!({"id": "acme", "status": "active"}));
    assert_eq!(tenant.get("/v1/organizations").await.status, 200);

    for action in ["suspend", "resume"] {
        let unknown = admin
            .post(&format!("/admin/v1/tenants/ghost/{action}"), json!({}))
            .await;
        assert_eq!(unknown.status, 404, "{action}");
        assert_eq!(unknown.code(), "TENANT_NOT_FOUND");
        let invalid = admin
            .post(&format!("/admin/v1/tenants/a.b/{action}"), json!({}))
            .await;
        assert_eq!(invalid.status, 400, "{action}");
        assert_eq!(invalid.code(), "INVALID_TENANT");
    }
    assert!(!app.data_dir.join("tenants/ghost.suspended").exists());
    let databases: Vec<String> = tenant_files(&app)
        .into_iter()
        .filter(|name| name.ends_with(".sqlite") || name.ends_with(".suspended"))
        .collect();
    assert_eq!(databases, ["acme.sqlite", "beta.sqlite"]);
}

#[tokio::test]
async fn delete_closes_a_live_tenant_and_removes_its_files_only_when_confirmed() {
    let (app, admin) = admin_app().await;
    for id in ["acme", "beta"] {
        admin.post("/admin/v1/tenants", json!({"id": id})).await;
    }
    let tenant = app.with_token(token_for("acme", json!({})));
    fill(&tenant).await;
    admin
        .post("/admin/v1/tenants/acme/suspend", json!({}))
        .await;
    admin.post("/admin/v1/tenants/acme/resume", json!({})).await;

    for path in [
        "/admin/v1/tenants/acme",
        "/admin/v1/tenants/acme?yes=false",
        "/admin/v1/tenants/acme?yes=1",
    ] {
        let refused = admin.delete(path).await;
        assert_eq!(refused.status, 400, "{path}");
        assert_eq!(refused.code(), "CONFIRMATION_REQUIRED");
    }
    assert_eq!(
        tenant.get("/v1/organizations").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let invalid = admin.delete("/admin/v1/tenants/a.b?yes=true").await;
    assert_eq!(invalid.status, 400);
    assert_eq!(invalid.code(), "INVALID_TENANT");

    admin
        .post("/admin/v1/tenants/acme/suspend", json!({}))
        .await;
    let deleted = admin.delete("/admin/v1/tenants/acme?yes=true").await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    for suffix in [".sqlite", ".sqlite-wal", ".sqlite-shm", ".suspended"] {
        assert!(
            !app.data_dir.join(format!("tenants/acme{suffix}")).exists(),
            "{suffix}"
        );
    }
    let gone = tenant.get("/v1/organizations").await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.code(), "TENANT_NOT_FOUND");
    assert_eq!(
        admin.get("/admin/v1/tenants").await.body,
        json!({"items": [{"id": "beta", "status": "active"}], "limit": 10})
    );
    let again = admin.delete("/admin/v1/tenants/acme?yes=true").await;
    assert_eq!(again.status, 404);
    assert_eq!(again.code(), "TENANT_NOT_FOUND");

    // The id can be provisioned again, from scratch.
    assert_eq!(
        admin
            .post("/admin/v1/tenants", json!({"id": "acme"}))
            .await
            .status,
        201
    );
    let fresh = tenant.get("/v1/organizations").await;
    assert_eq!(fresh.status, 200);
    assert_eq!(fresh.body["items"], json!([]));
}

#[tokio::test]
async fn backup_goes_under_the_data_folder_and_export_streams_json_lines() {
    let (app, admin) = admin_app().await;
    admin.post("/admin/v1/tenants", json!({"id": "acme"})).await;
    let tenant = app.with_token(token_for("acme", json!({})));
    fill(&tenant).await;
    let live = app.data_dir.join("tenants/acme.sqlite");

    let backup = admin.post("/admin/v1/tenants/acme/backup", json!({})).await;
    assert_eq!(backup.status, 201, "{}", backup.body);
    assert_eq!(backup.body["id"], "acme");
    let name = backup.body["backup"].as_str().unwrap();
    assert!(
        name.starts_with("acme.") && name.ends_with(".sqlite"),
        "{name}"
    );
    assert!(!name.contains('/') && !name.contains('\\'), "{name}");
    assert_eq!(backup.body["path"], format!("backups/{name}"));
    let file = app.data_dir.join("backups").join(name);
    assert_eq!(count(&file, "ledger_transaction"), 2);
    assert_eq!(count(&file, "operation"), count(&live, "operation"));
    let second = admin.post("/admin/v1/tenants/acme/backup", json!({})).await;
    assert_eq!(second.status, 201);
    assert_ne!(
        second.body["backup"], backup.body["backup"],
        "never overwritten"
    );
    assert_eq!(
        std::fs::read_dir(app.data_dir.join("backups"))
            .unwrap()
            .count(),
        2
    );

    // The server keeps serving the tenant.
    assert_eq!(tenant.get("/v1/organizations").await.status, 200);

    let response = admin
        .client
        .get(format!("{}/admin/v1/tenants/acme/export", app.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/x-ndjson"
    );
    let text = response.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines[0]["type"], "organization");
    assert!(lines[0]["data"]["id"].is_string());
    assert_export_matches(&text, &live);

    for (method, path) in [
        ("POST", "/admin/v1/tenants/ghost/backup"),
        ("GET", "/admin/v1/tenants/ghost/export"),
    ] {
        let reply = admin.call(method.parse().unwrap(), path, None).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.code(), "TENANT_NOT_FOUND", "{path}");
    }
    for (method, path) in [
        ("POST", "/admin/v1/tenants/a.b/backup"),
        ("GET", "/admin/v1/tenants/a.b/export"),
    ] {
        let reply = admin.call(method.parse().unwrap(), path, None).await;
        assert_eq!(reply.status, 400, "{path}");
        assert_eq!(reply.code(), "INVALID_TENANT", "{path}");
    }
    assert_eq!(
        std::fs::read_dir(app.data_dir.join("backups"))
            .unwrap()
            .count(),
        2
    );
}

#[tokio::test]
async fn verify_reports_a_balance_edited_behind_the_servers_back() {
    let (app, admin) = admin_app().await;
    for id in ["acme", "beta"] {
        admin.post("/admin/v1/tenants", json!({"id": id})).await;
    }
    let tenant = app.with_token(token_for("acme", json!({})));
    fill(&tenant).await;

    let clean = admin.post("/admin/v1/tenants/acme/verify", json!({})).await;
    assert_eq!(clean.status, 200);
    let db = app.data_dir.join("tenants/acme.sqlite");
    assert_eq!(
        clean.body,
        json!({"id": "acme", "ok": true, "chainEntries": 2, "operations": count(&db, "operation"),
            "balances": count(&db, "balance"), "problems": []})
    );

    let conn = rusqlite::Connection::open(app.data_dir.join("tenants/acme.sqlite")).unwrap();
    let balance = tamper_balance(&conn, "@b", "1000");

    let tampered = admin.post("/admin/v1/tenants/acme/verify", json!({})).await;
    assert_eq!(tampered.status, 200);
    assert_eq!(tampered.body["ok"], false);
    let problems: Vec<&str> = tampered.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with(&format!("balance {balance}: stored available 1000"))),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("asset USD is not conserved")),
        "{problems:?}"
    );

    let all = admin.post("/admin/v1/verify", json!({})).await;
    assert_eq!(all.status, 200);
    assert_eq!(all.body["ok"], false);
    let tenants = all.body["tenants"].as_array().unwrap();
    assert_eq!(tenants.len(), 2);
    assert_eq!(tenants[0]["id"], "acme");
    assert_eq!(tenants[0]["ok"], false);
    assert_eq!(tenants[0]["problems"], tampered.body["problems"]);
    assert_eq!(
        tenants[1],
        json!({"id": "beta", "ok": true, "chainEntries": 0, "operations": 0, "balances": 0, "problems": []})
    );

    let unknown = admin
        .post("/admin/v1/tenants/ghost/verify", json!({}))
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.code(), "TENANT_NOT_FOUND");
    let invalid = admin.post("/admin/v1/tenants/a.b/verify", json!({})).await;
    assert_eq!(invalid.status, 400);
    assert_eq!(invalid.code(), "INVALID_TENANT");
    assert!(!app.data_dir.join("tenants/ghost.sqlite").exists());
}

#[tokio::test]
async fn single_tenant_mode_serves_the_admin_api_for_the_default_tenant() {
    let app = spawn_app_with(|config| config.admin_token = Some(ADMIN.to_owned())).await;
    let admin = app.with_token(ADMIN.to_owned());
    let listed = admin.get("/admin/v1/tenants").await;
    assert_eq!(listed.status, 200);
    assert_eq!(
        listed.body,
        json!({"items": [{"id": "default", "status": "active"}], "limit": 10})
    );
    let all = admin.post("/admin/v1/verify", json!({})).await;
    assert_eq!(all.status, 200);
    assert_eq!(all.body["ok"], true);
    let refused = app.get("/admin/v1/tenants").await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.code(), "MISSING_ADMIN_TOKEN");
}

async fn export_of(app: &TestApp, tenant: &str) -> String {
    let response = app
        .client
        .get(format!("{}/admin/v1/tenants/{tenant}/export", app.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

async fn import(app: &TestApp, tenant: &str, query: &str, body: String) -> common::Reply {
    let response = app
        .client
        .post(format!(
            "{}/admin/v1/tenants/{tenant}/import{query}",
            app.base
        ))
        .bearer_auth(ADMIN)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap();
    common::Reply::from(response).await
}

#[tokio::test]
async fn an_export_imports_as_another_tenant_that_verifies_and_serves_the_same_data() {
    let (app, admin) = admin_app().await;
    admin.post("/admin/v1/tenants", json!({"id": "acme"})).await;
    let acme = app.with_token(token_for("acme", json!({})));
    let ledger = fill_every_kind(&app.base, acme.token.as_deref()).await;
    let live = app.data_dir.join("tenants/acme.sqlite");
    let exported = export_of(&app, "acme").await;
    assert_eq!(
        empty_tables(&live),
        Vec::<String>::new(),
        "every table has rows"
    );
    let counts = assert_export_matches(&exported, &live);

    let imported = import(&app, "copy", "", exported.clone()).await;
    assert_eq!(imported.status, 201, "{}", imported.body);
    let rows: i64 = counts.values().sum();
    assert_eq!(imported.body, json!({"id": "copy", "rows": rows}));
    // Rows are copied as they are, ids and hash chain included: nothing may differ.
    assert_eq!(export_of(&app, "copy").await, exported);
    let audit = admin.post("/admin/v1/tenants/copy/verify", json!({})).await;
    assert_eq!(audit.body["ok"], true, "{}", audit.body);
    assert!(audit.body["chainEntries"].as_u64().unwrap() > 0);
    let copy = app.with_token(token_for("copy", json!({})));
    let balances = format!("{ledger}/accounts/alias/@a/balances");
    let served = copy.get(&balances).await;
    assert_eq!(served.status, 200);
    assert_eq!(served.body, acme.get(&balances).await.body);

    // An existing tenant only with force=true, and then its requests see the new data.
    let again = import(&app, "copy", "", exported.clone()).await;
    assert_eq!(
        (again.status.as_u16(), again.code()),
        (409, "TENANT_EXISTS")
    );
    let bad = format!("{exported}{{\"type\":\"nothing\",\"data\":{{}}}}\n");
    let refused = import(&app, "copy", "?force=true", bad).await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (400, "INVALID_IMPORT")
    );
    let line = exported.lines().count() + 1;
    assert_eq!(
        refused.body["message"],
        format!("line {line}: unknown type \"nothing\"")
    );
    assert_eq!(copy.get(&balances).await.body, served.body, "unchanged");
    let empty = import(&app, "copy", "?force=true", String::new()).await;
    assert_eq!(empty.status, 201, "{}", empty.body);
    assert_eq!(empty.body["rows"], 0);
    assert_eq!(copy.get(&balances).await.status, 404);
    assert_eq!(export_of(&app, "copy").await, "");

    let invalid = import(&app, "-x", "", String::new()).await;
    assert_eq!(invalid.code(), "INVALID_TENANT");
    let unauthorized = acme
        .call(reqwest::Method::POST, "/admin/v1/tenants/x/import", None)
        .await;
    assert_eq!(unauthorized.code(), "INVALID_ADMIN_TOKEN");
    assert!(!app.data_dir.join("tenants/x.sqlite").exists());
}

#[tokio::test]
async fn a_tenant_file_of_a_newer_schema_is_not_served() {
    let (app, admin) = admin_app().await;
    let file = app.data_dir.join("tenants/newer.sqlite");
    let conn = rusqlite::Connection::open(&file).unwrap();
    let newer = ledgerlite::store::schema::SCHEMA_VERSION + 1;
    conn.pragma_update(None, "user_version", newer).unwrap();
    drop(conn);
    let tenant = app.with_token(token_for("newer", json!({})));
    let refused = tenant.get("/v1/organizations").await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (503, "SERVICE_UNAVAILABLE")
    );
    let message = refused.body["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "schema version {newer}, newer than this binary's {}",
            newer - 1
        )),
        "{message}"
    );
    let audit = admin
        .post("/admin/v1/tenants/newer/verify", json!({}))
        .await;
    assert_eq!(audit.code(), "SERVICE_UNAVAILABLE");
    let conn = rusqlite::Connection::open(&file).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, newer, "the file was left as it was");
}
