//! Turns at appending: a transaction that appends to the log holds the turn from
//! before its `BEGIN` until after its `COMMIT`.

use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{Duration, Instant};

use crate::store::StoreError;

/// Held while a transaction that appends to the log is open. DuckDB's transactions
/// see the database as it was when they began, so an entry committed by another
/// connection meanwhile would make that transaction's own entry collide with it
/// (same seq, same head) and fail the whole load at its end. Appends in one process
/// take turns instead; separate processes cannot open the same file at once.
static APPENDING: Mutex<()> = Mutex::new(());

/// The right to append: [`super::append`] asks for it, so a transaction that
/// appends holds it from before its `BEGIN` until after its `COMMIT`.
pub struct AppendLock {
    _held: MutexGuard<'static, ()>,
}

/// Waits for the right to append (for workers and the command line).
pub fn lock_for_append() -> AppendLock {
    AppendLock {
        _held: APPENDING.lock().unwrap_or_else(PoisonError::into_inner),
    }
}

/// How long the UI thread waits for the right to append: an ordinary append takes
/// milliseconds, a load seconds or minutes.
const UI_WAIT: Duration = Duration::from_millis(250);

/// The right to append, waiting at most [`UI_WAIT`] for another append to finish,
/// else [`StoreError::AuditBusy`] (for the UI thread, which must not wait for a load).
pub fn try_lock_for_append() -> Result<AppendLock, StoreError> {
    let deadline = Instant::now() + UI_WAIT;
    loop {
        match APPENDING.try_lock() {
            Ok(_held) => return Ok(AppendLock { _held }),
            Err(TryLockError::Poisoned(poisoned)) => {
                return Ok(AppendLock {
                    _held: poisoned.into_inner(),
                });
            }
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(TryLockError::WouldBlock) => return Err(StoreError::AuditBusy),
        }
    }
}
