//! Turns at appending: a transaction that appends to the log holds the turn from
//! before its `BEGIN` until after its `COMMIT`.

use std::sync::{Mutex, MutexGuard, PoisonError};

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

/// Waits for the right to append (on workers and the command line, never on the
/// frame).
pub fn lock_for_append() -> AppendLock {
    AppendLock {
        _held: APPENDING.lock().unwrap_or_else(PoisonError::into_inner),
    }
}
