//! The rule that the UI thread never waits on the database or on hashing: while
//! it draws a frame it marks itself ([`forbid_on_this_thread`]), and the entry
//! points the app's database work goes through (opening a database, the helpers
//! here, every audit entry, every person-level read, every password hash and
//! check) refuse on a marked thread. The app holds no connection on that thread
//! anyway (`ui::jobs::Database`); this catches what the types cannot, such as a
//! connection handed back to the shell, and counts each refusal so a headless test
//! can drive every view and action and find none.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::StoreError;

thread_local! {
    /// True while this thread draws a frame.
    static FORBIDDEN: Cell<bool> = const { Cell::new(false) };
}

/// Refusals so far in this process, on any thread.
static REFUSED: AtomicUsize = AtomicUsize::new(0);

/// Marks this thread as one that must not touch the database until the mark is
/// dropped (the end of the frame).
pub struct FrameMark {
    /// What the thread was before, so marks may nest.
    was: bool,
    /// A mark belongs to its thread: it is neither sent nor shared.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for FrameMark {
    fn drop(&mut self) {
        FORBIDDEN.with(|forbidden| forbidden.set(self.was));
    }
}

/// Forbids database work on this thread while the returned mark lives.
pub fn forbid_on_this_thread() -> FrameMark {
    let was = FORBIDDEN.with(|forbidden| forbidden.replace(true));
    FrameMark {
        was,
        _not_send: std::marker::PhantomData,
    }
}

/// Refuses `what` ([`StoreError::OnTheFrame`]) on a thread that is drawing a
/// frame, and counts the refusal; elsewhere does nothing.
pub fn refuse_on_frame(what: &'static str) -> Result<(), StoreError> {
    if !FORBIDDEN.with(Cell::get) {
        return Ok(());
    }
    REFUSED.fetch_add(1, Ordering::Relaxed);
    tracing::error!("{what} was called while drawing a frame; it must run as a job");
    Err(StoreError::OnTheFrame(what))
}

/// How many times database work was refused on a frame in this process.
pub fn refused_on_frames() -> usize {
    REFUSED.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_work_is_refused_only_while_the_mark_lives_and_only_on_its_thread() {
        let before = refused_on_frames();
        assert!(refuse_on_frame("a query").is_ok());
        {
            let _frame = forbid_on_this_thread();
            let refused = refuse_on_frame("a query").expect_err("refused on the frame");
            assert!(matches!(refused, StoreError::OnTheFrame("a query")));
            std::thread::spawn(|| refuse_on_frame("a worker's query"))
                .join()
                .expect("worker")
                .expect("a worker may query");
            {
                let _nested = forbid_on_this_thread();
            }
            assert!(refuse_on_frame("a query").is_err(), "still in the frame");
        }
        assert!(refuse_on_frame("a query").is_ok());
        assert!(refused_on_frames() >= before + 2);
    }

    #[test]
    fn a_database_opened_on_the_frame_is_refused() {
        let _frame = forbid_on_this_thread();
        let refused = crate::store::open_in_memory().expect_err("refused");
        assert!(matches!(refused, StoreError::OnTheFrame(_)), "{refused}");
    }
}
