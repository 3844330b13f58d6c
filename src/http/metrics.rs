//! `GET /metrics`: Prometheus text exposition of requests (by route pattern, method and
//! status, with a latency histogram), error codes, the tenant cache and the writers. No label
//! carries a tenant id (unbounded cardinality, and one tenant's activity is not another's
//! business).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use parking_lot::Mutex;

use super::AppState;
use super::routes::{Access, Route};
use crate::Engine;

/// Upper bounds of the request latency histogram, in seconds.
pub const LATENCY_BUCKETS_SECONDS: [f64; 10] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

#[derive(Default)]
struct Series {
    count: u64,
    seconds: f64,
    buckets: [u64; LATENCY_BUCKETS_SECONDS.len()],
}

/// Request counters, kept by the request middleware.
#[derive(Default)]
pub struct HttpMetrics {
    requests: Mutex<BTreeMap<(String, String, u16), Series>>,
    errors: Mutex<BTreeMap<&'static str, u64>>,
}

impl HttpMetrics {
    pub fn record(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut requests = self.requests.lock();
        let series = requests
            .entry((route.to_owned(), method.to_owned(), status))
            .or_default();
        series.count += 1;
        series.seconds += seconds;
        for (bucket, bound) in series.buckets.iter_mut().zip(LATENCY_BUCKETS_SECONDS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    pub fn error(&self, code: &'static str) {
        *self.errors.lock().entry(code).or_default() += 1;
    }

    fn render_requests(&self, out: &mut String) {
        let requests = self.requests.lock();
        out.push_str("# HELP ledgerlite_http_requests_total Requests answered, by route pattern, method and status.\n");
        out.push_str("# TYPE ledgerlite_http_requests_total counter\n");
        for ((route, method, status), series) in requests.iter() {
            let _ = writeln!(
                out,
                "ledgerlite_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {}",
                series.count
            );
        }
        out.push_str("# HELP ledgerlite_http_request_duration_seconds Request latency, by route pattern and method.\n");
        out.push_str("# TYPE ledgerlite_http_request_duration_seconds histogram\n");
        let mut by_route: BTreeMap<(&str, &str), Series> = BTreeMap::new();
        for ((route, method, _), series) in requests.iter() {
            let merged = by_route
                .entry((route.as_str(), method.as_str()))
                .or_default();
            merged.count += series.count;
            merged.seconds += series.seconds;
            for (total, part) in merged.buckets.iter_mut().zip(series.buckets) {
                *total += part;
            }
        }
        for ((route, method), series) in by_route {
            histogram(
                out,
                "ledgerlite_http_request_duration_seconds",
                &format!("route=\"{route}\",method=\"{method}\""),
                LATENCY_BUCKETS_SECONDS.iter().zip(series.buckets),
                series.count,
                series.seconds,
            );
        }
        out.push_str("# HELP ledgerlite_errors_total Error answers, by Midaz code.\n");
        out.push_str("# TYPE ledgerlite_errors_total counter\n");
        for (code, count) in self.errors.lock().iter() {
            let _ = writeln!(out, "ledgerlite_errors_total{{code=\"{code}\"}} {count}");
        }
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    header(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

/// The `_bucket`, `_sum` and `_count` lines of one histogram series; `buckets` pairs each upper
/// bound with the cumulative count of observations at or below it.
fn histogram<B: std::fmt::Display>(
    out: &mut String,
    name: &str,
    labels: &str,
    buckets: impl IntoIterator<Item = (B, u64)>,
    count: u64,
    sum: f64,
) {
    let prefix = if labels.is_empty() {
        String::new()
    } else {
        format!("{labels},")
    };
    for (bound, cumulative) in buckets {
        let _ = writeln!(out, "{name}_bucket{{{prefix}le=\"{bound}\"}} {cumulative}");
    }
    let _ = writeln!(out, "{name}_bucket{{{prefix}le=\"+Inf\"}} {count}");
    let labels = if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    };
    let _ = writeln!(out, "{name}_sum{labels} {sum}");
    let _ = writeln!(out, "{name}_count{labels} {count}");
}

/// Group commits of every writer: queue depth, batch sizes, commit latency, rejections.
fn render_writers(out: &mut String, engine: &Engine) {
    let writers = engine.registry().writer_metrics();
    let (buckets, commits, commands) = writers.batch_sizes.snapshot();
    metric(
        out,
        "ledgerlite_writer_commits_total",
        "counter",
        "Group commits (one fsync each at synchronous=FULL).",
        commits,
    );
    metric(
        out,
        "ledgerlite_writer_commands_total",
        "counter",
        "Write commands applied in those commits.",
        commands,
    );
    metric(
        out,
        "ledgerlite_writer_queue_depth",
        "gauge",
        "Write commands queued for their tenant's writer, over all tenants.",
        writers.queued(),
    );
    let name = "ledgerlite_writer_batch_size_commands";
    header(out, name, "histogram", "Write commands per group commit.");
    #[allow(clippy::cast_precision_loss)] // a command count far below 2^52
    let sum = commands as f64;
    histogram(
        out,
        name,
        "",
        writers.batch_sizes.bounds.into_iter().zip(buckets),
        commits,
        sum,
    );
    render_micros(
        out,
        "ledgerlite_writer_commit_duration_seconds",
        "Group commit latency, BEGIN IMMEDIATE to the end of COMMIT (fsync included).",
        writers.commit_latency.bounds,
        writers.commit_latency.snapshot(),
    );
    header(
        out,
        "ledgerlite_writer_rejected_total",
        "counter",
        "Write commands rejected and rolled back (the rest of their group commits), by code.",
    );
    for (code, count) in writers.rejected() {
        let _ = writeln!(
            out,
            "ledgerlite_writer_rejected_total{{code=\"{code}\"}} {count}"
        );
    }
}

/// A latency histogram kept in microseconds (its bounds, and its snapshot: cumulative counts,
/// count, sum), exposed in seconds.
fn render_micros<const N: usize>(
    out: &mut String,
    name: &str,
    help: &str,
    bounds_micros: [u64; N],
    (buckets, count, sum_micros): ([u64; N], u64, u64),
) {
    header(out, name, "histogram", help);
    #[allow(clippy::cast_precision_loss)]
    let seconds = |micros: u64| micros as f64 / 1e6;
    let buckets = bounds_micros.into_iter().map(seconds).zip(buckets);
    histogram(out, name, "", buckets, count, seconds(sum_micros));
}

pub(super) fn routes() -> Vec<Route> {
    vec![Route::new::<__path_render>(Access::Public, |r| {
        r.to(render)
    })]
}

/// Prometheus text exposition: requests by route pattern, method and status with latency
/// histograms, error codes, the tenant cache and the writers.
#[utoipa::path(get, path = "/metrics", tag = "System",
    responses((status = 200, body = String, content_type = "text/plain; version=0.0.4")))]
async fn render(state: web::Data<AppState>) -> HttpResponse {
    let mut out = String::new();
    state.metrics.render_requests(&mut out);
    let cache = state.engine.registry().stats();
    let open = u64::try_from(state.engine.registry().open_count()).unwrap_or(u64::MAX);
    metric(
        &mut out,
        "ledgerlite_tenants_open",
        "gauge",
        "Tenants in the LRU of open tenants.",
        open,
    );
    let load = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    metric(
        &mut out,
        "ledgerlite_tenant_cache_hits_total",
        "counter",
        "Requests that found their tenant open.",
        load(&cache.hits),
    );
    metric(
        &mut out,
        "ledgerlite_tenant_cache_opens_total",
        "counter",
        "Tenants opened (cache misses), from a parked connection or from their file.",
        load(&cache.opens),
    );
    metric(
        &mut out,
        "ledgerlite_tenant_cache_unparked_total",
        "counter",
        "Of those, tenants opened from their parked write connection.",
        load(&cache.unparked),
    );
    render_micros(
        &mut out,
        "ledgerlite_tenant_open_duration_seconds",
        "Time to open a tenant that was not open (cold open), parked or from its file.",
        cache.open_latency.bounds,
        cache.open_latency.snapshot(),
    );
    let (warm, cold) = state.engine.registry().parked_counts();
    let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    metric(
        &mut out,
        "ledgerlite_tenants_parked",
        "gauge",
        "Closed tenants whose write connection is kept for their next open.",
        count(warm.saturating_add(cold)),
    );
    metric(
        &mut out,
        "ledgerlite_tenants_parked_cold",
        "gauge",
        "Of those, the ones whose prepared statements were dropped (over the memory budget).",
        count(cold),
    );
    metric(
        &mut out,
        "ledgerlite_tenant_cache_evictions_total",
        "counter",
        "Tenants pushed out of the LRU.",
        load(&cache.evictions),
    );
    render_writers(&mut out, &state.engine);
    metric(
        &mut out,
        "ledgerlite_sqlite_memory_bytes",
        "gauge",
        "Heap held by SQLite, all open tenants together (page caches, schemas, statements).",
        Engine::sqlite_memory_bytes(),
    );
    render_replication(&mut out, &state).await;
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(out)
}

/// Whether Litestream replicates the data folder and, if so, how far its replica is behind,
/// over every tenant (from file times: no subprocess per scrape; per tenant see the admin
/// API's `…/replication`).
async fn render_replication(out: &mut String, state: &AppState) {
    let configured = !state.config.replication.by_ledgerlite();
    metric(
        out,
        "ledgerlite_replication_configured",
        "gauge",
        "1 when Litestream replicates the tenants (LEDGERLITE_REPLICATION=litestream).",
        u64::from(configured),
    );
    if !configured {
        return;
    }
    let registry = std::sync::Arc::clone(state.engine.registry());
    let data_dir = state.config.data_dir.clone();
    let (url, key) = (
        state.config.replica.clone(),
        state.config.replica_sftp_key.clone(),
    );
    let lag = web::block(move || {
        let replica = url.and_then(|url| crate::replication::Replica::new(&url, key).ok());
        let ids = registry.list().unwrap_or_default();
        crate::replication::lag(&data_dir, replica.as_ref(), &ids)
    })
    .await
    .unwrap_or_default();
    metric(
        out,
        "ledgerlite_replication_tenants_behind",
        "gauge",
        "Tenants whose last commit is newer than the newest transaction of their replica \
         (file:// LEDGERLITE_REPLICA; otherwise Litestream's local copy).",
        lag.tenants_behind,
    );
    header(
        out,
        "ledgerlite_replication_lag_seconds",
        "gauge",
        "Largest time, over tenants, by which a tenant's last commit is newer than its replica.",
    );
    let _ = writeln!(out, "ledgerlite_replication_lag_seconds {}", lag.seconds);
}
