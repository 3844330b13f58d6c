//! `GET /metrics`: Prometheus text with request counts, latency, error codes, tenant cache and
//! writer counters.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::spawn_app;
use serde_json::json;

fn value(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| {
            line.strip_prefix(series)
                .and_then(|rest| rest.trim().parse().ok())
        })
        .unwrap_or_else(|| panic!("no series {series} in\n{metrics}"))
}

#[tokio::test]
async fn metrics_count_requests_errors_and_commits() {
    let app = spawn_app().await;
    let org = app.organization().await;
    assert_eq!(
        app.get(&format!("/v1/organizations/{org}")).await.status,
        200
    );
    let missing = app
        .get(&format!("/v1/organizations/{}", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(missing.code(), "0038");
    let bad = app
        .post("/v1/organizations", json!({"legalDocument": "1"}))
        .await;
    assert_eq!(bad.code(), "0009");

    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let get = r#"ledgerlite_http_requests_total{route="/v1/organizations/{id}",method="GET",status="200"}"#;
    assert_eq!(value(&metrics, get), 1.0);
    let not_found = r#"ledgerlite_http_requests_total{route="/v1/organizations/{id}",method="GET",status="404"}"#;
    assert_eq!(value(&metrics, not_found), 1.0);
    assert_eq!(
        value(&metrics, r#"ledgerlite_errors_total{code="0038"}"#),
        1.0
    );
    assert_eq!(
        value(&metrics, r#"ledgerlite_errors_total{code="0009"}"#),
        1.0
    );
    let count = r#"ledgerlite_http_request_duration_seconds_count{route="/v1/organizations/{id}",method="GET"}"#;
    assert_eq!(value(&metrics, count), 2.0);
    assert!(value(&metrics, "ledgerlite_writer_commits_total") >= 1.0);
    assert_eq!(value(&metrics, "ledgerlite_tenants_open"), 1.0);
    assert!(value(&metrics, "ledgerlite_tenant_cache_hits_total") >= 4.0);
}
