//! `GET /metrics`: Prometheus text with request counts, latency, error codes, tenant cache and
//! writer counters.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{spawn_app, transfer};
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

/// SQLite's heap with one tenant open and written to is at least this (its parsed schema alone
/// is ~40 KB), in bytes; 0 would mean the gauge or SQLite's memory statistics are off.
const SQLITE_MEMORY_ONE_TENANT_MIN_BYTES: f64 = 32_768.0;

/// The writer metrics are process-wide: the two checks run one after the other.
#[tokio::test]
async fn metrics() {
    requests_and_errors_are_counted().await;
    group_commits_their_latency_and_rejected_commands_are_shown().await;
}

async fn requests_and_errors_are_counted() {
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

    let metrics = common::metrics_text(&app.base).await;
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
    assert_eq!(value(&metrics, "ledgerlite_tenants_open"), 1.0);
    // An open tenant holds at least its parsed schema and its writer's cached pages.
    assert!(
        value(&metrics, "ledgerlite_sqlite_memory_bytes") >= SQLITE_MEMORY_ONE_TENANT_MIN_BYTES
    );
    assert!(value(&metrics, "ledgerlite_tenant_cache_hits_total") >= 4.0);
}

async fn group_commits_their_latency_and_rejected_commands_are_shown() {
    let app = spawn_app().await;
    let ledger = app.ledger().await;
    app.asset(&ledger, "USD").await;
    app.account(&ledger, "@a", "USD").await;
    app.account(&ledger, "@b", "USD").await;
    let before = common::metrics_text(&app.base).await;
    let rejected = r#"ledgerlite_writer_rejected_total{code="0018"}"#;
    assert!(!before.contains(rejected), "{before}");

    let inflow = app
        .post(
            &format!("{ledger}/transactions/inflow"),
            transfer(None, "@a", "10"),
        )
        .await;
    assert_eq!(inflow.status, 201, "{:?}", inflow.body);
    let overdraw = app
        .post(
            &format!("{ledger}/transactions/json"),
            transfer(Some("@a"), "@b", "11"),
        )
        .await;
    assert_eq!(overdraw.status, 422, "{:?}", overdraw.body);
    assert_eq!(overdraw.code(), "0018");

    let after = common::metrics_text(&app.base).await;
    assert_eq!(value(&after, rejected), 1.0);
    let commits = value(&after, "ledgerlite_writer_commits_total");
    assert_eq!(
        commits,
        value(&before, "ledgerlite_writer_commits_total") + 2.0
    );
    // At rest: nothing queued, every commit observed once in both histograms.
    assert_eq!(value(&after, "ledgerlite_writer_queue_depth"), 0.0);
    assert_eq!(
        value(&after, "ledgerlite_writer_batch_size_commands_count"),
        commits
    );
    assert_eq!(
        value(&after, "ledgerlite_writer_commit_duration_seconds_count"),
        commits
    );
    assert_eq!(
        value(
            &after,
            r#"ledgerlite_writer_commit_duration_seconds_bucket{le="+Inf"}"#
        ),
        commits
    );
    assert_eq!(
        value(&after, "ledgerlite_writer_batch_size_commands_sum"),
        value(&after, "ledgerlite_writer_commands_total")
    );
    // One request at a time: every group commit held exactly one command.
    assert_eq!(
        value(
            &after,
            r#"ledgerlite_writer_batch_size_commands_bucket{le="1"}"#
        ),
        commits
    );
    assert!(value(&after, "ledgerlite_writer_commit_duration_seconds_sum") > 0.0);
}
