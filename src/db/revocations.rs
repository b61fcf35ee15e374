//! The revocation signal of an SQLite database: a file beside it (`<database>-revocations`)
//! holding 8 random bytes, rewritten after every committed change that can end an access token.
//! The triggers of the `token_revocations` migration call `socialgate_token_ended()`, which every
//! connection of ours registers; the connection's instrumentation moves the signal once the
//! statement or transaction that made the change has committed. Every process of ours on the
//! database sees the move with one read of the file, so a token cache (`oauth::tokens::Cache`)
//! may trust an entry while the signal reads as it did before that token's lookup.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::{QueryResult, SqliteConnection};

diesel::define_sql_function! {
    /// Called by the triggers of the `token_revocations` migration.
    fn socialgate_token_ended() -> diesel::sql_types::Integer;
}

/// The signal file of one database.
#[derive(Debug)]
pub struct Signal {
    file: File,
    /// Set when a move failed: from then on the signal reads as unknown, so nothing is trusted.
    broken: AtomicBool,
}

impl Signal {
    /// Opens (creating) the signal of the SQLite database at `database_path`.
    pub fn open(database_path: &str) -> std::io::Result<Signal> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(format!("{database_path}-revocations"))?;
        let signal = Signal {
            file,
            broken: AtomicBool::new(false),
        };
        if signal.read().is_none() {
            signal.move_on();
        }
        Ok(signal)
    }

    /// The signal's current value; `None` when it cannot be read (trust nothing then).
    pub fn read(&self) -> Option<u64> {
        if self.broken.load(Ordering::Acquire) {
            return None;
        }
        let mut value = [0u8; 8];
        self.file.read_exact_at(&mut value, 0).ok()?;
        Some(u64::from_le_bytes(value))
    }

    /// Moves the signal to a new random value.
    pub fn move_on(&self) {
        let mut value = [0u8; 8];
        crate::crypto::os_random(&mut value);
        if let Err(e) = self.file.write_all_at(&value, 0) {
            tracing::error!(error = %e, "cannot move the revocation signal; cached tokens are no longer trusted");
            self.broken.store(true, Ordering::Release);
        }
    }
}

/// Registers the function the triggers call and the instrumentation that moves `signal` once a
/// change that called it is committed.
pub fn watch(conn: &mut SqliteConnection, signal: Arc<Signal>) -> QueryResult<()> {
    let ended = Arc::new(AtomicBool::new(false));
    let mark = ended.clone();
    socialgate_token_ended_utils::register_nondeterministic_impl(conn, move || {
        mark.store(true, Ordering::Release);
        0
    })?;
    diesel::Connection::set_instrumentation(
        conn,
        Watcher {
            ended,
            signal,
            depth: 0,
            closing: None,
        },
    );
    Ok(())
}

/// Follows a connection's transactions to know when a marked change is committed.
struct Watcher {
    ended: Arc<AtomicBool>,
    signal: Arc<Signal>,
    /// The open transaction's depth (0: autocommit).
    depth: u32,
    /// A commit (`true`) or rollback announced at this depth, applied when its statement ends.
    closing: Option<(bool, u32)>,
}

impl Instrumentation for Watcher {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::BeginTransaction { depth, .. } => self.depth = depth.get(),
            InstrumentationEvent::CommitTransaction { depth, .. } => {
                self.closing = Some((true, depth.get()))
            }
            InstrumentationEvent::RollbackTransaction { depth, .. } => {
                self.closing = Some((false, depth.get()))
            }
            InstrumentationEvent::FinishQuery { .. } => {
                if let Some((commit, depth)) = self.closing.take() {
                    self.depth = depth - 1;
                    if self.depth == 0 && !commit {
                        // The whole transaction was undone, and its change with it.
                        self.ended.store(false, Ordering::Release);
                    }
                }
                // Outside a transaction every finished statement has committed (or failed:
                // moving the signal then costs a lookup, nothing more).
                if self.depth == 0 && self.ended.swap(false, Ordering::AcqRel) {
                    self.signal.move_on();
                }
            }
            _ => {}
        }
    }
}
