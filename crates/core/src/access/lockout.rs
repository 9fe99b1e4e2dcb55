//! Locking a user name after repeated failed sign-ins. The failures are read from
//! the audit log itself (`login` entries refused), so the lockout needs no table of
//! its own and cannot be reset by anyone who could not also rewrite the log.

use duckdb::{Connection, OptionalExt};

use crate::audit::Action;
use crate::store::StoreError;

/// The detail of a `login` entry refused for a wrong name or password (or a
/// disabled user): what the lockout counts.
pub(super) const REFUSED: &str = "refused";
/// The detail of a `login` entry refused because the name was locked; not counted,
/// so that trying again while locked does not extend the lock.
pub(super) const REFUSED_LOCKED: &str = "refused: locked";
/// The detail of a `login` entry refused because several users have the name when
/// case is ignored; not counted (it is no guess at a password).
pub(super) const REFUSED_AMBIGUOUS: &str = "refused: several users have this name";
/// How a successful `login` entry's detail begins ("as analyst").
pub(super) const SIGNED_IN_PREFIX: &str = "as ";

/// When a user name is locked (names compared ignoring case, as sign-in compares
/// them: "ANA" and "ana" are guesses at the same account): `failures` refused sign-ins within `window_minutes`
/// of each other lock it for `lockout_minutes` from the last of them. Only failures
/// after the name's latest successful sign-in or `manage_users` entry count, so an
/// analyst's `zonewise user enable` (or a password reset, or any other change to
/// the user) clears a lockout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutRule {
    pub failures: i64,
    pub window_minutes: i64,
    pub lockout_minutes: i64,
}

/// The rule `authenticate` applies: 5 failures within 15 minutes lock the name for
/// 15 minutes, long enough to make guessing slow, short enough that a user who
/// mistyped can wait rather than call an analyst.
pub const SIGN_IN_LOCKOUT: LockoutRule = LockoutRule {
    failures: 5,
    window_minutes: 15,
    lockout_minutes: 15,
};

/// The lock's arithmetic in SQL over the audit log: the failures since the name was
/// last cleared (by seq, which cannot go backwards as a clock can), the last of them,
/// how many fell within the window before it, and the seconds left of the lock.
const LOCKOUT_SQL: &str = "
WITH cleared AS (
    SELECT coalesce(max(seq), 0) AS seq FROM app.audit_log
    WHERE lower(subject) = lower($user)
      AND (action = $manage_users OR (action = $login AND starts_with(detail, $signed_in)))
), failures AS (
    SELECT \"at\" FROM app.audit_log
    WHERE lower(subject) = lower($user) AND action = $login AND detail = $refused
      AND seq > (SELECT seq FROM cleared)
), last AS (
    SELECT max(\"at\") AS \"at\" FROM failures
)
SELECT date_diff('second', $now::TIMESTAMP, last.\"at\" + to_minutes(CAST($lockout_minutes AS BIGINT)))
FROM last
WHERE (SELECT count(*) FROM failures
       WHERE failures.\"at\" >= last.\"at\" - to_minutes(CAST($window_minutes AS BIGINT))) >= CAST($failures AS BIGINT)";

impl LockoutRule {
    /// Minutes (rounded up) until `user` may try to sign in again at `now` (UTC), or
    /// `None` when the name is not locked. `now` is a parameter so that tests can
    /// look past the lock without waiting for it.
    pub fn minutes_locked(
        &self,
        conn: &Connection,
        user: &str,
        now: chrono::NaiveDateTime,
    ) -> Result<Option<i64>, StoreError> {
        let now = now.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
        let seconds_left: Option<i64> = conn
            .query_row(
                LOCKOUT_SQL,
                duckdb::named_params! {
                    "user": user,
                    "manage_users": Action::ManageUsers.as_str(),
                    "login": Action::Login.as_str(),
                    "signed_in": SIGNED_IN_PREFIX,
                    "refused": REFUSED,
                    "now": now,
                    "lockout_minutes": self.lockout_minutes,
                    "window_minutes": self.window_minutes,
                    "failures": self.failures,
                },
                |row| row.get(0),
            )
            .optional()?;
        Ok(seconds_left
            .filter(|&seconds| seconds > 0)
            .map(|seconds| (seconds + 59) / 60))
    }
}
