//! Load generator for a running ledgerlite server (or anything serving the Midaz v3.8 contract).
//!
//! ```sh
//! # single tenant, closed loop: 64 connections posting as fast as answers come back, 10 s
//! cargo run --release --example loadgen -- --connections 64 --accounts 1000 --duration 10
//! # open loop: a fixed offered rate; latency is measured from each request's scheduled time
//! cargo run --release --example loadgen -- --rate 2000 --duration 30
//! # a fixed number of transfers, 100 per request through the batch endpoint
//! cargo run --release --example loadgen -- --count 100000 --batch 100
//! # multi tenant: tokens are minted here (HS256, claim `tenantId`, `exp`); the tenants
//! # `loadgen-0` … must exist (`ledgerlite tenant create loadgen-0`) or the server must run
//! # with LEDGERLITE_AUTO_PROVISION=true
//! cargo run --release --example loadgen -- --tenants 20 --secret "$LEDGERLITE_JWT_SECRET"
//! ```
//!
//! Three phases:
//!
//! 1. **Setup** (not measured, moderate concurrency): per tenant an organization, a ledger, the
//!    asset `USD`, `--accounts` deposit accounts `@acct-<i>`, each funded by an inflow of
//!    1,000,000 USD. Without `--secret` (single-tenant server) `--tenants T` makes T ledgers in
//!    the one tenant.
//! 2. **Load**: `--connections` workers, each with its own HTTP client and so its own
//!    connection, post transfers of `--amount` between two distinct random accounts of a random
//!    tenant (uniform, or with `--zipf S` skewed so a few tenants are hot: tenant `i` is chosen
//!    with probability ∝ 1/(i+1)^S, so `<prefix>-0` is the hottest; S = 1 over 10,000 tenants
//!    sends ~10 % of the transfers to tenant 0, ~53 % to the first 100 and ~63 % to the first
//!    256), each request with a unique `X-Idempotency` key (without one the server
//!    deduplicates identical bodies). The run lasts `--duration` seconds or `--count` transfers.
//!    Closed loop by default; with `--rate R` transfers are scheduled at R/s (open loop) and a
//!    request's latency runs from when it was due, not when it was sent, so a stalled server
//!    is not hidden by requests that were never sent (coordinated omission). With `--batch B`
//!    the transfers go B at a time to `POST {ledger}/transactions/batch`. With `--warmup W`
//!    the same load runs W seconds first, unmeasured (its errors still count), so the server's
//!    caches hold what the traffic keeps hot, as in a server that has been up for a while; the
//!    warm-up's rate is printed first.
//!    Every answer is checked: 201 is a transfer done, 422 with code `0018` (insufficient
//!    funds) is counted as rejected, anything else is an error, counted by status and code.
//! 3. **Verification**: for every ledger, all balances are walked (`GET {ledger}/balances`,
//!    cursor pages); per asset Σ(available + onHold) of the credit-direction balances less
//!    Σ(available − onHold) of the debit-direction ones must be exactly 0, no balance other than
//!    `@external/…` may be negative, and the accounts must still hold exactly what was funded.
//!
//! Prints transfers/s, latency p50/p99/p99.9 (every latency is kept, in microseconds, and
//! sorted at the end), errors by status/code, and PASS or FAIL; `--json` adds one JSON summary
//! line at the end of stdout. Progress goes to stderr. Exit status: 0 on PASS without errors,
//! 1 on FAIL, 2 when the run could not be carried out (setup failed, bad arguments), 3 on PASS
//! with errors (answers other than 201 and 422/0018, or transport failures).

use std::collections::BTreeMap;
use std::future::Future;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail, ensure};
use clap::Parser;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Client, StatusCode, Url};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

/// Where Midaz (and ledgerlite) serve by default.
const DEFAULT_URL: &str = "http://127.0.0.1:3002";
/// Run length when neither `--duration` nor `--count` is given, in seconds.
const DEFAULT_DURATION_SECONDS: f64 = 10.0;
/// The one asset every ledger gets.
const ASSET_CODE: &str = "USD";
/// What every account is funded with, in USD.
const FUNDING_PER_ACCOUNT_USD: &str = "1000000";
/// Default transfer amount, in USD.
const DEFAULT_TRANSFER_USD: &str = "1.23";
/// Requests in flight during setup (organizations, ledgers, accounts, inflows).
const SETUP_CONCURRENCY_REQUESTS: usize = 32;
/// Most transfers the batch endpoint takes in one request.
const BATCH_TRANSFERS_MAX: usize = 1000;
/// Page size when walking the balances, in items (the API's maximum).
const BALANCE_PAGE_ITEMS: usize = 100;
/// Pages walked per ledger at most, a guard against a cursor that never ends.
const BALANCE_PAGES_MAX: usize = 1_000_000;
/// Lifetime of the minted tokens, in seconds.
const TOKEN_TTL_SECONDS: u64 = 24 * 60 * 60;
/// Longest wait for one answer, in seconds.
const REQUEST_TIMEOUT_SECONDS: u64 = 60;
/// Longest wait for a TCP connection, in seconds.
const CONNECT_TIMEOUT_SECONDS: u64 = 10;
/// Idle connections a load worker's client keeps: one, so connections = workers.
const WORKER_IDLE_CONNECTIONS: usize = 1;
/// How often progress is printed, in milliseconds.
const PROGRESS_INTERVAL_MILLIS: u64 = 1000;
/// Longest error body kept as a sample, in characters.
const ERROR_SAMPLE_CHARS_MAX: usize = 300;
/// Open loop: a run longer than its schedule by this factor did not keep the offered rate.
const OPEN_LOOP_BEHIND_FACTOR: f64 = 1.1;
/// Midaz's code for insufficient funds.
const INSUFFICIENT_FUNDS_CODE: &str = "0018";
/// Exit status when verification fails.
const EXIT_FAIL: u8 = 1;
/// Exit status when the run could not be carried out.
const EXIT_ERROR: u8 = 2;
/// Exit status when verification passed but some requests failed.
const EXIT_REQUEST_ERRORS: u8 = 3;
/// The cold-open time whose share the report shows (the issue's p99 target), in seconds.
const COLD_OPEN_FAST_SECONDS: f64 = 0.002;

/// Load generator for the Midaz v3.8 transaction API (see the module documentation).
#[derive(Debug, Parser)]
#[command(name = "loadgen")]
struct Args {
    /// Server base URL.
    #[arg(long, env = "LOADGEN_URL", default_value = DEFAULT_URL)]
    url: String,
    /// Tenants (multi-tenant, with --secret) or ledgers in the one tenant (without).
    #[arg(long, default_value_t = 1)]
    tenants: usize,
    /// Accounts per tenant (at least 2).
    #[arg(long, default_value_t = 1000)]
    accounts: usize,
    /// Concurrent HTTP connections (one worker and one client each).
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Run length in seconds [default: 10 unless --count is given].
    #[arg(long, conflicts_with = "count")]
    duration: Option<f64>,
    /// Run until this many transfers were sent instead.
    #[arg(long)]
    count: Option<u64>,
    /// Load for this many seconds before the measured run, unmeasured (the same load, so the
    /// server's caches hold what the traffic keeps hot, as in a server that has been running).
    #[arg(long, value_name = "SECONDS")]
    warmup: Option<f64>,
    /// Open loop: offered rate in transfers per second (default: closed loop).
    #[arg(long)]
    rate: Option<f64>,
    /// Transfers per request through `POST {ledger}/transactions/batch` (default: /json, one each).
    #[arg(long)]
    batch: Option<usize>,
    /// With --batch: send `"atomic": true` (all or nothing per request).
    #[arg(long, requires = "batch")]
    atomic: bool,
    /// HS256 secret: multi-tenant mode, tokens are minted for each tenant.
    #[arg(long, env = "LOADGEN_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// Claim that names the tenant in minted tokens.
    #[arg(long, default_value = "tenantId")]
    tenant_claim: String,
    /// Tenant ids are `<prefix>-<i>`.
    #[arg(long, default_value = "loadgen")]
    tenant_prefix: String,
    /// Choose tenant i with probability proportional to 1/(i+1)^S instead of uniformly (S ≥ 0;
    /// 0 is uniform).
    #[arg(long, value_name = "S")]
    zipf: Option<f64>,
    /// Amount of each transfer, in USD.
    #[arg(long, default_value = DEFAULT_TRANSFER_USD)]
    amount: String,
    /// Runtime worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Also print one JSON summary line at the end of stdout.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(threads) = args.threads {
        builder.worker_threads(threads.max(1));
    }
    let outcome = builder
        .build()
        .context("starting the runtime")
        .and_then(|runtime| runtime.block_on(run(args)));
    match outcome {
        Ok(Verdict::Pass) => ExitCode::SUCCESS,
        Ok(Verdict::Fail) => ExitCode::from(EXIT_FAIL),
        Ok(Verdict::PassWithErrors) => ExitCode::from(EXIT_REQUEST_ERRORS),
        Err(error) => {
            eprintln!("loadgen: {error:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// One ledger under load: where it is and how to reach it.
struct Target {
    /// For messages: the tenant id, or `default/<i>` in single-tenant mode.
    label: String,
    /// `Bearer <token>` in multi-tenant mode.
    auth: Option<HeaderValue>,
    /// `{url}/v1/organizations/{org}/ledgers/{ledger}`.
    ledger_url: String,
    /// `{ledger_url}/transactions/json` or `/transactions/batch`.
    post_url: String,
}

async fn run(args: Args) -> Result<Verdict> {
    ensure!(args.tenants >= 1, "--tenants must be at least 1");
    ensure!(
        args.accounts >= 2,
        "--accounts must be at least 2 (a transfer needs two)"
    );
    ensure!(args.connections >= 1, "--connections must be at least 1");
    let batch = args.batch.unwrap_or(1);
    ensure!(
        (1..=BATCH_TRANSFERS_MAX).contains(&batch),
        "--batch must be 1..={BATCH_TRANSFERS_MAX}"
    );
    if let Some(rate) = args.rate {
        ensure!(rate.is_finite() && rate > 0.0, "--rate must be positive");
    }
    if let Some(duration) = args.duration {
        ensure!(
            duration.is_finite() && duration > 0.0,
            "--duration must be positive"
        );
    }
    ensure!(args.count != Some(0), "--count must be positive");
    if let Some(warmup) = args.warmup {
        ensure!(
            warmup.is_finite() && warmup > 0.0,
            "--warmup must be positive"
        );
    }
    if let Some(s) = args.zipf {
        ensure!(s.is_finite() && s >= 0.0, "--zipf must be a number ≥ 0");
    }
    let amount = Decimal::from_str(&args.amount).context("--amount is not a decimal")?;
    ensure!(amount > Decimal::ZERO, "--amount must be positive");
    let base = args.url.trim_end_matches('/').to_owned();

    let setup_client = client(SETUP_CONCURRENCY_REQUESTS)?;
    let setup_started = Instant::now();
    let targets = setup(&setup_client, &base, &args).await?;
    eprintln!(
        "setup: {} ledger(s) x {} accounts funded in {:.1} s",
        targets.len(),
        args.accounts,
        setup_started.elapsed().as_secs_f64()
    );

    let load = Arc::new(Load {
        target_cdf: args.zipf.map(|s| zipf_cdf(targets.len(), s)),
        targets,
        accounts: args.accounts,
        amount: amount.to_string(),
        single: args.batch.is_none(),
        batch,
        atomic: args.atomic,
        run_id: uuid::Uuid::now_v7().simple().to_string(),
        next_request: AtomicU64::new(0),
        progress: Progress::default(),
    });
    let stop = match (args.count, args.duration) {
        (Some(count), _) => Stop::Count(count),
        (None, duration) => Stop::After(Duration::from_secs_f64(
            duration.unwrap_or(DEFAULT_DURATION_SECONDS),
        )),
    };
    let mut warm_errors = Stats::default();
    if let Some(warmup) = args.warmup {
        let (warm, elapsed) =
            drive(&load, &args, Stop::After(Duration::from_secs_f64(warmup))).await?;
        println!(
            "warm-up       {} transfers in {:.2} s ({:.1}/s), not measured",
            warm.ok,
            elapsed.as_secs_f64(),
            warm.ok as f64 / elapsed.as_secs_f64()
        );
        // Its errors still count against the run.
        warm_errors.errors = warm.errors;
    }
    let opens_before = cold_opens(&setup_client, &base).await;
    let (mut stats, elapsed) = drive(&load, &args, stop).await?;
    stats.merge(warm_errors);
    let opens_after = cold_opens(&setup_client, &base).await;

    let checks = verify(&setup_client, &load.targets, args.accounts).await?;
    let pass = checks.iter().all(|check| check.pass);
    report(&args, &load, &stats, elapsed, &checks, pass);
    if let (Some(before), Some(after)) = (opens_before, opens_after) {
        report_cold_opens(&before, &after);
    }
    Ok(match (pass, stats.error_total()) {
        (false, _) => Verdict::Fail,
        (true, 0) => Verdict::Pass,
        (true, _) => Verdict::PassWithErrors,
    })
}

/// How a run ended.
enum Verdict {
    Pass,
    PassWithErrors,
    Fail,
}

// ---------------------------------------------------------------------------------------------
// Setup
// ---------------------------------------------------------------------------------------------

/// An HTTP/1 client without proxy that keeps `idle` connections to the server.
fn client(idle: usize) -> Result<Client> {
    Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(idle)
        .connect_timeout(Duration::from_secs(CONNECT_TIMEOUT_SECONDS))
        .timeout(Duration::from_secs(REQUEST_TIMEOUT_SECONDS))
        .build()
        .context("building the HTTP client")
}

/// `Bearer <HS256 token>` for `tenant`.
fn bearer(secret: &str, claim: &str, tenant: &str) -> Result<HeaderValue> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let mut claims = serde_json::Map::new();
    claims.insert(claim.to_owned(), json!(tenant));
    claims.insert("iat".to_owned(), json!(now));
    claims.insert("exp".to_owned(), json!(now + TOKEN_TTL_SECONDS));
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &Value::Object(claims),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .context("signing a token")?;
    Ok(HeaderValue::from_str(&format!("Bearer {token}"))?)
}

/// POSTs `body` and returns the JSON answer, which must be a 201.
async fn create(
    client: &Client,
    url: &str,
    auth: Option<&HeaderValue>,
    idempotency: Option<String>,
    body: &Value,
) -> Result<Value> {
    let mut request = client.post(url).json(body);
    if let Some(auth) = auth {
        request = request.header(AUTHORIZATION, auth.clone());
    }
    if let Some(key) = idempotency {
        request = request.header("X-Idempotency", key);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .with_context(|| format!("POST {url}"))?;
    if status != StatusCode::CREATED {
        let hint = if text.contains("TENANT_NOT_FOUND") {
            " (provision the tenant with `ledgerlite tenant create ID` or run the server with \
             LEDGERLITE_AUTO_PROVISION=true)"
        } else {
            ""
        };
        bail!("POST {url}: {status}: {}{hint}", sample(&text));
    }
    serde_json::from_str(&text).with_context(|| format!("POST {url}: answer is not JSON"))
}

fn id_of(created: &Value) -> Result<String> {
    created["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("created entity without an id: {created}"))
}

/// Runs `work` on every job with at most `limit` running at once; stops at the first error.
async fn bounded<T, F, Fut>(jobs: Vec<T>, limit: usize, work: F) -> Result<()>
where
    T: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let queue = Arc::new(Mutex::new(jobs.into_iter()));
    let work = Arc::new(work);
    let mut tasks = JoinSet::new();
    for _ in 0..limit.max(1) {
        let queue = Arc::clone(&queue);
        let work = Arc::clone(&work);
        tasks.spawn(async move {
            loop {
                let job = queue.lock().await.next();
                match job {
                    Some(job) => work(job).await?,
                    None => return Ok::<(), anyhow::Error>(()),
                }
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.context("setup task panicked")??;
    }
    Ok(())
}

/// Creates and funds every ledger; returns them ready for load.
async fn setup(client: &Client, base: &str, args: &Args) -> Result<Vec<Arc<Target>>> {
    let run_tag = uuid::Uuid::now_v7().simple().to_string();
    let mut heads = Vec::with_capacity(args.tenants);
    for index in 0..args.tenants {
        let (label, auth) = match &args.secret {
            Some(secret) => {
                let tenant = format!("{}-{index}", args.tenant_prefix);
                let auth = bearer(secret, &args.tenant_claim, &tenant)?;
                (tenant, Some(auth))
            }
            None => (format!("default/{index}"), None),
        };
        heads.push(Head {
            index,
            label,
            auth,
            ledger_name: format!("loadgen-{run_tag}-{index}"),
        });
    }

    let made = Arc::new(Mutex::new(Vec::with_capacity(args.tenants)));
    let (sink, setup_client, base_url) = (Arc::clone(&made), client.clone(), base.to_owned());
    bounded(heads, SETUP_CONCURRENCY_REQUESTS, move |head| {
        let (sink, client, base) = (Arc::clone(&sink), setup_client.clone(), base_url.clone());
        async move {
            let ledger_url = create_ledger(&client, &base, &head).await?;
            sink.lock().await.push((head, ledger_url));
            Ok(())
        }
    })
    .await?;
    let mut made = std::mem::take(&mut *made.lock().await);
    made.sort_by_key(|(head, _)| head.index);
    let endpoint = if args.batch.is_some() {
        "batch"
    } else {
        "json"
    };
    let targets: Vec<Arc<Target>> = made
        .into_iter()
        .map(|(head, ledger_url)| {
            Arc::new(Target {
                label: head.label,
                auth: head.auth,
                post_url: format!("{ledger_url}/transactions/{endpoint}"),
                ledger_url,
            })
        })
        .collect();

    let mut jobs = Vec::with_capacity(targets.len() * args.accounts);
    for target in &targets {
        for account in 0..args.accounts {
            jobs.push((Arc::clone(target), account));
        }
    }
    for step in [SetupStep::Account, SetupStep::Fund] {
        let (client, run_tag) = (client.clone(), run_tag.clone());
        bounded(
            jobs.clone(),
            SETUP_CONCURRENCY_REQUESTS,
            move |(target, account)| {
                let (client, run_tag) = (client.clone(), run_tag.clone());
                async move { setup_account(&client, &target, account, step, &run_tag).await }
            },
        )
        .await?;
    }
    Ok(targets)
}

/// A tenant (or, single-tenant, a ledger) before it exists.
struct Head {
    index: usize,
    label: String,
    auth: Option<HeaderValue>,
    ledger_name: String,
}

/// Creates the organization, the ledger and its asset; returns the ledger's URL.
async fn create_ledger(client: &Client, base: &str, head: &Head) -> Result<String> {
    let auth = head.auth.as_ref();
    let organization =
        json!({"legalName": format!("Loadgen {}", head.label), "legalDocument": "123456789"});
    let org = create(
        client,
        &format!("{base}/v1/organizations"),
        auth,
        None,
        &organization,
    )
    .await?;
    let ledgers_url = format!("{base}/v1/organizations/{}/ledgers", id_of(&org)?);
    let ledger = create(
        client,
        &ledgers_url,
        auth,
        None,
        &json!({"name": head.ledger_name}),
    )
    .await?;
    let ledger_url = format!("{ledgers_url}/{}", id_of(&ledger)?);
    let asset = json!({"name": "Dollar", "type": "currency", "code": ASSET_CODE});
    create(client, &format!("{ledger_url}/assets"), auth, None, &asset).await?;
    Ok(ledger_url)
}

#[derive(Debug, Clone, Copy)]
enum SetupStep {
    /// Create the account `@acct-<i>`.
    Account,
    /// Fund it with an inflow of [`FUNDING_PER_ACCOUNT_USD`].
    Fund,
}

async fn setup_account(
    client: &Client,
    target: &Target,
    account: usize,
    step: SetupStep,
    run_tag: &str,
) -> Result<()> {
    let alias = format!("@acct-{account}");
    let auth = target.auth.as_ref();
    match step {
        SetupStep::Account => {
            let url = format!("{}/accounts", target.ledger_url);
            let body = json!({"alias": alias, "assetCode": ASSET_CODE, "type": "deposit"});
            create(client, &url, auth, None, &body).await?;
        }
        SetupStep::Fund => {
            let url = format!("{}/transactions/inflow", target.ledger_url);
            let amount = json!({"asset": ASSET_CODE, "value": FUNDING_PER_ACCOUNT_USD});
            let body = json!({"send": {
                "asset": ASSET_CODE,
                "value": FUNDING_PER_ACCOUNT_USD,
                "distribute": {"to": [{"accountAlias": alias, "amount": amount}]},
            }});
            let key = format!("fund-{run_tag}-{account}");
            create(client, &url, auth, Some(key), &body).await?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Load
// ---------------------------------------------------------------------------------------------

/// What the workers share.
struct Load {
    targets: Vec<Arc<Target>>,
    /// With `--zipf`: the cumulative probability of choosing targets `0..=i`, for each `i`.
    target_cdf: Option<Vec<f64>>,
    accounts: usize,
    /// Transfer amount, canonical decimal text.
    amount: String,
    /// Transfers go one by one to `/transactions/json` (no `--batch`).
    single: bool,
    /// Transfers per request.
    batch: usize,
    atomic: bool,
    /// Prefix of every idempotency key of this run.
    run_id: String,
    /// Next request to claim (a request carries `batch` transfers).
    next_request: AtomicU64,
    progress: Progress,
}

/// Running totals for the progress line.
#[derive(Default)]
struct Progress {
    ok: AtomicU64,
    rejected: AtomicU64,
    errors: AtomicU64,
}

/// When the run ends.
#[derive(Debug, Clone, Copy)]
enum Stop {
    After(Duration),
    Count(u64),
}

/// The claim schedule shared by the workers.
struct Plan {
    start: Instant,
    /// The first request of this run (requests are numbered across runs, so a warm-up and the
    /// measured run never share an idempotency key).
    first: u64,
    end: Option<Instant>,
    count: Option<u64>,
    batch: u64,
    /// Open loop: seconds between two requests.
    interval_seconds: Option<f64>,
}

impl Plan {
    /// Transfers in request `request` and, in open loop, when it is due; `None` once the run
    /// is over.
    fn claim(&self, request: u64) -> Option<(u64, Option<Instant>)> {
        let index = request.saturating_sub(self.first);
        let due = self
            .interval_seconds
            .map(|interval| self.start + Duration::from_secs_f64(index as f64 * interval));
        if let Some(end) = self.end
            && due.unwrap_or_else(Instant::now) >= end
        {
            return None;
        }
        let first = index.saturating_mul(self.batch);
        let transfers = match self.count {
            Some(count) if first >= count => return None,
            Some(count) => self.batch.min(count - first),
            None => self.batch,
        };
        Some((transfers, due))
    }
}

/// One error kind: how often, and the first body seen.
#[derive(Debug, Clone)]
struct ErrorCount {
    count: u64,
    sample: String,
}

/// What one worker saw.
#[derive(Debug, Default)]
struct Stats {
    requests: u64,
    ok: u64,
    rejected: u64,
    latencies_us: Vec<u64>,
    errors: BTreeMap<String, ErrorCount>,
}

impl Stats {
    fn error(&mut self, key: String, transfers: u64, sample_text: &str) {
        self.errors
            .entry(key)
            .or_insert_with(|| ErrorCount {
                count: 0,
                sample: sample(sample_text),
            })
            .count += transfers;
    }

    fn error_total(&self) -> u64 {
        self.errors.values().map(|error| error.count).sum()
    }

    fn merge(&mut self, other: Stats) {
        self.requests += other.requests;
        self.ok += other.ok;
        self.rejected += other.rejected;
        self.latencies_us.extend(other.latencies_us);
        for (key, error) in other.errors {
            self.errors
                .entry(key)
                .and_modify(|mine| mine.count += error.count)
                .or_insert(error);
        }
    }
}

fn sample(text: &str) -> String {
    if text.trim().is_empty() {
        return "(empty body)".to_owned();
    }
    text.chars().take(ERROR_SAMPLE_CHARS_MAX).collect()
}

/// A small, fast PRNG (SplitMix64); statistical quality is plenty for picking accounts.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n` > 0; the modulo bias is negligible for account counts).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Runs the workers until the plan says stop; returns their merged stats and the wall time.
async fn drive(load: &Arc<Load>, args: &Args, stop: Stop) -> Result<(Stats, Duration)> {
    // Every worker's client, with its connection opened before the clock starts.
    let mut clients = Vec::with_capacity(args.connections);
    let mut warmups = JoinSet::new();
    for _ in 0..args.connections {
        let client = client(WORKER_IDLE_CONNECTIONS)?;
        clients.push(client.clone());
        let health = format!("{}/health", args.url.trim_end_matches('/'));
        warmups.spawn(async move { client.get(health).send().await?.bytes().await });
    }
    while let Some(joined) = warmups.join_next().await {
        joined
            .context("warm-up task panicked")?
            .context("warm-up GET /health")?;
    }

    for counter in [
        &load.progress.ok,
        &load.progress.rejected,
        &load.progress.errors,
    ] {
        counter.store(0, Ordering::Relaxed);
    }
    let start = Instant::now();
    let plan = Arc::new(Plan {
        start,
        first: load.next_request.load(Ordering::Relaxed),
        end: match stop {
            Stop::After(duration) => Some(start + duration),
            Stop::Count(_) => None,
        },
        count: match stop {
            Stop::Count(count) => Some(count),
            Stop::After(_) => None,
        },
        batch: load.batch as u64,
        interval_seconds: args.rate.map(|rate| load.batch as f64 / rate),
    });
    let seed = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos() as u64;
    let mut workers = JoinSet::new();
    for (index, client) in clients.into_iter().enumerate() {
        let (load, plan) = (Arc::clone(load), Arc::clone(&plan));
        let rng = Rng(seed ^ (index as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
        workers.spawn(worker(load, plan, client, rng));
    }
    let progress = tokio::spawn(progress(Arc::clone(load), start));
    let mut stats = Stats::default();
    while let Some(joined) = workers.join_next().await {
        stats.merge(joined.context("worker panicked")?);
    }
    let elapsed = start.elapsed();
    progress.abort();
    Ok((stats, elapsed))
}

async fn progress(load: Arc<Load>, start: Instant) {
    let mut ticker = tokio::time::interval(Duration::from_millis(PROGRESS_INTERVAL_MILLIS));
    ticker.tick().await;
    let mut last_ok = 0;
    loop {
        ticker.tick().await;
        let ok = load.progress.ok.load(Ordering::Relaxed);
        eprintln!(
            "[{:6.1} s] transfers ok {ok}  rejected {}  errors {}  ({:.0}/s over the last second)",
            start.elapsed().as_secs_f64(),
            load.progress.rejected.load(Ordering::Relaxed),
            load.progress.errors.load(Ordering::Relaxed),
            (ok - last_ok) as f64 * 1000.0 / PROGRESS_INTERVAL_MILLIS as f64,
        );
        last_ok = ok;
    }
}

async fn worker(load: Arc<Load>, plan: Arc<Plan>, client: Client, mut rng: Rng) -> Stats {
    let mut stats = Stats::default();
    loop {
        let request = load.next_request.fetch_add(1, Ordering::Relaxed);
        let Some((transfers, due)) = plan.claim(request) else {
            break;
        };
        if let Some(due) = due {
            tokio::time::sleep_until(tokio::time::Instant::from_std(due)).await;
        }
        let started = due.unwrap_or_else(Instant::now);
        let target = &load.targets[load.pick_target(&mut rng)];
        let (ok, rejected, errors) = (stats.ok, stats.rejected, stats.error_total());
        if load.single {
            single(&load, &client, target, request, &mut rng, &mut stats).await;
        } else {
            batch(
                &load, &client, target, request, transfers, &mut rng, &mut stats,
            )
            .await;
        }
        stats.requests += 1;
        let latency = started.elapsed().as_micros();
        stats
            .latencies_us
            .push(u64::try_from(latency).unwrap_or(u64::MAX));
        let counters = &load.progress;
        counters.ok.fetch_add(stats.ok - ok, Ordering::Relaxed);
        counters
            .rejected
            .fetch_add(stats.rejected - rejected, Ordering::Relaxed);
        counters
            .errors
            .fetch_add(stats.error_total() - errors, Ordering::Relaxed);
    }
    stats
}

/// The cumulative distribution of choosing `i` of `0..n` with probability ∝ 1/(i+1)^s.
fn zipf_cdf(n: usize, s: f64) -> Vec<f64> {
    let mut sum = 0.0;
    let mut cdf: Vec<f64> = (0..n)
        .map(|i| {
            sum += 1.0 / ((i + 1) as f64).powf(s);
            sum
        })
        .collect();
    for p in &mut cdf {
        *p /= sum;
    }
    cdf
}

impl Load {
    /// The index of the target of the next request: uniform, or by `target_cdf`.
    fn pick_target(&self, rng: &mut Rng) -> usize {
        match &self.target_cdf {
            None => rng.below(self.targets.len()),
            Some(cdf) => {
                let u = rng.unit();
                cdf.partition_point(|p| *p <= u).min(cdf.len() - 1)
            }
        }
    }

    /// The `/transactions/json` body of a transfer between two distinct random accounts.
    fn transfer(&self, rng: &mut Rng) -> Value {
        let from = rng.below(self.accounts);
        let mut to = rng.below(self.accounts - 1);
        if to >= from {
            to += 1;
        }
        let amount = json!({"asset": ASSET_CODE, "value": self.amount});
        json!({"send": {
            "asset": ASSET_CODE,
            "value": self.amount,
            "source": {"from": [{"accountAlias": format!("@acct-{from}"), "amount": amount}]},
            "distribute": {"to": [{"accountAlias": format!("@acct-{to}"), "amount": amount}]},
        }})
    }
}

/// Sends one request; returns its status and its body, which is read but not kept when the
/// status is `ignore_body_of`.
async fn post(
    client: &Client,
    target: &Target,
    idempotency: Option<String>,
    body: Vec<u8>,
    ignore_body_of: Option<StatusCode>,
) -> std::result::Result<(StatusCode, Vec<u8>), reqwest::Error> {
    let mut request = client
        .post(&target.post_url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .body(body);
    if let Some(auth) = &target.auth {
        request = request.header(AUTHORIZATION, auth.clone());
    }
    if let Some(key) = idempotency {
        request = request.header("X-Idempotency", key);
    }
    let response = request.send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    let keep = ignore_body_of != Some(status);
    Ok((status, if keep { body.to_vec() } else { Vec::new() }))
}

/// The error key of a transport failure.
fn transport_key(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_body() || error.is_decode() {
        "body"
    } else {
        "request"
    };
    format!("transport/{kind}")
}

/// The Midaz error code of a JSON error body (empty when there is none).
fn code_of(body: &Value) -> &str {
    body.get("code").and_then(Value::as_str).unwrap_or("")
}

/// One transfer through `/transactions/json`.
async fn single(
    load: &Load,
    client: &Client,
    target: &Target,
    request: u64,
    rng: &mut Rng,
    stats: &mut Stats,
) {
    let body = load.transfer(rng).to_string().into_bytes();
    let key = format!("lg-{}-{request}", load.run_id);
    match post(client, target, Some(key), body, Some(StatusCode::CREATED)).await {
        Ok((StatusCode::CREATED, _)) => stats.ok += 1,
        Ok((status, body)) => {
            let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let code = code_of(&parsed);
            if status == StatusCode::UNPROCESSABLE_ENTITY && code == INSUFFICIENT_FUNDS_CODE {
                stats.rejected += 1;
            } else {
                let key = format!("{}/{code}", status.as_u16());
                stats.error(key, 1, &String::from_utf8_lossy(&body));
            }
        }
        Err(error) => stats.error(transport_key(&error), 1, &error.to_string()),
    }
}

/// `transfers` transfers in one request to `/transactions/batch`.
async fn batch(
    load: &Load,
    client: &Client,
    target: &Target,
    request: u64,
    transfers: u64,
    rng: &mut Rng,
    stats: &mut Stats,
) {
    let items: Vec<Value> = (0..transfers)
        .map(|item| {
            let mut transfer = load.transfer(rng);
            transfer["idempotencyKey"] = json!(format!("lg-{}-{request}-{item}", load.run_id));
            transfer
        })
        .collect();
    let body = json!({"atomic": load.atomic, "transactions": items})
        .to_string()
        .into_bytes();
    let (status, body) = match post(client, target, None, body, None).await {
        Ok(answer) => answer,
        Err(error) => {
            stats.error(transport_key(&error), transfers, &error.to_string());
            return;
        }
    };
    let text = String::from_utf8_lossy(&body);
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let expected = if load.atomic {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    if status != expected {
        let code = code_of(&parsed);
        if load.atomic
            && status == StatusCode::UNPROCESSABLE_ENTITY
            && code == INSUFFICIENT_FUNDS_CODE
        {
            stats.rejected += transfers;
        } else {
            stats.error(
                format!("batch {}/{code}", status.as_u16()),
                transfers,
                &text,
            );
        }
        return;
    }
    let Some(items) = parsed.get("items").and_then(Value::as_array) else {
        stats.error(
            format!("batch {}/no items", status.as_u16()),
            transfers,
            &text,
        );
        return;
    };
    for item in items {
        let item_status = item.get("status").and_then(Value::as_u64).unwrap_or(0);
        let code = item.get("body").map(code_of).unwrap_or("");
        match item_status {
            201 => stats.ok += 1,
            422 if code == INSUFFICIENT_FUNDS_CODE => stats.rejected += 1,
            other => stats.error(format!("item {other}/{code}"), 1, &item.to_string()),
        }
    }
    let answered = items.len() as u64;
    if answered < transfers {
        stats.error(
            "batch/missing items".to_owned(),
            transfers - answered,
            &text,
        );
    } else if answered > transfers {
        stats.error("batch/extra items".to_owned(), answered - transfers, &text);
    }
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

/// The conservation check of one ledger.
struct Check {
    label: String,
    balances: usize,
    /// Σ(available + onHold) per asset; each must be zero.
    totals: BTreeMap<String, Decimal>,
    /// Σ(available + onHold) of the non-external balances; must equal what was funded.
    internal_total: Decimal,
    funded_total: Decimal,
    /// Non-external balances below zero (alias, amount).
    negative: Vec<(String, Decimal)>,
    pass: bool,
}

fn decimal_of(value: &Value, field: &str) -> Result<Decimal> {
    let text = match value.get(field) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        other => bail!("balance field {field} is {other:?}"),
    };
    Decimal::from_str(&text).with_context(|| format!("balance field {field} = {text}"))
}

async fn verify(client: &Client, targets: &[Arc<Target>], accounts: usize) -> Result<Vec<Check>> {
    let funding = Decimal::from_str(FUNDING_PER_ACCOUNT_USD)?;
    let mut checks = Vec::with_capacity(targets.len());
    for target in targets {
        let mut check = Check {
            label: target.label.clone(),
            balances: 0,
            totals: BTreeMap::new(),
            internal_total: Decimal::ZERO,
            funded_total: funding * Decimal::from(accounts),
            negative: Vec::new(),
            pass: false,
        };
        let mut cursor: Option<String> = None;
        for page in 0.. {
            ensure!(
                page < BALANCE_PAGES_MAX,
                "{}: balances do not end after {BALANCE_PAGES_MAX} pages",
                target.label
            );
            let mut url = Url::parse(&format!("{}/balances", target.ledger_url))?;
            url.query_pairs_mut()
                .append_pair("limit", &BALANCE_PAGE_ITEMS.to_string());
            if let Some(cursor) = &cursor {
                url.query_pairs_mut().append_pair("cursor", cursor);
            }
            let mut request = client.get(url.clone());
            if let Some(auth) = &target.auth {
                request = request.header(AUTHORIZATION, auth.clone());
            }
            let response = request.send().await.with_context(|| format!("GET {url}"))?;
            let status = response.status();
            let text = response.text().await?;
            ensure!(
                status == StatusCode::OK,
                "GET {url}: {status}: {}",
                sample(&text)
            );
            let body: Value = serde_json::from_str(&text)?;
            let items = body["items"]
                .as_array()
                .ok_or_else(|| anyhow!("GET {url}: no items"))?;
            for balance in items {
                let alias = balance["alias"].as_str().unwrap_or("").to_owned();
                let asset = balance["assetCode"].as_str().unwrap_or("").to_owned();
                let amount = decimal_of(balance, "available")? + decimal_of(balance, "onHold")?;
                // Signed by direction: a debit-direction balance (every `@external/…`) counts
                // as −(available − onHold), so each asset's total is zero.
                let signed = match balance["direction"].as_str() {
                    Some("debit") => {
                        decimal_of(balance, "onHold")? - decimal_of(balance, "available")?
                    }
                    _ => amount,
                };
                check.balances += 1;
                *check.totals.entry(asset).or_default() += signed;
                if !alias.starts_with("@external/") {
                    check.internal_total += amount;
                    if amount < Decimal::ZERO {
                        check.negative.push((alias, amount));
                    }
                }
            }
            cursor = body
                .get("next_cursor")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if cursor.is_none() || items.is_empty() {
                break;
            }
        }
        check.pass = check.balances > 0
            && check.totals.values().all(Decimal::is_zero)
            && check.negative.is_empty()
            && check.internal_total == check.funded_total;
        checks.push(check);
    }
    Ok(checks)
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

/// The nearest-rank percentile `p` (0..=1) of sorted values.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn millis(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

/// The server's cold-open histogram (`ledgerlite_tenant_open_duration_seconds` on `/metrics`)
/// as (upper bound in seconds, cumulative count) per bucket, `+Inf` last; `None` for a server
/// without it.
async fn cold_opens(client: &Client, base: &str) -> Option<Vec<(f64, u64)>> {
    const BUCKET: &str = "ledgerlite_tenant_open_duration_seconds_bucket{le=\"";
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let buckets: Vec<(f64, u64)> = text
        .lines()
        .filter_map(|line| {
            let (le, count) = line.strip_prefix(BUCKET)?.split_once("\"} ")?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, count.trim().parse().ok()?))
        })
        .collect();
    (!buckets.is_empty()).then_some(buckets)
}

/// Prints the cold opens of tenants the server did during the load (not the setup nor the
/// check) and the bucket their p99 falls in.
fn report_cold_opens(before: &[(f64, u64)], after: &[(f64, u64)]) {
    let during: Vec<(f64, u64)> = after
        .iter()
        .zip(before)
        .map(|((le, a), (_, b))| (*le, a.saturating_sub(*b)))
        .collect();
    let total = during.last().map_or(0, |(_, count)| *count);
    if total == 0 {
        println!("cold opens    0 during the load");
        return;
    }
    let target = (total as f64 * 0.99).ceil() as u64;
    let within = |seconds: f64| {
        during
            .iter()
            .find(|(le, _)| *le >= seconds)
            .map_or(0, |(_, count)| *count)
    };
    let fast = 100.0 * within(COLD_OPEN_FAST_SECONDS) as f64 / total as f64;
    let mut lower = 0.0;
    for (le, count) in &during {
        if *count >= target {
            let bound = if le.is_finite() {
                format!("p99 <= {:.3} ms", le * 1000.0)
            } else {
                format!("p99 > {:.3} ms", lower * 1000.0)
            };
            println!(
                "cold opens    {total} during the load, {bound}, {fast:.0} % within {} ms",
                COLD_OPEN_FAST_SECONDS * 1000.0
            );
            return;
        }
        lower = *le;
    }
}

fn report(
    args: &Args,
    load: &Load,
    stats: &Stats,
    elapsed: Duration,
    checks: &[Check],
    pass: bool,
) {
    let mut latencies = stats.latencies_us.clone();
    latencies.sort_unstable();
    let (p50, p99, p999) = (
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 0.999),
    );
    let max = latencies.last().copied().unwrap_or(0);
    let mean = if latencies.is_empty() {
        0.0
    } else {
        latencies.iter().sum::<u64>() as f64 / latencies.len() as f64
    };
    let seconds = elapsed.as_secs_f64().max(f64::MIN_POSITIVE);
    let errors = stats.error_total();
    let transfers_per_second = stats.ok as f64 / seconds;
    let requests_per_second = stats.requests as f64 / seconds;
    let mode = match args.rate {
        Some(rate) => format!("open loop at {rate} transfers/s"),
        None => "closed loop".to_owned(),
    };
    let endpoint = if !load.single {
        format!(
            "batch of {}{}",
            load.batch,
            if load.atomic { ", atomic" } else { "" }
        )
    } else {
        "/transactions/json".to_owned()
    };

    println!(
        "loadgen: {mode}, {} connections, {} ledger(s) x {} accounts, {endpoint}",
        args.connections,
        load.targets.len(),
        load.accounts
    );
    println!(
        "requests      {} in {seconds:.2} s ({requests_per_second:.1}/s)",
        stats.requests
    );
    println!(
        "transfers     ok {} ({transfers_per_second:.1}/s)  rejected (0018) {}  errors {errors}",
        stats.ok, stats.rejected
    );
    if let Some(rate) = args.rate {
        let planned = match args.count {
            Some(count) => count as f64 / rate,
            None => args.duration.unwrap_or(DEFAULT_DURATION_SECONDS),
        };
        if seconds > planned * OPEN_LOOP_BEHIND_FACTOR {
            println!(
                "note          the offered rate was not kept up with: {planned:.1} s of schedule \
                 took {seconds:.1} s; latencies include the time requests waited to be sent"
            );
        }
    }
    let per = if load.single { "transfer" } else { "request" };
    println!(
        "latency       (per {per}) p50 {:.3} ms  p99 {:.3} ms  p99.9 {:.3} ms  max {:.3} ms  mean {:.3} ms",
        millis(p50),
        millis(p99),
        millis(p999),
        millis(max),
        mean / 1000.0
    );
    for (key, error) in &stats.errors {
        println!(
            "error         {key}: {}  e.g. {}",
            error.count, error.sample
        );
    }
    for check in checks.iter().filter(|check| !check.pass) {
        println!(
            "FAIL          {}: {} balances, totals {:?}, accounts hold {} (funded {}), negative {:?}",
            check.label,
            check.balances,
            check.totals,
            check.internal_total,
            check.funded_total,
            check.negative
        );
    }
    let balances: usize = checks.iter().map(|check| check.balances).sum();
    println!(
        "conservation  {} ({} ledger(s), {balances} balances; checks: Σ(available+onHold) = 0 \
         per asset, no internal balance < 0, accounts hold what was funded)",
        if pass { "PASS" } else { "FAIL" },
        checks.len()
    );
    if args.json {
        let errors_by_key: serde_json::Map<String, Value> = stats
            .errors
            .iter()
            .map(|(key, error)| (key.clone(), json!(error.count)))
            .collect();
        let summary = json!({
            "mode": if args.rate.is_some() { "open" } else { "closed" },
            "rate": args.rate,
            "connections": args.connections,
            "ledgers": load.targets.len(),
            "accounts": load.accounts,
            "batch": load.batch,
            "atomic": load.atomic,
            "elapsed_s": seconds,
            "requests": stats.requests,
            "requests_per_s": requests_per_second,
            "transfers_ok": stats.ok,
            "transfers_rejected": stats.rejected,
            "transfers_error": errors,
            "transfers_per_s": transfers_per_second,
            "errors": errors_by_key,
            "latency_us": {"p50": p50, "p99": p99, "p999": p999, "max": max, "mean": mean},
            "latency_per": per,
            "balances": balances,
            "conservation": if pass { "PASS" } else { "FAIL" },
        });
        println!("{summary}");
    }
}
