#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::spawn_app;

#[tokio::test]
async fn health_answers_and_request_id_is_echoed() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/health", app.base))
        .header("X-Request-Id", "abc-1")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("abc-1")
    );
    assert_eq!(response.text().await.ok().as_deref(), Some("healthy"));
    let generated = app.get("/version").await;
    assert_eq!(generated.status, 200);
    assert!(
        generated
            .header("x-request-id")
            .is_some_and(|id| uuid::Uuid::parse_str(&id).is_ok())
    );
    assert_eq!(generated.body["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn version_command_prints_the_crate_and_schema_versions() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ledgerlite"))
        .arg("version")
        .output()
        .expect("run");
    assert!(output.status.success());
    let expected = format!(
        "ledgerlite {} (schema {})\n",
        env!("CARGO_PKG_VERSION"),
        ledgerlite::store::schema::SCHEMA_VERSION
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected);
}
