//! What the disk and SQLite alone can do: the ceiling to compare ledgerlite's transfers/s with.
//!
//! ```sh
//! cargo run --release --example baseline                       # 5 s per phase, in a temp dir
//! cargo run --release --example baseline -- --path DIR --count 10000 --seconds 5 --json
//! ```
//!
//! Writes the rows one ledger transfer costs the server straight into a fresh SQLite file with
//! rusqlite, with the server's settings (`journal_mode=WAL`, `synchronous=FULL`, UUIDv7 text
//! keys, decimal amounts as text): per transfer one insert into `ledger_transaction`, two
//! inserts into `operation` and two balance updates, each a read-modify-write of the decimal
//! text (read, parse, add, format, `UPDATE … WHERE version = ?`), as the server does. The tables
//! and indexes are the server's for these three, without foreign keys and without the HTTP,
//! JSON, idempotency and savepoint work the server adds.
//!
//! Phases, each in its own fresh file under `--path` (default: a temporary directory), each
//! `BEGIN IMMEDIATE … COMMIT`:
//!
//! - **batch 1**: one commit (and so one WAL fsync) per transfer, the server's floor when
//!   requests arrive one at a time;
//! - **batch 100**: 100 transfers per commit, what group commit can reach;
//! - **fsync probe**: append 4 KiB to a file and `fdatasync` it, in a loop: the disk's limit
//!   on durable commits per second.
//!
//! Each phase runs for `--seconds` (default 5) or until `--count` transfers (fsyncs) are done,
//! whichever comes first. Prints transfers/s, rows/s (5 rows per transfer) and commits/s per
//! batch size, and fsyncs/s; `--json` adds one JSON summary line at the end of stdout.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use rusqlite::{Connection, TransactionBehavior, params};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::format_description;
use uuid::Uuid;

/// Phase length when `--seconds` is not given, in seconds.
const DEFAULT_PHASE_SECONDS: f64 = 5.0;
/// Balances transfers move money between.
const DEFAULT_ACCOUNTS: usize = 1000;
/// Transfers per commit of the phases run by default.
const DEFAULT_BATCH_SIZES: &str = "1,100";
/// Largest batch accepted, in transfers per commit.
const BATCH_TRANSFERS_MAX: usize = 100_000;
/// What every balance starts with, in USD.
const FUNDING_PER_ACCOUNT_USD: &str = "1000000";
/// Each transfer's amount, in USD.
const TRANSFER_USD: &str = "1.23";
/// Rows written per transfer: 1 transaction + 2 operations + 2 balance updates.
const ROWS_PER_TRANSFER: u64 = 5;
/// Bytes appended before each fdatasync of the probe.
const FSYNC_PROBE_WRITE_BYTES: usize = 4096;
/// Wait for a lock held by another connection, in milliseconds (there is none; as the server).
const BUSY_TIMEOUT_MILLIS: u64 = 5000;
/// Prepared statements kept per connection (as the server).
const STATEMENT_CACHE_STATEMENTS: usize = 64;

/// Raw SQLite and fsync throughput, the ceiling for ledgerlite (see the module documentation).
#[derive(Debug, Parser)]
#[command(name = "baseline")]
struct Args {
    /// Directory to create the scratch files in (a fresh subdirectory, removed afterwards).
    #[arg(long)]
    path: Option<PathBuf>,
    /// Stop each phase after this many transfers (fsyncs) [default: only --seconds].
    #[arg(long)]
    count: Option<u64>,
    /// Length of each phase, in seconds.
    #[arg(long, default_value_t = DEFAULT_PHASE_SECONDS)]
    seconds: f64,
    /// Balances to move money between.
    #[arg(long, default_value_t = DEFAULT_ACCOUNTS)]
    accounts: usize,
    /// Transfers per commit, one phase each (comma separated).
    #[arg(long, value_delimiter = ',', default_value = DEFAULT_BATCH_SIZES)]
    batches: Vec<usize>,
    /// Keep the scratch files.
    #[arg(long)]
    keep: bool,
    /// Also print one JSON summary line at the end of stdout.
    #[arg(long)]
    json: bool,
}

/// The server's tables for transactions, operations and balances (no foreign keys).
const SCHEMA: &str = "
CREATE TABLE balance (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    ledger_id       TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    alias           TEXT NOT NULL,
    key             TEXT NOT NULL,
    asset_code      TEXT NOT NULL,
    available       TEXT NOT NULL DEFAULT '0',
    on_hold         TEXT NOT NULL DEFAULT '0',
    version         INTEGER NOT NULL DEFAULT 1,
    account_type    TEXT NOT NULL,
    allow_sending   INTEGER NOT NULL DEFAULT 1,
    allow_receiving INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    deleted_at      TEXT
) STRICT;
CREATE UNIQUE INDEX balance_alias_key ON balance(ledger_id, alias, key) WHERE deleted_at IS NULL;
CREATE INDEX balance_account ON balance(account_id);

CREATE TABLE ledger_transaction (
    id                           TEXT PRIMARY KEY,
    organization_id              TEXT NOT NULL,
    ledger_id                    TEXT NOT NULL,
    parent_transaction_id        TEXT,
    description                  TEXT,
    status_code                  TEXT NOT NULL,
    status_description           TEXT,
    amount                       TEXT NOT NULL,
    asset_code                   TEXT NOT NULL,
    chart_of_accounts_group_name TEXT,
    source                       TEXT NOT NULL,
    destination                  TEXT NOT NULL,
    route                        TEXT,
    postings                     TEXT NOT NULL,
    metadata                     TEXT,
    created_at                   TEXT NOT NULL,
    updated_at                   TEXT NOT NULL,
    deleted_at                   TEXT
) STRICT;
CREATE INDEX ledger_transaction_ledger ON ledger_transaction(ledger_id, id);

CREATE TABLE operation (
    id                 TEXT PRIMARY KEY,
    transaction_id     TEXT NOT NULL,
    organization_id    TEXT NOT NULL,
    ledger_id          TEXT NOT NULL,
    description        TEXT,
    type               TEXT NOT NULL,
    direction          TEXT NOT NULL,
    asset_code         TEXT NOT NULL,
    chart_of_accounts  TEXT,
    amount             TEXT NOT NULL,
    available_before   TEXT NOT NULL,
    on_hold_before     TEXT NOT NULL,
    version_before     INTEGER NOT NULL,
    available_after    TEXT NOT NULL,
    on_hold_after      TEXT NOT NULL,
    version_after      INTEGER NOT NULL,
    status_code        TEXT NOT NULL,
    status_description TEXT,
    account_id         TEXT NOT NULL,
    account_alias      TEXT NOT NULL,
    balance_key        TEXT NOT NULL,
    balance_id         TEXT NOT NULL,
    balance_affected   INTEGER NOT NULL,
    route              TEXT,
    metadata           TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    deleted_at         TEXT
) STRICT;
CREATE INDEX operation_transaction ON operation(transaction_id, id);
CREATE INDEX operation_account ON operation(account_id, id);
CREATE INDEX operation_balance ON operation(balance_id, created_at);
";

fn main() -> Result<()> {
    let args = Args::parse();
    ensure!(
        args.seconds.is_finite() && args.seconds > 0.0,
        "--seconds must be positive"
    );
    ensure!(args.accounts >= 2, "--accounts must be at least 2");
    ensure!(args.count != Some(0), "--count must be positive");
    for &batch in &args.batches {
        ensure!(
            (1..=BATCH_TRANSFERS_MAX).contains(&batch),
            "--batches: each must be 1..={BATCH_TRANSFERS_MAX}"
        );
    }
    let limits = Limits {
        duration: Duration::from_secs_f64(args.seconds),
        count: args.count.unwrap_or(u64::MAX),
    };

    let scratch = match &args.path {
        Some(path) => {
            std::fs::create_dir_all(path)
                .with_context(|| format!("creating {}", path.display()))?;
            tempfile::Builder::new()
                .prefix("baseline-")
                .tempdir_in(path)
        }
        None => tempfile::Builder::new().prefix("baseline-").tempdir(),
    }
    .context("creating the scratch directory")?;
    let dir = scratch.path().to_owned();
    println!(
        "baseline: SQLite {}, journal_mode=WAL, synchronous=FULL, {} accounts, in {} ({})",
        rusqlite::version(),
        args.accounts,
        dir.display(),
        filesystem_of(&dir).unwrap_or_else(|| "filesystem unknown".to_owned())
    );

    let mut phases = Vec::new();
    for &batch in &args.batches {
        let file = dir.join(format!("batch-{batch}.sqlite"));
        let result = ledger_phase(&file, args.accounts, batch, limits)?;
        println!(
            "batch {batch:>5}: {:>8} transfers in {:.2} s = {:>9.1} transfers/s = {:>10.1} rows/s, {:>8.1} commits/s",
            result.transfers,
            result.elapsed.as_secs_f64(),
            result.transfers_per_second(),
            result.rows_per_second(),
            result.commits_per_second()
        );
        phases.push((batch, result));
    }

    let probe = fsync_probe(&dir.join("fsync-probe.bin"), limits)?;
    let fsyncs_per_second = probe.fsyncs as f64 / probe.elapsed.as_secs_f64();
    println!(
        "fsync probe: {} x (append {FSYNC_PROBE_WRITE_BYTES} B + fdatasync) in {:.2} s = {fsyncs_per_second:.1} fsyncs/s (mean {:.3} ms)",
        probe.fsyncs,
        probe.elapsed.as_secs_f64(),
        probe.elapsed.as_secs_f64() * 1000.0 / probe.fsyncs.max(1) as f64
    );

    if args.json {
        let batches: Vec<Value> = phases
            .iter()
            .map(|(batch, result)| {
                json!({
                    "batch": batch,
                    "transfers": result.transfers,
                    "commits": result.commits,
                    "elapsed_s": result.elapsed.as_secs_f64(),
                    "transfers_per_s": result.transfers_per_second(),
                    "rows_per_s": result.rows_per_second(),
                    "commits_per_s": result.commits_per_second(),
                })
            })
            .collect();
        let summary = json!({
            "sqlite": rusqlite::version(),
            "accounts": args.accounts,
            "rows_per_transfer": ROWS_PER_TRANSFER,
            "batches": batches,
            "fsync": {
                "count": probe.fsyncs,
                "elapsed_s": probe.elapsed.as_secs_f64(),
                "per_s": fsyncs_per_second,
                "write_bytes": FSYNC_PROBE_WRITE_BYTES,
            },
        });
        println!("{summary}");
    }

    if args.keep {
        let kept = scratch.keep();
        eprintln!("kept {}", kept.display());
    }
    Ok(())
}

/// When a phase ends: after `duration` or `count` units of work, whichever comes first.
#[derive(Debug, Clone, Copy)]
struct Limits {
    duration: Duration,
    count: u64,
}

struct PhaseResult {
    transfers: u64,
    commits: u64,
    elapsed: Duration,
}

impl PhaseResult {
    fn seconds(&self) -> f64 {
        self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    fn transfers_per_second(&self) -> f64 {
        self.transfers as f64 / self.seconds()
    }

    fn rows_per_second(&self) -> f64 {
        (self.transfers * ROWS_PER_TRANSFER) as f64 / self.seconds()
    }

    fn commits_per_second(&self) -> f64 {
        self.commits as f64 / self.seconds()
    }
}

/// The server's timestamp: RFC 3339 UTC, microseconds, fixed width.
fn now() -> Result<String> {
    let fixed =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    Ok(OffsetDateTime::now_utc().format(&fixed)?)
}

/// A fresh file with the schema, opened as the server opens its writer.
fn open(file: &Path) -> Result<Connection> {
    let conn = Connection::open(file).with_context(|| format!("opening {}", file.display()))?;
    conn.busy_timeout(Duration::from_millis(BUSY_TIMEOUT_MILLIS))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_STATEMENTS);
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
    let sync: i64 = conn.query_row("PRAGMA synchronous", [], |row| row.get(0))?;
    ensure!(
        mode.eq_ignore_ascii_case("wal"),
        "journal_mode is {mode}, not WAL"
    );
    ensure!(sync == 2, "synchronous is {sync}, not FULL (2)");
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

/// One funded balance: its id, account and alias.
struct Account {
    balance_id: String,
    account_id: String,
    alias: String,
}

/// Creates `accounts` balances holding the funding (not measured).
fn seed(conn: &mut Connection, org: &str, ledger: &str, accounts: usize) -> Result<Vec<Account>> {
    let stamp = now()?;
    let db = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut seeded = Vec::with_capacity(accounts);
    {
        let mut insert = db.prepare(
            "INSERT INTO balance (id, organization_id, ledger_id, account_id, alias, key, asset_code,
                                  available, on_hold, version, account_type, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'default', 'USD', ?6, '0', 1, 'deposit', ?7, ?7)",
        )?;
        for index in 0..accounts {
            let account = Account {
                balance_id: Uuid::now_v7().to_string(),
                account_id: Uuid::now_v7().to_string(),
                alias: format!("@acct-{index}"),
            };
            insert.execute(params![
                account.balance_id,
                org,
                ledger,
                account.account_id,
                account.alias,
                FUNDING_PER_ACCOUNT_USD,
                stamp
            ])?;
            seeded.push(account);
        }
    }
    db.commit()?;
    Ok(seeded)
}

/// A small, fast PRNG (SplitMix64) to pick accounts.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Transfers between random accounts, `batch` per `BEGIN IMMEDIATE … COMMIT`.
fn ledger_phase(file: &Path, accounts: usize, batch: usize, limits: Limits) -> Result<PhaseResult> {
    let mut conn = open(file)?;
    let org = Uuid::now_v7().to_string();
    let ledger = Uuid::now_v7().to_string();
    let accounts = seed(&mut conn, &org, &ledger, accounts)?;
    let amount = Decimal::from_str(TRANSFER_USD)?;
    let seed = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos() as u64;
    let mut rng = Rng(seed);

    let started = Instant::now();
    let (mut transfers, mut commits) = (0u64, 0u64);
    while transfers < limits.count && started.elapsed() < limits.duration {
        let db = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let in_this_commit = (batch as u64).min(limits.count - transfers);
        for _ in 0..in_this_commit {
            let from = rng.below(accounts.len());
            let mut to = rng.below(accounts.len() - 1);
            if to >= from {
                to += 1;
            }
            transfer(&db, &org, &ledger, &accounts[from], &accounts[to], amount)?;
        }
        db.commit()?;
        transfers += in_this_commit;
        commits += 1;
    }
    let elapsed = started.elapsed();
    conn.close().map_err(|(_, error)| error)?;
    Ok(PhaseResult {
        transfers,
        commits,
        elapsed,
    })
}

/// The rows of one transfer of `amount` from `from` to `to`.
fn transfer(
    db: &Connection,
    org: &str,
    ledger: &str,
    from: &Account,
    to: &Account,
    amount: Decimal,
) -> Result<()> {
    let stamp = now()?;
    let transaction_id = Uuid::now_v7().to_string();
    let value = amount.to_string();
    let postings = json!([
        {"alias": from.alias, "balanceId": from.balance_id, "direction": "debit", "amount": value},
        {"alias": to.alias, "balanceId": to.balance_id, "direction": "credit", "amount": value},
    ])
    .to_string();
    db.prepare_cached(
        "INSERT INTO ledger_transaction (id, organization_id, ledger_id, status_code, amount,
                                         asset_code, source, destination, postings, created_at,
                                         updated_at)
         VALUES (?1, ?2, ?3, 'APPROVED', ?4, 'USD', ?5, ?6, ?7, ?8, ?8)",
    )?
    .execute(params![
        transaction_id,
        org,
        ledger,
        value,
        json!([from.alias]).to_string(),
        json!([to.alias]).to_string(),
        postings,
        stamp
    ])?;
    for (account, direction, delta) in [(from, "debit", -amount), (to, "credit", amount)] {
        let (available, on_hold, version): (String, String, i64) = db
            .prepare_cached("SELECT available, on_hold, version FROM balance WHERE id = ?1")?
            .query_row([&account.balance_id], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })?;
        let before = Decimal::from_str(&available)?;
        let after = before + delta;
        if after < Decimal::ZERO {
            bail!("{} would go below zero", account.alias);
        }
        let after_text = after.normalize().to_string();
        db.prepare_cached(
            "INSERT INTO operation (id, transaction_id, organization_id, ledger_id, type, direction,
                                    asset_code, amount, available_before, on_hold_before,
                                    version_before, available_after, on_hold_after, version_after,
                                    status_code, account_id, account_alias, balance_key, balance_id,
                                    balance_affected, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'USD', ?7, ?8, ?9, ?10, ?11, ?9, ?12, 'APPROVED',
                     ?13, ?14, 'default', ?15, 1, ?16, ?16)",
        )?
        .execute(params![
            Uuid::now_v7().to_string(),
            transaction_id,
            org,
            ledger,
            if direction == "debit" {
                "DEBIT"
            } else {
                "CREDIT"
            },
            direction,
            value,
            available,
            on_hold,
            version,
            after_text,
            version + 1,
            account.account_id,
            account.alias,
            account.balance_id,
            stamp
        ])?;
        let updated = db
            .prepare_cached(
                "UPDATE balance SET available = ?1, version = ?2, updated_at = ?3
                 WHERE id = ?4 AND version = ?5",
            )?
            .execute(params![
                after_text,
                version + 1,
                stamp,
                account.balance_id,
                version
            ])?;
        ensure!(updated == 1, "balance {} changed underneath", account.alias);
    }
    Ok(())
}

struct ProbeResult {
    fsyncs: u64,
    elapsed: Duration,
}

/// Appends 4 KiB and fdatasyncs, in a loop.
fn fsync_probe(file: &Path, limits: Limits) -> Result<ProbeResult> {
    let mut out: File = OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .with_context(|| format!("opening {}", file.display()))?;
    let block = vec![0xA5u8; FSYNC_PROBE_WRITE_BYTES];
    let started = Instant::now();
    let mut fsyncs = 0u64;
    while fsyncs < limits.count && started.elapsed() < limits.duration {
        out.write_all(&block)?;
        out.sync_data()?;
        fsyncs += 1;
    }
    Ok(ProbeResult {
        fsyncs,
        elapsed: started.elapsed(),
    })
}

/// The type of the filesystem holding `path` (the longest mount point above it), from
/// `/proc/self/mounts`; `None` where that cannot be told.
fn filesystem_of(path: &Path) -> Option<String> {
    let path = path.canonicalize().ok()?;
    let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (device, point, kind) = (fields.next()?, fields.next()?, fields.next()?);
            path.starts_with(point)
                .then(|| (point.len(), format!("{kind} on {device}")))
        })
        .max_by_key(|(length, _)| *length)
        .map(|(_, description)| description)
}
