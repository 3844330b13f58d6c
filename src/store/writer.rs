//! The single writer of one tenant file.
//!
//! SQLite has one writer per file, so each open tenant owns exactly one write connection,
//! driven by a dedicated thread. Callers submit closures; the thread takes every command that
//! is queued (up to [`WRITER_BATCH_COMMANDS_MAX`]), runs each inside its own `SAVEPOINT` within
//! one `BEGIN IMMEDIATE … COMMIT`, and answers every caller only after that commit returned, so
//! one fsync serves a whole batch and a rejected command rolls back only its own savepoint.
//! Under light load a lone command is committed at once: the writer never waits for company.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};

/// Commands applied under one commit at most.
pub const WRITER_BATCH_COMMANDS_MAX: usize = 256;
/// Commands that may wait for the writer before submitters are made to wait.
pub const WRITER_QUEUE_COMMANDS_MAX: usize = 4096;

/// Runs against the write connection inside its savepoint (or not at all, given `None`, when
/// the batch could not begin); returns whether the savepoint is kept, and the reply to send
/// once the outcome of the commit is known.
type Command = Box<dyn FnOnce(Option<&Connection>) -> (bool, Reply) + Send>;
type Reply = Box<dyn FnOnce(Result<()>) + Send>;

pub struct Writer {
    queue: Option<mpsc::Sender<Command>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread that owns `conn` until the writer is dropped.
    pub fn start(name: &str, conn: Connection) -> std::io::Result<Self> {
        let (queue, commands) = mpsc::channel(WRITER_QUEUE_COMMANDS_MAX);
        let thread = std::thread::Builder::new()
            .name(format!("writer-{name}"))
            .spawn(move || run(conn, commands))?;
        Ok(Self {
            queue: Some(queue),
            thread: Some(thread),
        })
    }

    /// Applies `command` in its own savepoint of the next group commit and returns its result
    /// once that commit is durable. An `Err` from `command` rolls back everything it wrote.
    pub async fn write<T, F>(&self, command: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (command, answer) = package(command);
        let queue = self
            .queue
            .as_ref()
            .ok_or_else(|| Error::internal("writer is closed"))?;
        queue
            .send(command)
            .await
            .map_err(|_| Error::internal("writer stopped"))?;
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
        let (command, answer) = package(command);
        let queue = self
            .queue
            .as_ref()
            .ok_or_else(|| Error::internal("writer is closed"))?;
        queue
            .blocking_send(command)
            .map_err(|_| Error::internal("writer stopped"))?;
        answer
            .blocking_recv()
            .map_err(|_| Error::internal("writer dropped a command"))?
    }
}

impl Drop for Writer {
    /// Closing the queue lets the thread finish what is queued, close the connection (which
    /// checkpoints the WAL) and exit; dropping waits for that so the file is quiet afterwards.
    fn drop(&mut self) {
        self.queue.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn package<T, F>(command: F) -> (Command, oneshot::Receiver<Result<T>>)
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T> + Send + 'static,
{
    let (answer, receiver) = oneshot::channel();
    let command: Command = Box::new(move |conn| {
        let outcome = match conn {
            Some(conn) => catch_unwind(AssertUnwindSafe(|| command(conn)))
                .unwrap_or_else(|_| Err(Error::internal("a write command panicked"))),
            None => Err(Error::internal("the write batch could not begin")),
        };
        let keep = outcome.is_ok();
        let reply: Reply = Box::new(move |commit: Result<()>| {
            let _ = answer.send(commit.and(outcome));
        });
        (keep, reply)
    });
    (command, receiver)
}

fn run(conn: Connection, mut commands: mpsc::Receiver<Command>) {
    let mut batch = Vec::with_capacity(WRITER_BATCH_COMMANDS_MAX);
    while let Some(first) = commands.blocking_recv() {
        batch.push(first);
        while batch.len() < WRITER_BATCH_COMMANDS_MAX {
            match commands.try_recv() {
                Ok(command) => batch.push(command),
                Err(_) => break,
            }
        }
        commit_batch(&conn, &mut batch);
    }
    // The queue is closed: fold the WAL back into the database file so a stopped tenant is
    // one self-contained file (a failure here loses nothing; the WAL stays valid).
    if let Err(error) = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
        tracing::warn!(%error, "checkpoint on close failed");
    }
}

/// One `BEGIN IMMEDIATE … COMMIT` around every command of `batch`, each in a savepoint.
fn commit_batch(conn: &Connection, batch: &mut Vec<Command>) {
    let mut replies = Vec::with_capacity(batch.len());
    let begun = conn.execute_batch("BEGIN IMMEDIATE");
    if let Err(error) = begun {
        let error = Error::from(error);
        for command in batch.drain(..) {
            let (_, reply) = command(None);
            reply(Err(error.clone()));
        }
        return;
    }
    for command in batch.drain(..) {
        replies.push(apply_in_savepoint(conn, command));
    }
    let committed = conn.execute_batch("COMMIT").map_err(Error::from);
    if committed.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    for reply in replies {
        reply(match &committed {
            Ok(()) => Ok(()),
            Err(error) => Err(error.clone()),
        });
    }
}

fn apply_in_savepoint(conn: &Connection, command: Command) -> Reply {
    if let Err(error) = conn.execute_batch("SAVEPOINT command") {
        let error = Error::from(error);
        let (_, reply) = command(None);
        return Box::new(move |_| reply(Err(error)));
    }
    let (keep, reply) = command(Some(conn));
    let closed = if keep {
        conn.execute_batch("RELEASE command")
    } else {
        conn.execute_batch("ROLLBACK TO command; RELEASE command")
    };
    match closed {
        Ok(()) => reply,
        Err(error) => {
            let error = Error::from(error);
            Box::new(move |_| reply(Err(error)))
        }
    }
}
