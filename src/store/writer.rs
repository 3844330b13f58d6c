//! The single writer of one tenant file, run by a pool of writer threads shared by all tenants.
//!
//! SQLite has one writer per file, so each open tenant owns exactly one write connection and
//! one queue of commands. A fixed [`WriterPool`] of threads serves the queues of every tenant
//! of a registry: a tenant with queued commands waits in the pool's ready list, and a thread
//! that takes it holds it alone (never two threads on one tenant, so still one writer per
//! file). The thread takes every command that is queued (up to [`WRITER_BATCH_COMMANDS_MAX`]),
//! runs each inside its own `SAVEPOINT` within one `BEGIN IMMEDIATE … COMMIT`, and answers every
//! caller only after that commit returned, so one fsync serves a whole batch and a rejected
//! command rolls back only its own savepoint. A tenant that still has commands then goes to
//! the back of the ready list, so a busy tenant cannot starve the others. Under light load a
//! lone command is committed at once: the writer never waits for company, and a command alone
//! in its group runs without a savepoint (rejected, its transaction is rolled back instead of
//! committed). A command submitted with [`Writer::write_prechecked`] checks everything before
//! its first write, so it runs without a savepoint in any group: a savepoint copies every page
//! the command touches that the group already changed.

use std::collections::{BTreeMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering, fence};
use std::time::Instant;

use parking_lot::{Condvar, Mutex};
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Kind, Result};

/// Commands applied under one commit at most.
pub const WRITER_BATCH_COMMANDS_MAX: usize = 256;
/// Commands that may wait for the writer before submitters are made to wait.
pub const WRITER_QUEUE_COMMANDS_MAX: usize = 4096;
/// Writer threads per CPU core in a registry's [`WriterPool`]. More than one per core: a
/// thread waiting for its commit's fsync leaves its core to another tenant's commit. Over
/// 1,000 tenants on 2 cores, 16 threads did better than 4 and than 64 (README, Performance).
pub const WRITER_THREADS_PER_CORE: usize = 8;

/// Runs against the write connection (or not at all, given `None`, when the batch could not
/// begin); returns whether its writes are kept, and the reply to send once the outcome of the
/// commit is known.
type Run = Box<dyn FnOnce(Option<&Connection>) -> (bool, Reply) + Send>;

struct Command {
    run: Run,
    /// Rejects only before its first write, so it needs no savepoint.
    prechecked: bool,
}
type Reply = Box<dyn FnOnce(Result<()>) + Send>;

pub struct Writer {
    /// Taken (closing the queue) when the writer is dropped: a pool thread then applies what
    /// is queued, closes the connection and calls `on_closed`, so dropping never blocks.
    queue: Option<mpsc::Sender<Command>>,
    tenant: Arc<TenantQueue>,
    pool: Arc<PoolInner>,
    stats: Arc<WriterStats>,
    metrics: Arc<WriterMetrics>,
}

/// What happens to a tenant's write connection once its queue is closed and done.
type OnClosed = Box<dyn FnOnce(Option<Connection>) + Send>;

/// Asked inside every group's write transaction, once its lock is held: whether the tenant
/// may be written (a frozen or moved tenant may not).
type MayWrite = Box<dyn Fn() -> Result<()> + Send>;

/// A tenant as the pool sees it: its queue, and what only the pool thread holding the tenant
/// touches.
struct TenantQueue {
    /// Whether the tenant is in the ready list or held by a pool thread. Whoever sets it
    /// puts the tenant in the ready list; only the thread holding the tenant clears it.
    scheduled: AtomicBool,
    held: Mutex<Held>,
    stats: Arc<WriterStats>,
    metrics: Arc<WriterMetrics>,
}

/// The part of a tenant that only the pool thread holding it uses (the lock is never
/// contended: `scheduled` admits one thread at a time).
struct Held {
    commands: mpsc::Receiver<Command>,
    /// A command taken from the queue to see whether the tenant had more work; it goes first
    /// in the tenant's next group.
    next: Option<Command>,
    /// `None` only once the tenant is closed.
    conn: Option<Connection>,
    on_closed: Option<OnClosed>,
    may_write: MayWrite,
}

/// Threads that run the group commits of every tenant of one registry. Dropped, it lets its
/// threads end once every writer started on it has closed.
pub struct WriterPool {
    inner: Arc<PoolInner>,
    metrics: Arc<WriterMetrics>,
    threads: usize,
}

struct PoolInner {
    ready: Mutex<Ready>,
    /// Signalled when a tenant enters the ready list, or when the threads may end.
    wake: Condvar,
}

#[derive(Default)]
struct Ready {
    /// Tenants with work (or with a closed queue to finish), in the order they get a thread.
    tenants: VecDeque<Arc<TenantQueue>>,
    /// Writers started and not closed yet.
    writers: usize,
    /// The pool handle is gone: threads end once `writers` is 0.
    stopping: bool,
}

impl WriterPool {
    /// Starts `threads` writer threads (at least one); `metrics` counts what all of them do.
    pub fn new(threads: usize, metrics: Arc<WriterMetrics>) -> std::io::Result<Self> {
        let threads = threads.max(1);
        let inner = Arc::new(PoolInner {
            ready: Mutex::new(Ready::default()),
            wake: Condvar::new(),
        });
        for index in 0..threads {
            let inner = Arc::clone(&inner);
            // Detached: each thread ends on its own once the pool is dropped and idle.
            std::thread::Builder::new()
                .name(format!("writer-{index}"))
                .spawn(move || serve(&inner))?;
        }
        Ok(Self {
            inner,
            metrics,
            threads,
        })
    }

    /// [`WRITER_THREADS_PER_CORE`] threads per core the process may use.
    pub fn default_threads() -> usize {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
            * WRITER_THREADS_PER_CORE
    }

    pub fn metrics(&self) -> &Arc<WriterMetrics> {
        &self.metrics
    }

    pub fn threads(&self) -> usize {
        self.threads
    }
}

impl Drop for WriterPool {
    fn drop(&mut self) {
        self.inner.ready.lock().stopping = true;
        self.inner.wake.notify_all();
    }
}

impl PoolInner {
    /// Puts `tenant` in the ready list unless it is there or held already.
    fn schedule(&self, tenant: &Arc<TenantQueue>) {
        // Pairs with the fence in `release`: either the holder sees what was queued before
        // this, or this sees that the tenant is no longer scheduled.
        fence(Ordering::SeqCst);
        if tenant.scheduled.swap(true, Ordering::SeqCst) {
            return;
        }
        self.ready.lock().tenants.push_back(Arc::clone(tenant));
        self.wake.notify_one();
    }

    /// The next tenant to serve; `None` when the thread may end.
    fn next(&self) -> Option<Arc<TenantQueue>> {
        let mut ready = self.ready.lock();
        loop {
            if let Some(tenant) = ready.tenants.pop_front() {
                return Some(tenant);
            }
            if ready.stopping && ready.writers == 0 {
                return None;
            }
            self.wake.wait(&mut ready);
        }
    }

    /// `tenant` has more work after its turn: it goes to the back of the ready list and the
    /// thread takes the front one (itself again if no one else waits).
    fn requeue(&self, tenant: Arc<TenantQueue>) -> Arc<TenantQueue> {
        let mut ready = self.ready.lock();
        match ready.tenants.pop_front() {
            Some(front) => {
                ready.tenants.push_back(tenant);
                front
            }
            None => tenant,
        }
    }

    fn closed_one(&self) {
        let mut ready = self.ready.lock();
        ready.writers = ready.writers.saturating_sub(1);
        let idle = ready.stopping && ready.writers == 0;
        drop(ready);
        if idle {
            self.wake.notify_all();
        }
    }
}

/// A pool thread: serves one tenant's turn after another until the pool is gone and idle.
fn serve(pool: &PoolInner) {
    let mut batch = Vec::with_capacity(WRITER_BATCH_COMMANDS_MAX);
    let mut next = None;
    loop {
        let Some(tenant) = next.take().or_else(|| pool.next()) else {
            return;
        };
        // A command's panic is caught where it runs; this keeps the thread serving the other
        // tenants should anything else of a turn panic.
        next = catch_unwind(AssertUnwindSafe(|| turn(pool, tenant, &mut batch))).unwrap_or_else(
            |_| {
                tracing::error!("a writer turn panicked; its commands are answered with errors");
                batch.clear();
                None
            },
        );
    }
}

/// One turn of `tenant`, which this thread holds: a group commit of what is queued (at most
/// [`WRITER_BATCH_COMMANDS_MAX`] commands), or, once its queue is closed and drained, the
/// close of its connection. Returns the tenant to serve next without waiting, if any.
fn turn(
    pool: &PoolInner,
    tenant: Arc<TenantQueue>,
    batch: &mut Vec<Command>,
) -> Option<Arc<TenantQueue>> {
    let mut held = tenant.held.lock();
    let held = &mut *held;
    batch.extend(held.next.take());
    let mut closed = false;
    while batch.len() < WRITER_BATCH_COMMANDS_MAX {
        match held.commands.try_recv() {
            Ok(command) => batch.push(command),
            Err(mpsc::error::TryRecvError::Empty) => break,
            Err(mpsc::error::TryRecvError::Disconnected) => {
                closed = true;
                break;
            }
        }
    }
    if !batch.is_empty() {
        match &held.conn {
            Some(conn) => {
                let counters = (&*tenant.stats, &*tenant.metrics);
                group_commit(conn, batch, counters, &*held.may_write);
            }
            // Not reached: a closed tenant is never scheduled again.
            None => batch.clear(),
        }
    }
    if closed {
        close(held, &tenant.stats);
        pool.closed_one();
        return None;
    }
    // Release the tenant, then look for work queued meanwhile: a submitter that still saw
    // it scheduled did not put it in the ready list.
    tenant.scheduled.store(false, Ordering::SeqCst);
    fence(Ordering::SeqCst);
    match held.commands.try_recv() {
        Ok(command) => held.next = Some(command),
        Err(mpsc::error::TryRecvError::Empty) => return None,
        // Closed meanwhile: a turn of its own closes it.
        Err(mpsc::error::TryRecvError::Disconnected) => {}
    }
    if tenant.scheduled.swap(true, Ordering::SeqCst) {
        // A submitter put it in the ready list already.
        return None;
    }
    Some(pool.requeue(Arc::clone(&tenant)))
}

/// The queue is closed and drained. On shutdown, fold the WAL back into the database file so
/// a stopped tenant is one self-contained file (a failure here loses nothing; the WAL stays
/// valid); otherwise hand the connection on to be parked.
fn close(held: &mut Held, stats: &WriterStats) {
    let conn = held.conn.take();
    let conn = if stats.checkpoint_on_close.load(Ordering::Relaxed) {
        if let Some(conn) = conn {
            super::parking::close_folded(conn);
        }
        None
    } else {
        conn
    };
    if let Some(on_closed) = held.on_closed.take() {
        on_closed(conn);
    }
}

/// Upper bounds of the group-commit size histogram, in commands.
pub const BATCH_SIZE_BUCKETS_COMMANDS: [u64; 9] = [1, 2, 4, 8, 16, 32, 64, 128, 256];
/// Upper bounds of the group-commit latency histogram (`BEGIN IMMEDIATE` to the end of
/// `COMMIT`, fsync included), in microseconds.
pub const COMMIT_LATENCY_BUCKETS_MICROSECONDS: [u64; 10] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000,
];

/// What every writer of one registry did, for `/metrics`: shared by the writers of all its
/// tenants (two engines in one process count apart).
pub struct WriterMetrics {
    /// Commands handed to a writer queue (counted once queued, so briefly behind the
    /// commands taken).
    pub submitted: AtomicU64,
    /// Commands per group commit: its count is the commits run, its sum the commands taken.
    pub batch_sizes: Histogram<9>,
    /// Duration of each group commit, in microseconds.
    pub commit_latency: Histogram<10>,
    /// Commands rejected and rolled back (alone, or to their savepoint), by error code.
    rejected: Mutex<BTreeMap<&'static str, u64>>,
}

impl Default for WriterMetrics {
    fn default() -> Self {
        Self {
            submitted: AtomicU64::new(0),
            batch_sizes: Histogram::new(BATCH_SIZE_BUCKETS_COMMANDS),
            commit_latency: Histogram::new(COMMIT_LATENCY_BUCKETS_MICROSECONDS),
            rejected: Mutex::new(BTreeMap::new()),
        }
    }
}

impl WriterMetrics {
    /// Commands submitted and not yet taken by their writer, over all tenants.
    pub fn queued(&self) -> u64 {
        let (_, _, taken) = self.batch_sizes.snapshot();
        self.submitted.load(Ordering::Relaxed).saturating_sub(taken)
    }

    /// Rejected commands by error code.
    pub fn rejected(&self) -> Vec<(&'static str, u64)> {
        self.rejected
            .lock()
            .iter()
            .map(|(code, count)| (*code, *count))
            .collect()
    }

    fn reject(&self, code: &'static str) {
        *self.rejected.lock().entry(code).or_default() += 1;
    }
}

/// A cumulative histogram of integer observations, updated without locks.
pub struct Histogram<const N: usize> {
    /// Upper bound of each bucket, in the unit of the observations.
    pub bounds: [u64; N],
    /// Observations at or below each bound.
    buckets: [AtomicU64; N],
    count: AtomicU64,
    sum: AtomicU64,
}

impl<const N: usize> Histogram<N> {
    pub const fn new(bounds: [u64; N]) -> Self {
        Self {
            bounds,
            buckets: [const { AtomicU64::new(0) }; N],
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, value: u64) {
        for (bucket, bound) in self.buckets.iter().zip(self.bounds) {
            if value <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(value, Ordering::Relaxed);
    }

    /// `(cumulative count per bound, total count, sum)`.
    pub fn snapshot(&self) -> ([u64; N], u64, u64) {
        (
            std::array::from_fn(|i| self.buckets[i].load(Ordering::Relaxed)),
            self.count.load(Ordering::Relaxed),
            self.sum.load(Ordering::Relaxed),
        )
    }
}

/// Counters of a writer since it started.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// `BEGIN IMMEDIATE … COMMIT` transactions run (each one fsync at `synchronous=FULL`).
    pub commits: AtomicU64,
    /// Commands applied (kept or rolled back) in those transactions.
    pub commands: AtomicU64,
    /// Whether to fold the WAL into the database file when the writer stops.
    checkpoint_on_close: AtomicBool,
}

impl Writer {
    /// Starts the writer of `conn` on `pool`: it owns `conn` until the writer is dropped and
    /// its queue is done. A pool thread then hands `conn` to `on_closed` (to be parked for a
    /// later reopen), or, when told to [checkpoint](Writer::checkpoint_when_closed),
    /// checkpoints and closes it and calls `on_closed(None)`. `may_write` is asked inside
    /// every group's write transaction, once its lock is held; when it refuses, the group is
    /// rolled back unrun and every command of it gets the refusal (a frozen or moved tenant).
    pub fn start(
        pool: &WriterPool,
        conn: Connection,
        on_closed: impl FnOnce(Option<Connection>) + Send + 'static,
        may_write: impl Fn() -> Result<()> + Send + 'static,
    ) -> Self {
        let (queue, commands) = mpsc::channel(WRITER_QUEUE_COMMANDS_MAX);
        let stats = Arc::new(WriterStats::default());
        let metrics = Arc::clone(&pool.metrics);
        let tenant = Arc::new(TenantQueue {
            scheduled: AtomicBool::new(false),
            held: Mutex::new(Held {
                commands,
                next: None,
                conn: Some(conn),
                on_closed: Some(Box::new(on_closed)),
                may_write: Box::new(may_write),
            }),
            stats: Arc::clone(&stats),
            metrics: Arc::clone(&metrics),
        });
        pool.inner.ready.lock().writers += 1;
        Self {
            queue: Some(queue),
            tenant,
            pool: Arc::clone(&pool.inner),
            stats,
            metrics,
        }
    }

    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Makes the writer checkpoint the WAL into the database file when it stops (on shutdown;
    /// an eviction skips it, the WAL being as durable as the file and replayed on open).
    pub fn checkpoint_when_closed(&self) {
        self.stats
            .checkpoint_on_close
            .store(true, Ordering::Relaxed);
    }

    /// Applies `command` in its own savepoint of the next group commit and returns its result
    /// once that commit is durable. An `Err` from `command` rolls back everything it wrote.
    pub async fn write<T, F>(&self, command: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.submit(command, false).await
    }

    /// [`Writer::write`] for a command that returns an error only before its first write
    /// (it checks everything, then writes), or for a storage failure. It runs without a
    /// savepoint. Should it fail after writing anyway, nothing of its group can be kept: the
    /// group is rolled back and every command of it fails with 503.
    pub async fn write_prechecked<T, F>(&self, command: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.submit(command, true).await
    }

    async fn submit<T, F>(&self, command: F, prechecked: bool) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (command, answer) = package(command, prechecked, Arc::clone(&self.metrics));
        self.queue()?
            .send(command)
            .await
            .map_err(|_| Error::internal("writer stopped"))?;
        self.metrics.submitted.fetch_add(1, Ordering::Relaxed);
        self.pool.schedule(&self.tenant);
        answer
            .await
            .map_err(|_| Error::internal("writer dropped a command"))?
    }

    /// [`Writer::write`] for callers outside an async runtime (CLI, embedding).
    pub fn write_blocking<T, F>(&self, command: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.submit_blocking(command, false)
    }

    fn submit_blocking<T, F>(&self, command: F, prechecked: bool) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (command, answer) = package(command, prechecked, Arc::clone(&self.metrics));
        self.queue()?
            .blocking_send(command)
            .map_err(|_| Error::internal("writer stopped"))?;
        self.metrics.submitted.fetch_add(1, Ordering::Relaxed);
        self.pool.schedule(&self.tenant);
        answer
            .blocking_recv()
            .map_err(|_| Error::internal("writer dropped a command"))?
    }

    fn queue(&self) -> Result<&mpsc::Sender<Command>> {
        self.queue
            .as_ref()
            .ok_or_else(|| Error::internal("writer stopped"))
    }
}

impl Drop for Writer {
    /// Closes the queue and schedules the tenant, so a pool thread applies what is still
    /// queued and then closes the connection. Never blocks.
    fn drop(&mut self) {
        drop(self.queue.take());
        self.pool.schedule(&self.tenant);
    }
}

fn package<T, F>(
    command: F,
    prechecked: bool,
    metrics: Arc<WriterMetrics>,
) -> (Command, oneshot::Receiver<Result<T>>)
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T> + Send + 'static,
{
    let (answer, receiver) = oneshot::channel();
    let run: Run = Box::new(move |conn| {
        let outcome = match conn {
            Some(conn) => catch_unwind(AssertUnwindSafe(|| command(conn)))
                .unwrap_or_else(|_| Err(Error::internal("a write command panicked"))),
            None => Err(Error::internal("the write batch could not begin")),
        };
        let keep = outcome.is_ok();
        if let (Some(_), Err(error)) = (conn, &outcome) {
            metrics.reject(error.spec().code);
        }
        let reply: Reply = Box::new(move |commit: Result<()>| {
            let _ = answer.send(commit.and(outcome));
        });
        (keep, reply)
    });
    (Command { run, prechecked }, receiver)
}

/// Runs `batch` (emptied) as one group commit and answers its commands.
fn group_commit(
    conn: &Connection,
    batch: &mut Vec<Command>,
    (stats, metrics): (&WriterStats, &WriterMetrics),
    may_write: &dyn Fn() -> Result<()>,
) {
    tracing::trace!(commands = batch.len(), "group commit");
    let commands_taken = batch.len() as u64;
    stats.commits.fetch_add(1, Ordering::Relaxed);
    stats.commands.fetch_add(commands_taken, Ordering::Relaxed);
    metrics.batch_sizes.observe(commands_taken);
    let started = Instant::now();
    let (replies, committed) = commit_batch(conn, batch, may_write);
    // Observed before anyone is answered, so `/metrics` read after a reply counts it.
    metrics
        .commit_latency
        .observe(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
    for reply in replies {
        reply(committed.clone());
    }
}

/// One `BEGIN IMMEDIATE … COMMIT` around every command of `batch` (each in a savepoint
/// unless alone or prechecked); returns the replies to send and the outcome of the commit.
fn commit_batch(
    conn: &Connection,
    batch: &mut Vec<Command>,
    may_write: &dyn Fn() -> Result<()>,
) -> (Vec<Reply>, Result<()>) {
    let mut replies = Vec::with_capacity(batch.len());
    // Asked with the write lock held, so a freeze that took the lock after marking the tenant
    // knows every later group sees the mark.
    let begun = run_cached(conn, "BEGIN IMMEDIATE")
        .map_err(Error::from)
        .and_then(|()| may_write().inspect_err(|_| rollback(conn)));
    if let Err(error) = begun {
        for command in batch.drain(..) {
            let (_, reply) = (command.run)(None);
            replies.push(reply);
        }
        return (replies, Err(error));
    }
    // A group of one needs no savepoint: if its command is rejected, the whole transaction
    // (only its own writes) is rolled back instead of committed.
    let alone = batch.len() == 1;
    let mut rejected_alone = false;
    let mut commands = batch.drain(..);
    for command in commands.by_ref() {
        if alone || command.prechecked {
            let changes = conn.total_changes();
            let (keep, reply) = (command.run)(Some(conn));
            replies.push(reply);
            rejected_alone = alone && !keep;
            if !alone && !keep && failed_after_writing(conn, changes) {
                // Its writes cannot be undone alone: the group is rolled back (and failed
                // below, like a group SQLite rolled back itself).
                tracing::error!(
                    "a prechecked command failed after writing; its group is rolled back"
                );
                rollback(conn);
            }
        } else {
            replies.push(apply_in_savepoint(conn, command));
        }
        if conn.is_autocommit() {
            break;
        }
    }
    let committed = if conn.is_autocommit() {
        fail_rolled_back_group(commands, &mut replies)
    } else if rejected_alone {
        // The reply carries the command's own error; nothing was acknowledged.
        rollback(conn);
        Ok(())
    } else {
        commit(conn)
    };
    (replies, committed)
}

/// Whether work that returned an error left behind what only a rollback of the whole
/// transaction can undo: it wrote (the connection's change count moved from
/// `changes_before`), or SQLite already rolled the transaction back.
pub fn failed_after_writing(conn: &Connection, changes_before: u64) -> bool {
    conn.total_changes() != changes_before || conn.is_autocommit()
}

fn apply_in_savepoint(conn: &Connection, command: Command) -> Reply {
    if let Err(error) = run_cached(conn, "SAVEPOINT command") {
        let error = Error::from(error);
        let (_, reply) = (command.run)(None);
        return Box::new(move |commit: Result<()>| reply(commit.and(Err(error))));
    }
    let (keep, reply) = (command.run)(Some(conn));
    let closed = if keep {
        run_cached(conn, "RELEASE command")
    } else {
        run_cached(conn, "ROLLBACK TO command").and_then(|()| run_cached(conn, "RELEASE command"))
    };
    match closed {
        Ok(()) => reply,
        Err(error) => {
            let error = Error::from(error);
            // A failed group reports the group's failure; otherwise this command's own.
            Box::new(move |commit: Result<()>| reply(commit.and(Err(error))))
        }
    }
}

/// Runs one transaction-control statement, prepared once per connection instead of parsed on
/// every call as `execute_batch` would.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// `COMMIT`, and on failure a `ROLLBACK` unless SQLite already rolled back (it does on a full
/// disk or an I/O error): afterwards the connection is out of any transaction and usable.
fn commit(conn: &Connection) -> Result<()> {
    let committed = run_cached(conn, "COMMIT").map_err(Error::from);
    if let Err(error) = &committed {
        tracing::warn!(%error, cause = ?error.cause, "group commit failed; nothing of it is acknowledged");
        rollback(conn);
    }
    committed
}

/// `ROLLBACK` unless SQLite already rolled back.
fn rollback(conn: &Connection) {
    if !conn.is_autocommit()
        && let Err(error) = run_cached(conn, "ROLLBACK")
    {
        tracing::warn!(%error, "rollback failed");
    }
}

/// The whole transaction was rolled back in the middle of the group (by SQLite, when a
/// statement failed with `SQLITE_FULL` or an I/O error and could not be undone alone, or by
/// the writer, when a prechecked command failed after writing): nothing of the group is
/// on disk, so every command is answered with the failure (none acknowledged), and the
/// commands not run yet are not run at all — outside a transaction each would commit alone.
fn fail_rolled_back_group(
    unrun: impl Iterator<Item = Command>,
    replies: &mut Vec<Reply>,
) -> Result<()> {
    for command in unrun {
        let (_, reply) = (command.run)(None);
        replies.push(reply);
    }
    tracing::warn!(
        commands = replies.len(),
        "SQLite rolled back a group commit; nothing of it is acknowledged"
    );
    let mut error = Error::new(Kind::StorageUnavailable);
    error.cause = Some("SQLite rolled back the group commit after a storage error".to_owned());
    Err(error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc as std_mpsc;
    use std::time::Duration;

    fn writer() -> (tempfile::TempDir, Writer) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let conn = Connection::open(dir.path().join("w.sqlite")).unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (v INTEGER NOT NULL)")
            .unwrap_or_else(|e| panic!("{e}"));
        let pool = WriterPool::new(1, Arc::default()).unwrap_or_else(|e| panic!("{e}"));
        let writer = Writer::start(&pool, conn, drop, || Ok(()));
        (dir, writer)
    }

    fn rows(writer: &Writer) -> Vec<i64> {
        writer
            .write_blocking(|conn| {
                let mut statement = conn.prepare("SELECT v FROM t ORDER BY v")?;
                let rows = statement.query_map([], |r| r.get(0))?;
                Ok(rows.collect::<rusqlite::Result<Vec<i64>>>()?)
            })
            .unwrap_or_default()
    }

    #[test]
    fn a_rejected_command_rolls_back_alone_and_its_batch_commits() {
        let (_dir, writer) = writer();
        let writer = Arc::new(writer);
        // Hold the writer busy so the next commands queue up and are taken as one batch.
        let (started, wait_started) = std_mpsc::channel();
        let busy = {
            let writer = Arc::clone(&writer);
            std::thread::spawn(move || {
                writer.write_blocking(move |conn| {
                    let _ = started.send(());
                    std::thread::sleep(Duration::from_millis(200));
                    conn.execute("INSERT INTO t VALUES (0)", [])?;
                    Ok(())
                })
            })
        };
        wait_started.recv().unwrap_or_else(|e| panic!("{e}"));
        let commits_before = writer.stats().commits.load(Ordering::Relaxed);
        let submit = |value: i64, fail: bool| {
            let writer = Arc::clone(&writer);
            std::thread::spawn(move || {
                writer.write_blocking(move |conn| {
                    conn.execute("INSERT INTO t VALUES (?)", [value])?;
                    if fail {
                        return Err(Error::new(crate::error::Kind::InsufficientFunds));
                    }
                    Ok(value)
                })
            })
        };
        let first = submit(1, false);
        std::thread::sleep(Duration::from_millis(20));
        let rejected = submit(2, true);
        std::thread::sleep(Duration::from_millis(20));
        let third = submit(3, false);
        assert!(busy.join().is_ok_and(|r| r.is_ok()));
        assert_eq!(first.join().ok().and_then(|r| r.ok()), Some(1));
        let rejected = rejected.join().ok().and_then(|r| r.err()).map(|e| e.kind);
        assert_eq!(rejected, Some(crate::error::Kind::InsufficientFunds));
        assert_eq!(third.join().ok().and_then(|r| r.ok()), Some(3));
        // The three queued commands shared one commit, the busy one had its own.
        assert_eq!(
            writer.stats().commits.load(Ordering::Relaxed),
            commits_before + 1
        );
        assert_eq!(rows(&writer), vec![0, 1, 3]);
    }

    #[test]
    fn a_rejected_lone_command_leaves_nothing_and_the_writer_goes_on() {
        let (dir, writer) = writer();
        writer
            .write_blocking(|conn| Ok(conn.execute("INSERT INTO t VALUES (1)", [])?))
            .unwrap_or_else(|e| panic!("{e}"));
        // Alone in its group, so no savepoint: the transaction itself is rolled back.
        let rejected = writer.write_blocking(|conn| -> Result<()> {
            conn.execute("INSERT INTO t VALUES (2)", [])?;
            conn.execute("UPDATE t SET v = 10 WHERE v = 1", [])?;
            Err(Error::new(crate::error::Kind::InsufficientFunds))
        });
        assert_eq!(
            rejected.err().map(|e| e.kind),
            Some(crate::error::Kind::InsufficientFunds)
        );
        // Out of the transaction: the next command commits on its own.
        writer
            .write_blocking(|conn| Ok(conn.execute("INSERT INTO t VALUES (3)", [])?))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rows(&writer), vec![1, 3]);
        // And what a second connection sees on disk is the same.
        let other = Connection::open(dir.path().join("w.sqlite")).unwrap_or_else(|e| panic!("{e}"));
        let on_disk: Vec<i64> = other
            .prepare("SELECT v FROM t ORDER BY v")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(on_disk, vec![1, 3]);
    }

    type TestCommand<T> = Box<dyn FnOnce(&Connection) -> Result<T> + Send>;

    /// Holds the writer busy, then submits `commands` so they queue up and run as one group
    /// (the i-th prechecked if `prechecked[i]`); returns each command's result in order.
    fn one_group<T: Send + 'static>(
        writer: &Arc<Writer>,
        commands: Vec<TestCommand<T>>,
        prechecked: &[bool],
    ) -> Vec<Result<T>> {
        let (started, wait_started) = std_mpsc::channel();
        let busy = {
            let writer = Arc::clone(writer);
            std::thread::spawn(move || {
                writer.write_blocking(move |_| {
                    let _ = started.send(());
                    std::thread::sleep(Duration::from_millis(200));
                    Ok(())
                })
            })
        };
        wait_started.recv().unwrap_or_else(|e| panic!("{e}"));
        let commits_before = writer.stats().commits.load(Ordering::Relaxed);
        let mut handles = Vec::new();
        for (i, command) in commands.into_iter().enumerate() {
            let writer = Arc::clone(writer);
            let prechecked = prechecked.get(i).copied().unwrap_or(false);
            handles.push(std::thread::spawn(move || {
                writer.submit_blocking(command, prechecked)
            }));
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(busy.join().is_ok_and(|r| r.is_ok()));
        let results = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| panic!("joined")))
            .collect();
        assert_eq!(
            writer.stats().commits.load(Ordering::Relaxed),
            commits_before + 1,
            "the commands shared one group"
        );
        results
    }

    fn insert(value: i64) -> TestCommand<i64> {
        Box::new(move |conn| {
            conn.execute("INSERT INTO t VALUES (?)", [value])?;
            Ok(value)
        })
    }

    fn kinds(results: &[Result<i64>]) -> Vec<std::result::Result<i64, Kind>> {
        results
            .iter()
            .map(|r| r.as_ref().map(|v| *v).map_err(|e| e.kind))
            .collect()
    }

    #[test]
    fn a_group_rolled_back_by_sqlite_is_refused_whole_and_the_writer_lives_on() {
        let (_dir, writer) = writer();
        let writer = Arc::new(writer);
        // SQLite may roll back the whole transaction on SQLITE_FULL or an I/O error; a command
        // ending the transaction leaves the connection in exactly that state.
        let rolled_back: TestCommand<i64> = Box::new(|conn| {
            conn.execute("INSERT INTO t VALUES (2)", [])?;
            conn.execute_batch("ROLLBACK")?;
            Ok(2)
        });
        let results = one_group(&writer, vec![insert(1), rolled_back, insert(3)], &[]);
        assert_eq!(
            kinds(&results),
            vec![Err(Kind::StorageUnavailable); 3],
            "no command of the group is acknowledged"
        );
        // Nothing of the group is on disk, and the third command never ran on its own.
        assert_eq!(rows(&writer), Vec::<i64>::new());
        assert_eq!(writer.write_blocking(insert(4)).ok(), Some(4));
        assert_eq!(rows(&writer), vec![4]);
    }

    #[test]
    fn a_failed_commit_acknowledges_nothing_and_the_writer_lives_on() {
        let (_dir, writer) = writer();
        writer
            .write_blocking(|conn| {
                conn.execute_batch(
                    "PRAGMA foreign_keys=ON; CREATE TABLE p (id INTEGER PRIMARY KEY);
                     CREATE TABLE c (p INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)",
                )?;
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let writer = Arc::new(writer);
        // A deferred foreign key is checked at COMMIT: the commit fails, the savepoints passed.
        let dangling: TestCommand<i64> = Box::new(|conn| {
            conn.execute("INSERT INTO c VALUES (7)", [])?;
            Ok(7)
        });
        let results = one_group(&writer, vec![insert(1), dangling, insert(3)], &[]);
        assert!(results.iter().all(|r| r.is_err()), "{:?}", kinds(&results));
        assert_eq!(rows(&writer), Vec::<i64>::new());
        assert_eq!(writer.write_blocking(insert(4)).ok(), Some(4));
        assert_eq!(rows(&writer), vec![4]);
    }

    #[test]
    fn a_full_file_refuses_the_command_that_needs_a_page_and_keeps_the_rest() {
        let (_dir, writer) = writer();
        let writer = Arc::new(writer);
        writer
            .write_blocking(|conn| {
                let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
                conn.pragma_update(None, "max_page_count", pages)?;
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let big: TestCommand<i64> = Box::new(|conn| {
            conn.execute(
                "WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 5000) \
                 INSERT INTO t SELECT 100 + v FROM n",
                [],
            )?;
            Ok(100)
        });
        let results = one_group(&writer, vec![insert(1), big, insert(3)], &[]);
        assert_eq!(
            kinds(&results),
            vec![Ok(1), Err(Kind::StorageUnavailable), Ok(3)]
        );
        assert_eq!(rows(&writer), vec![1, 3]);
    }

    fn reject(write_first: Option<i64>) -> TestCommand<i64> {
        Box::new(move |conn| {
            if let Some(value) = write_first {
                conn.execute("INSERT INTO t VALUES (?)", [value])?;
            }
            Err(Error::new(Kind::InsufficientFunds))
        })
    }

    /// Without savepoints, a prechecked command rejected before writing leaves the rest of
    /// its group (prechecked or not) committed.
    #[test]
    fn a_prechecked_command_rejected_before_writing_leaves_its_group_committed() {
        let (_dir, writer) = writer();
        let writer = Arc::new(writer);
        let commands = vec![insert(1), reject(None), reject(Some(3)), insert(4)];
        let results = one_group(&writer, commands, &[true, true, false, true]);
        let rejected = Err(Kind::InsufficientFunds);
        assert_eq!(kinds(&results), vec![Ok(1), rejected, rejected, Ok(4)]);
        assert_eq!(rows(&writer), vec![1, 4]);
    }

    /// A prechecked command that fails after writing cannot be undone alone: its group is
    /// rolled back and every command of it answered 503, none acknowledged.
    #[test]
    fn a_prechecked_command_failing_after_writing_fails_its_group() {
        let (_dir, writer) = writer();
        let writer = Arc::new(writer);
        let commands = vec![insert(1), reject(Some(2)), insert(3)];
        let results = one_group(&writer, commands, &[true, true, false]);
        assert_eq!(kinds(&results), vec![Err(Kind::StorageUnavailable); 3]);
        assert_eq!(rows(&writer), Vec::<i64>::new());
        assert_eq!(writer.write_blocking(insert(4)).ok(), Some(4));
    }

    fn table_file(dir: &tempfile::TempDir, name: &str) -> Connection {
        let conn = Connection::open(dir.path().join(name)).unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (v INTEGER NOT NULL)")
            .unwrap_or_else(|e| panic!("{e}"));
        conn
    }

    /// A writer on `pool` of a new file `name` in `dir`, always writable, closing to nothing.
    fn plain_writer(pool: &WriterPool, dir: &tempfile::TempDir, name: &str) -> Arc<Writer> {
        Arc::new(Writer::start(pool, table_file(dir, name), drop, || Ok(())))
    }

    /// Runs on `writer` a command that holds its pool thread until the returned sender sends
    /// (or is dropped); returns once the command runs.
    fn hold_the_thread(
        writer: &Arc<Writer>,
    ) -> (std::thread::JoinHandle<Result<()>>, std_mpsc::Sender<()>) {
        let (release, held) = std_mpsc::channel::<()>();
        let (started, wait_started) = std_mpsc::channel();
        let writer = Arc::clone(writer);
        let blocker = std::thread::spawn(move || {
            writer.write_blocking(move |_| {
                let _ = started.send(());
                let _ = held.recv();
                Ok(())
            })
        });
        wait_started.recv().unwrap_or_else(|e| panic!("{e}"));
        (blocker, release)
    }

    /// One pool thread, a tenant with 600 commands queued and another with one: the other
    /// tenant waits for at most one group of the busy one, not for its whole queue, and the
    /// busy one's queue is applied in bounded groups, each command exactly once.
    #[test]
    fn a_busy_tenant_cannot_starve_another_on_the_same_pool_thread() {
        const HOT_COMMANDS: i64 = 600;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let pool = WriterPool::new(1, Arc::default()).unwrap_or_else(|e| panic!("{e}"));
        let hot = plain_writer(&pool, &dir, "hot.sqlite");
        let cold = plain_writer(&pool, &dir, "cold.sqlite");
        let applied = Arc::new(AtomicU64::new(0));
        // Hold the only pool thread until everything is queued.
        let (blocker, release) = hold_the_thread(&hot);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let metrics = Arc::clone(pool.metrics());
        let (hot_results, cold_saw) = runtime.block_on(async {
            let mut queued = Vec::new();
            for value in 0..HOT_COMMANDS {
                let (hot, applied) = (Arc::clone(&hot), Arc::clone(&applied));
                queued.push(tokio::spawn(async move {
                    hot.write(move |conn| {
                        conn.execute("INSERT INTO t VALUES (?)", [value])?;
                        applied.fetch_add(1, Ordering::SeqCst);
                        Ok(value)
                    })
                    .await
                }));
            }
            let all_hot = u64::try_from(HOT_COMMANDS).unwrap_or(u64::MAX) + 1;
            while metrics.submitted.load(Ordering::SeqCst) < all_hot {
                tokio::task::yield_now().await;
            }
            let cold_command = {
                let (cold, applied) = (Arc::clone(&cold), Arc::clone(&applied));
                tokio::spawn(async move {
                    cold.write(move |conn| {
                        conn.execute("INSERT INTO t VALUES (-1)", [])?;
                        Ok(applied.load(Ordering::SeqCst))
                    })
                    .await
                })
            };
            while metrics.submitted.load(Ordering::SeqCst) < all_hot + 1 {
                tokio::task::yield_now().await;
            }
            let _ = release.send(());
            let mut results = Vec::new();
            for handle in queued {
                results.push(handle.await.ok().and_then(Result::ok));
            }
            (results, cold_command.await.ok().and_then(Result::ok))
        });
        assert!(blocker.join().is_ok_and(|r| r.is_ok()));
        let batch_max = u64::try_from(WRITER_BATCH_COMMANDS_MAX).unwrap_or(u64::MAX);
        let cold_saw = cold_saw.unwrap_or(u64::MAX);
        assert!(
            cold_saw <= batch_max,
            "the cold tenant waited for {cold_saw} of the hot tenant's commands"
        );
        // The blocker alone, then the 600 queued commands in groups of 256, 256 and 88.
        assert_eq!(hot.stats().commits.load(Ordering::SeqCst), 4);
        let expected: Vec<Option<i64>> = (0..HOT_COMMANDS).map(Some).collect();
        assert_eq!(hot_results, expected);
        assert_eq!(rows(&cold), vec![-1]);
        assert_eq!(rows(&hot), (0..HOT_COMMANDS).collect::<Vec<_>>());
    }

    /// A writer dropped with a command still queued (its caller gave up waiting) applies and
    /// commits it before its connection is handed on to be parked.
    #[test]
    fn a_dropped_writer_commits_what_is_queued_before_handing_its_connection_on() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let pool = WriterPool::new(1, Arc::default()).unwrap_or_else(|e| panic!("{e}"));
        let other = plain_writer(&pool, &dir, "other.sqlite");
        let (handed_on, closed) = std_mpsc::channel();
        let conn = table_file(&dir, "closing.sqlite");
        let on_closed = move |conn: Option<Connection>| {
            let rows = conn.and_then(|conn| {
                conn.query_row("SELECT group_concat(v) FROM t", [], |r| {
                    r.get::<_, Option<String>>(0)
                })
                .ok()
            });
            let _ = handed_on.send(rows);
        };
        let closing = Arc::new(Writer::start(&pool, conn, on_closed, || Ok(())));
        // Hold the only pool thread with another tenant's command.
        let (blocker, release) = hold_the_thread(&other);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let metrics = Arc::clone(pool.metrics());
        runtime.block_on(async {
            let task = tokio::spawn(async move {
                closing
                    .write(|conn| Ok(conn.execute("INSERT INTO t VALUES (7)", [])?))
                    .await
            });
            while metrics.submitted.load(Ordering::SeqCst) < 2 {
                tokio::task::yield_now().await;
            }
            // The caller gives up: its future, holding the last reference, is dropped.
            task.abort();
            let _ = task.await;
        });
        let _ = release.send(());
        assert!(blocker.join().is_ok_and(|r| r.is_ok()));
        let rows = closed
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rows, Some(Some("7".to_owned())));
    }

    #[test]
    fn a_panicking_command_is_an_error_and_the_writer_lives_on() {
        let (_dir, writer) = writer();
        let panicked = writer.write_blocking(|conn| -> Result<()> {
            conn.execute("INSERT INTO t VALUES (9)", [])?;
            panic!("boom")
        });
        assert_eq!(
            panicked.err().map(|e| e.kind),
            Some(crate::error::Kind::InternalServer)
        );
        assert!(
            writer
                .write_blocking(|conn| Ok(conn.execute("INSERT INTO t VALUES (1)", [])?))
                .is_ok()
        );
        assert_eq!(rows(&writer), vec![1]);
    }
}
