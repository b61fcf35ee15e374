//! PostgreSQL's change notices: what lets every instance keep caches that a change made by any
//! instance ends on the next request. The triggers of the `change_notices` migration announce,
//! when their transaction commits, `credentials` (a token or API key ended, a membership
//! removed) and `channels:<organization>` (a channel list changed) on `socialgate_changes`;
//! the job queue announces `jobs` when a job is due now, which wakes a worker of every instance.
//! Each process keeps one connection listening (`listen`), outside the pool, through libpq
//! itself, which the pool's connections use too, so it connects exactly as they do.
//!
//! A cache may trust an entry only while what it read before the entry's lookup still reads
//! the same (`Heard::credentials`, `Heard::epoch`). Nothing is trusted while the listener is not
//! known to be listening: before it has connected, after its connection failed, and when the
//! heartbeat it sends every second has not come back within three. A notice missed because the
//! connection went away therefore costs lookups, never a stale answer. Changes this process
//! commits itself move its own caches at once (`ended_here`, `channels_changed`), without
//! waiting for the notice to come back.

use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::{Duration, Instant};

use pq_sys as pq;

/// The channel the triggers notify on.
const CHANNEL: &str = "socialgate_changes";
/// How often the listener proves its connection alive when nothing else arrives.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// How long after its last proof of life the listener is still believed.
const BELIEVED: Duration = Duration::from_secs(3);
/// After this long without an answer the connection is given up and made again.
const GIVE_UP: Duration = Duration::from_secs(10);

/// What this process has heard, for one database.
#[derive(Debug)]
pub struct Heard {
    /// Moves on every `credentials` notice, every credential this process ends, and every
    /// time the listener connects or loses its connection.
    credentials: AtomicU64,
    /// Moves every time the listener connects or loses its connection.
    epoch: AtomicU64,
    listening: AtomicBool,
    /// Milliseconds after `started` of the last proof that the connection was alive.
    alive_at: AtomicU64,
    started: Instant,
}

impl Heard {
    fn new() -> Heard {
        Heard {
            credentials: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            listening: AtomicBool::new(false),
            alive_at: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    fn believed(&self) -> bool {
        self.listening.load(Ordering::Acquire)
            && self.started.elapsed().as_millis() as u64
                <= self.alive_at.load(Ordering::Acquire) + BELIEVED.as_millis() as u64
    }

    /// Where credentials stand; `None` while the listener is not believed (trust nothing).
    pub fn credentials(&self) -> Option<u64> {
        let value = self.credentials.load(Ordering::Acquire);
        self.believed().then_some(value)
    }

    /// The listener's connection; `None` while it is not believed (trust nothing).
    pub fn epoch(&self) -> Option<u64> {
        let value = self.epoch.load(Ordering::Acquire);
        self.believed().then_some(value)
    }

    /// Marks credentials ended by a change this process has just committed.
    pub fn credentials_moved(&self) {
        self.credentials.fetch_add(1, Ordering::AcqRel);
    }

    fn alive(&self) {
        self.alive_at
            .store(self.started.elapsed().as_millis() as u64, Ordering::Release);
    }

    fn set_listening(&self, on: bool) {
        // Moved on both edges: nothing read while the connection was down, or before this
        // one started, is trusted again.
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.credentials.fetch_add(1, Ordering::AcqRel);
        if on {
            self.alive();
        }
        self.listening.store(on, Ordering::Release);
    }
}

thread_local! {
    /// Set by code that ends a credential, taken by `Db::run` once its work has committed.
    static ENDED: Cell<bool> = const { Cell::new(false) };
}

/// Marks that the work running on this thread ends a token or key: once it has committed, this
/// process stops trusting what it resolved before (other processes hear the trigger's notice).
pub fn ended_here() {
    ENDED.set(true);
}

/// Whether the work that just ran on this thread ended a credential (and forgets it).
pub(super) fn take_ended() -> bool {
    ENDED.replace(false)
}

/// Wakes a worker of this process when a job is due now: enqueued here, or (PostgreSQL) by any
/// instance (`jobs`).
pub static JOBS_DUE: LazyLock<tokio::sync::Notify> = LazyLock::new(tokio::sync::Notify::new);

/// Per organization, a counter that moves whenever its channel list changes, whichever
/// instance changed it. Organization ids are unique across databases, so one map serves all.
static CHANNELS: LazyLock<Mutex<HashMap<String, u64>>> = LazyLock::new(Default::default);

/// Marks the organization's channel list changed.
pub fn channels_changed(org_id: &str) {
    if let Ok(mut g) = CHANNELS.lock() {
        *g.entry(org_id.to_owned()).or_insert(0) += 1;
    }
}

/// The organization's channel-list counter, as this process knows it.
pub fn channels_generation(org_id: &str) -> u64 {
    CHANNELS
        .lock()
        .map(|g| g.get(org_id).copied().unwrap_or(0))
        .unwrap_or(0)
}

/// Starts the listener of the database at `url` on a thread of its own; it stops within a
/// heartbeat once the returned `Heard` is dropped.
pub fn listen(url: &str) -> Arc<Heard> {
    let heard = Arc::new(Heard::new());
    let weak = Arc::downgrade(&heard);
    let conninfo = CString::new(url).ok();
    let spawned = std::thread::Builder::new()
        .name("pg-notices".into())
        .spawn(move || {
            let Some(conninfo) = conninfo else { return };
            let mut failures = 0u32;
            while weak.strong_count() > 0 {
                match Listener::connect(&conninfo) {
                    Ok(mut listener) => {
                        failures = 0;
                        listener.run(&weak);
                    }
                    Err(e) => {
                        failures += 1;
                        if failures == 1 {
                            tracing::warn!(error = %e, "cannot listen for change notices; caches are bypassed until it can");
                        }
                    }
                }
                if let Some(heard) = weak.upgrade() {
                    heard.set_listening(false);
                }
                std::thread::sleep(Duration::from_millis(500).min(HEARTBEAT * failures.max(1)));
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the change-notice listener; caches are bypassed");
    }
    heard
}

unsafe extern "C" fn quiet(_: *mut std::os::raw::c_void, _: *const std::os::raw::c_char) {}

/// One libpq connection that has run `LISTEN`.
struct Listener {
    conn: *mut pq::PGconn,
}

impl Drop for Listener {
    fn drop(&mut self) {
        // SAFETY: `conn` came from `PQconnectdb` and is finished exactly once, here.
        unsafe { pq::PQfinish(self.conn) };
    }
}

impl Listener {
    fn connect(conninfo: &CStr) -> Result<Listener, String> {
        // SAFETY: `conninfo` is a valid C string; the result is owned by the `Listener`,
        // which finishes it even when the connection failed (libpq requires that).
        let listener = Listener {
            conn: unsafe { pq::PQconnectdb(conninfo.as_ptr()) },
        };
        if listener.conn.is_null() {
            return Err("out of memory".into());
        }
        // SAFETY: a callback that ignores its arguments. libpq would otherwise print the
        // server's messages to standard error; the reason a connection ends is logged instead.
        unsafe { pq::PQsetNoticeProcessor(listener.conn, Some(quiet), std::ptr::null_mut()) };
        // SAFETY: `conn` is a live connection object.
        if unsafe { pq::PQstatus(listener.conn) } != pq::ConnStatusType::CONNECTION_OK {
            return Err(listener.error());
        }
        let listen = CString::new(format!("LISTEN {CHANNEL}")).expect("no NUL inside");
        // SAFETY: as above; the result is cleared before returning.
        let ok = unsafe {
            let result = pq::PQexec(listener.conn, listen.as_ptr());
            let ok = pq::PQresultStatus(result) == pq::ExecStatusType::PGRES_COMMAND_OK;
            pq::PQclear(result);
            ok
        };
        if !ok {
            return Err(listener.error());
        }
        Ok(listener)
    }

    fn error(&self) -> String {
        // SAFETY: libpq returns a NUL-terminated message owned by the connection.
        unsafe { CStr::from_ptr(pq::PQerrorMessage(self.conn)) }
            .to_string_lossy()
            .trim()
            .to_owned()
    }

    /// Listens until the connection fails, is not heard from, or `heard` is dropped.
    fn run(&mut self, heard: &Weak<Heard>) {
        match heard.upgrade() {
            Some(h) => h.set_listening(true),
            None => return,
        }
        let beat = CString::new("SELECT 1").expect("no NUL inside");
        let mut answered = Instant::now();
        let mut asked: Option<Instant> = None;
        loop {
            let Some(heard) = heard.upgrade() else { return };
            // SAFETY: the socket of a live connection; the deadline is libpq's own clock.
            let ready = unsafe {
                let deadline = pq::PQgetCurrentTimeUSec() + HEARTBEAT.as_micros() as i64;
                pq::PQsocketPoll(pq::PQsocket(self.conn), 1, 0, deadline)
            };
            if ready < 0 {
                return;
            }
            if ready > 0 {
                // SAFETY: reading what arrived on a live connection; a server that ends the
                // session sends its reason and closes, which leaves the connection bad.
                if unsafe { pq::PQconsumeInput(self.conn) } != 1
                    || unsafe { pq::PQstatus(self.conn) } != pq::ConnStatusType::CONNECTION_OK
                {
                    tracing::warn!(error = %self.error(), "the change-notice connection failed; caches are bypassed until it is back");
                    return;
                }
                self.drain_notices(&heard);
                if asked.is_some() && self.drain_results() {
                    asked = None;
                    answered = Instant::now();
                    heard.alive();
                }
            }
            if asked.is_none() && answered.elapsed() >= HEARTBEAT {
                // SAFETY: sends a query without waiting for its answer, which `drain_results`
                // collects once it arrives.
                if unsafe { pq::PQsendQuery(self.conn, beat.as_ptr()) } != 1 {
                    return;
                }
                asked = Some(Instant::now());
            }
            if asked.is_some_and(|at| at.elapsed() >= GIVE_UP) {
                tracing::warn!("the change-notice connection stopped answering; connecting again");
                return;
            }
        }
    }

    fn drain_notices(&self, heard: &Heard) {
        loop {
            // SAFETY: each notice is freed with `PQfreemem` after its payload is copied.
            let notice = unsafe { pq::PQnotifies(self.conn) };
            if notice.is_null() {
                return;
            }
            let payload = unsafe { CStr::from_ptr((*notice).extra) }
                .to_string_lossy()
                .into_owned();
            unsafe { pq::PQfreemem(notice.cast()) };
            match payload.strip_prefix("channels:") {
                Some(org) => channels_changed(org),
                None if payload == "jobs" => JOBS_DUE.notify_one(),
                None => heard.credentials_moved(),
            }
        }
    }

    /// Collects the heartbeat's answer; `true` once it is complete.
    fn drain_results(&self) -> bool {
        loop {
            // SAFETY: results are only taken when libpq says they are complete, and cleared.
            if unsafe { pq::PQisBusy(self.conn) } != 0 {
                return false;
            }
            let result = unsafe { pq::PQgetResult(self.conn) };
            if result.is_null() {
                return true;
            }
            unsafe { pq::PQclear(result) };
        }
    }
}
