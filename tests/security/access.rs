//! Users and roles: passwords kept only as argon2id hashes, logins checked and
//! recorded, and `access::person_query` limiting each role to what it may see.

use crate::common;

use common::tiny_county::{AFFLUENT_LSOA, DEPRIVED_LSOA, TinyCounty};
use duckdb::Connection;
use zonewise::access::{self, AccessError, NewUser, Purpose, Role, Session, UserChange};
use zonewise::audit::{self, Action, Filter};
use zonewise::store::StoreError;

const PASSWORD: &str = "correct horse battery staple";

/// The tiny county with a second zone, one family in each zone, and four users.
fn county_with_users() -> TinyCounty {
    let county = TinyCounty::new();
    county
        .conn
        .execute_batch(
            "INSERT INTO ref.zone VALUES ('Z2', 'Zone two', 'E06000001');
             INSERT INTO ref.lsoa_zone VALUES ('E01000009', 'Z2');",
        )
        .expect("zone two");
    county.family("F1", Some(DEPRIVED_LSOA));
    county.family("F2", Some(AFFLUENT_LSOA));
    county.person("P1", "F1", "2015-01-01");
    county.person("P2", "F2", "2016-01-01");
    for (user, role, zones) in [
        ("ana", Role::Analyst, vec![]),
        ("zoe", Role::ZoneManager, vec!["Z1".to_string()]),
        ("cal", Role::Commissioner, vec![]),
        ("screen", Role::RoundTable, vec!["Z2".to_string()]),
    ] {
        access::add_user(
            &county.conn,
            &NewUser {
                user: user.to_string(),
                display_name: user.to_uppercase(),
                role,
                zones,
            },
            PASSWORD,
            "admin",
        )
        .expect("add user");
    }
    county
}

fn entries(conn: &Connection, action: Action) -> Vec<audit::LogRow> {
    audit::list(
        conn,
        &Filter {
            action: Some(action),
            ..Filter::default()
        },
    )
    .expect("list")
}

#[test]
fn passwords_are_kept_only_as_argon2id_hashes_and_bad_users_are_refused() {
    let county = county_with_users();
    let conn = &county.conn;
    let hash: String = conn
        .query_row(
            "SELECT password_hash FROM app.\"user\" WHERE user_name = 'zoe'",
            [],
            |row| row.get(0),
        )
        .expect("hash");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
    let zones: i64 = conn
        .query_row("SELECT count(*) FROM app.user_zone", [], |row| row.get(0))
        .expect("zones");
    assert_eq!(zones, 2);

    let user = |name: &str, role, zones: &[&str]| NewUser {
        user: name.to_string(),
        display_name: name.to_string(),
        role,
        zones: zones.iter().map(|z| z.to_string()).collect(),
    };
    for (new, password, message) in [
        (
            user("zoe", Role::Analyst, &[]),
            PASSWORD,
            "user 'zoe' already exists",
        ),
        (
            user("bo", Role::Analyst, &[]),
            "short",
            "at least 12 characters",
        ),
        (
            user("bo b", Role::Analyst, &[]),
            PASSWORD,
            "must be letters, digits",
        ),
        (
            user("bo", Role::ZoneManager, &[]),
            PASSWORD,
            "name at least one zone",
        ),
        (
            user("bo", Role::ZoneManager, &["Z9"]),
            PASSWORD,
            "zone 'Z9' is not in ref.zone",
        ),
    ] {
        let error = access::add_user(conn, &new, password, "admin").expect_err(message);
        assert!(error.to_string().contains(message), "{error}");
    }
    let added = entries(conn, Action::ManageUsers);
    assert_eq!(added.len(), 4, "only the users added are recorded");
    assert!(added.iter().all(|e| e.user == "admin"));
    assert_eq!(added[2].detail, "added as zone_manager for zones Z1");
    assert!(audit::verify(conn).expect("verify").is_intact());
}

#[test]
fn logins_are_checked_and_every_attempt_is_recorded() {
    let county = county_with_users();
    let conn = &county.conn;
    let session = access::authenticate(conn, "zoe", PASSWORD).expect("login");
    assert_eq!(
        session,
        Session {
            user: "zoe".to_string(),
            role: Role::ZoneManager,
            zones: vec!["Z1".to_string()],
        }
    );
    for (user, password) in [("zoe", "wrong password!"), ("nobody", PASSWORD)] {
        let error = access::authenticate(conn, user, password).expect_err("refused");
        assert!(matches!(error, AccessError::BadLogin), "{error}");
        assert_eq!(error.to_string(), "wrong user name or password");
    }
    conn.execute_batch("UPDATE app.\"user\" SET active = false WHERE user_name = 'ana'")
        .expect("deactivate");
    assert!(access::authenticate(conn, "ana", PASSWORD).is_err());
    let logins: Vec<(String, String)> = entries(conn, Action::Login)
        .into_iter()
        .rev()
        .map(|e| (e.subject, e.detail))
        .collect();
    assert_eq!(
        logins,
        [
            ("zoe".to_string(), "as zone_manager".to_string()),
            ("zoe".to_string(), "refused".to_string()),
            ("nobody".to_string(), "refused".to_string()),
            ("ana".to_string(), "refused".to_string()),
        ]
    );
}

/// The families a session's person-level query returns, through `person_query`.
fn families_seen(conn: &Connection, user: &str) -> Result<(Vec<String>, bool), AccessError> {
    let session = access::authenticate(conn, user, PASSWORD).expect("login");
    access::person_query(
        conn,
        &session,
        &Purpose {
            action: Action::OpenFamily,
            subject: "zone list".to_string(),
            reason: Some("round table 3 March".to_string()),
        },
        |conn, visible| {
            let families = conn
                .prepare(&format!(
                    "SELECT family_id FROM core.family f WHERE {} ORDER BY 1",
                    visible.zone_condition(conn, "f.zone_id")?
                ))?
                .query_map([], |row| row.get(0))?
                .collect::<Result<Vec<String>, _>>()
                .map_err(StoreError::from)?;
            Ok((families, visible.masked()))
        },
    )
}

#[test]
fn each_role_sees_only_what_it_may_and_every_read_is_recorded_first() {
    let county = county_with_users();
    let conn = &county.conn;
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        families_seen(conn, "ana").expect("analyst"),
        (strings(&["F1", "F2"]), false)
    );
    assert_eq!(
        families_seen(conn, "zoe").expect("zone manager"),
        (strings(&["F1"]), false)
    );
    assert_eq!(
        families_seen(conn, "screen").expect("round table"),
        (strings(&["F2"]), true)
    );
    let refused = families_seen(conn, "cal").expect_err("commissioner");
    assert_eq!(
        refused.to_string(),
        "cal (commissioner) may not see person-level records"
    );

    let reads: Vec<(String, String, Option<String>)> = entries(conn, Action::OpenFamily)
        .into_iter()
        .rev()
        .map(|e| (e.user, e.detail, e.reason))
        .collect();
    let reason = Some("round table 3 March".to_string());
    assert_eq!(
        reads,
        [
            ("ana".to_string(), "as analyst".to_string(), reason.clone()),
            (
                "zoe".to_string(),
                "as zone_manager".to_string(),
                reason.clone()
            ),
            (
                "screen".to_string(),
                "as round_table".to_string(),
                reason.clone()
            ),
            (
                "cal".to_string(),
                "refused: a commissioner may not see people".to_string(),
                reason
            ),
        ]
    );
    assert!(audit::verify(conn).expect("verify").is_intact());
}

#[test]
fn a_zone_manager_cannot_open_a_family_outside_their_zones_by_its_id() {
    use zonewise::report::family_detail::read_visible_family;
    let county = county_with_users();
    let conn = &county.conn;
    let zoe = access::authenticate(conn, "zoe", PASSWORD).expect("zoe");
    let open = |family: &str| {
        let purpose = Purpose {
            action: Action::OpenFamily,
            subject: family.to_string(),
            reason: None,
        };
        access::person_query(conn, &zoe, &purpose, |conn, visible| {
            read_visible_family(conn, visible, family, "2026-04-01")
        })
        .expect("read")
        .map(|detail| detail.members.len())
    };
    assert_eq!(open("F1"), Some(1), "their zone's family opens");
    assert_eq!(open("F2"), None, "another zone's family does not");
    // Both attempts are recorded, the refused one included.
    let opened: Vec<String> = entries(conn, Action::OpenFamily)
        .into_iter()
        .map(|row| row.subject)
        .collect();
    assert_eq!(opened, ["F2", "F1"]);
}

/// The `manage_users` entries' (subject, detail), oldest first, after the users added.
fn user_changes(conn: &Connection) -> Vec<(String, String)> {
    entries(conn, Action::ManageUsers)
        .into_iter()
        .rev()
        .filter(|e| !e.detail.starts_with("added as"))
        .map(|e| (e.subject, e.detail))
        .collect()
}

fn pair(subject: &str, detail: &str) -> (String, String) {
    (subject.to_string(), detail.to_string())
}

#[test]
fn changes_to_a_role_zones_and_password_take_effect_at_the_next_sign_in() {
    let county = county_with_users();
    let conn = &county.conn;
    let zones = |z: &[&str]| Some(z.iter().map(|z| z.to_string()).collect::<Vec<_>>());
    access::change_user(
        conn,
        "zoe",
        &UserChange {
            zones: zones(&["Z2", "Z1", "Z2"]),
            ..UserChange::default()
        },
        "ana",
    )
    .expect("zones");
    let session = access::authenticate(conn, "zoe", PASSWORD).expect("login");
    assert_eq!(session.zones, ["Z1", "Z2"]);
    access::change_user(
        conn,
        "zoe",
        &UserChange {
            role: Some(Role::SeniorManager),
            display_name: Some("Zoe Senior".to_string()),
            ..UserChange::default()
        },
        "ana",
    )
    .expect("role");
    let session = access::authenticate(conn, "zoe", PASSWORD).expect("login");
    assert_eq!(session.role, Role::SeniorManager);
    let listed = access::list_users(conn).expect("list");
    let zoe = listed.iter().find(|u| u.user == "zoe").expect("zoe listed");
    assert_eq!(
        (zoe.display_name.as_str(), zoe.role.as_str(), zoe.active),
        ("Zoe Senior", "senior_manager", true)
    );
    assert_eq!(
        listed.iter().map(|u| u.user.as_str()).collect::<Vec<_>>(),
        ["ana", "cal", "screen", "zoe"]
    );

    for (user, change, message) in [
        (
            "screen",
            UserChange {
                zones: zones(&[""]),
                ..UserChange::default()
            },
            "name at least one zone",
        ),
        (
            "zoe",
            UserChange {
                zones: zones(&["Z9"]),
                ..UserChange::default()
            },
            "zone 'Z9' is not in ref.zone",
        ),
        (
            "zoe",
            UserChange {
                role: Some(Role::SeniorManager),
                ..UserChange::default()
            },
            "nothing to change",
        ),
        (
            "nobody",
            UserChange {
                role: Some(Role::Analyst),
                ..UserChange::default()
            },
            "there is no user 'nobody'",
        ),
    ] {
        let error = access::change_user(conn, user, &change, "ana").expect_err(message);
        assert!(
            matches!(error, AccessError::Invalid(_)) && error.to_string().contains(message),
            "{error}"
        );
    }

    let error = access::reset_password(conn, "zoe", "short", "ana").expect_err("short");
    assert!(error.to_string().contains("at least 12"), "{error}");
    access::reset_password(conn, "zoe", "a brand new passphrase", "ana").expect("reset");
    assert!(matches!(
        access::authenticate(conn, "zoe", PASSWORD),
        Err(AccessError::BadLogin)
    ));
    access::authenticate(conn, "zoe", "a brand new passphrase").expect("new password");

    assert_eq!(
        user_changes(conn),
        [
            pair("zoe", "zones Z1 -> Z1, Z2"),
            pair(
                "zoe",
                "role zone_manager -> senior_manager; display name 'ZOE' -> 'Zoe Senior'"
            ),
            pair("zoe", "password reset"),
        ]
    );
    assert!(audit::verify(conn).expect("verify").is_intact());
}

#[test]
fn disabled_users_are_refused_and_the_last_analyst_stays() {
    let county = county_with_users();
    let conn = &county.conn;
    access::disable_user(conn, "zoe", "ana").expect("disable");
    assert!(matches!(
        access::authenticate(conn, "zoe", PASSWORD),
        Err(AccessError::BadLogin)
    ));
    let error = access::disable_user(conn, "zoe", "ana").expect_err("twice");
    assert!(error.to_string().contains("already disabled"), "{error}");
    let listed = access::list_users(conn).expect("list");
    assert!(listed.iter().any(|u| u.user == "zoe" && !u.active), "kept");
    access::enable_user(conn, "zoe", "ana").expect("enable");
    access::authenticate(conn, "zoe", PASSWORD).expect("enabled again");
    let error = access::enable_user(conn, "zoe", "ana").expect_err("twice");
    assert!(error.to_string().contains("already enabled"), "{error}");

    // ana is the only analyst: neither disabled nor demoted, until there is another.
    let last = "ana is the last active analyst";
    let error = access::disable_user(conn, "ana", "ana").expect_err("last analyst");
    assert!(error.to_string().contains(last), "{error}");
    let demote = UserChange {
        role: Some(Role::SeniorManager),
        ..UserChange::default()
    };
    let error = access::change_user(conn, "ana", &demote, "ana").expect_err("demoted");
    assert!(error.to_string().contains(last), "{error}");
    access::authenticate(conn, "ana", PASSWORD).expect("still an analyst");
    let promote = UserChange {
        role: Some(Role::Analyst),
        zones: Some(vec![]),
        ..UserChange::default()
    };
    access::change_user(conn, "zoe", &promote, "ana").expect("second analyst");
    access::change_user(conn, "ana", &demote, "zoe").expect("now ana may go");
    let error = access::disable_user(conn, "zoe", "zoe").expect_err("zoe is the last now");
    assert!(
        error.to_string().contains("zoe is the last active analyst"),
        "{error}"
    );

    assert_eq!(
        user_changes(conn),
        [
            pair("zoe", "disabled"),
            pair("zoe", "enabled"),
            pair("zoe", "role zone_manager -> analyst; zones Z1 -> none"),
            pair("ana", "role analyst -> senior_manager"),
        ]
    );
    assert!(audit::verify(conn).expect("verify").is_intact());
}

/// Signs in as `user` with a wrong password `times` times, each refused as a bad login.
fn fail_to_sign_in(conn: &Connection, user: &str, times: usize) {
    for _ in 0..times {
        let error = access::authenticate(conn, user, "not the password").expect_err("wrong");
        assert!(matches!(error, AccessError::BadLogin), "{error}");
    }
}

#[test]
fn five_failed_sign_ins_lock_the_name_until_it_expires_or_an_analyst_unlocks_it() {
    let county = county_with_users();
    let conn = &county.conn;
    // Four failures, a success: the count starts again.
    fail_to_sign_in(conn, "zoe", 4);
    access::authenticate(conn, "zoe", PASSWORD).expect("not locked yet");
    fail_to_sign_in(conn, "zoe", 5);
    let error = access::authenticate(conn, "zoe", PASSWORD).expect_err("locked");
    assert!(
        matches!(error, AccessError::Locked { ref user, minutes: 15 } if user == "zoe"),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("try again in 15 min")
            && error.to_string().contains("ask an analyst"),
        "{error}"
    );
    // A name that does not exist is answered as a wrong password, then locked alike.
    fail_to_sign_in(conn, "nobody", 5);
    assert!(matches!(
        access::authenticate(conn, "nobody", PASSWORD),
        Err(AccessError::Locked { .. })
    ));
    // Other names are not affected.
    access::authenticate(conn, "ana", PASSWORD).expect("ana");

    // The lock lasts 15 minutes from the last failure, and needs the failures close together.
    let now = chrono::Utc::now().naive_utc();
    let rule = access::SIGN_IN_LOCKOUT;
    let locked = |rule: access::LockoutRule, minutes: i64| {
        rule.minutes_locked(conn, "zoe", now + chrono::Duration::minutes(minutes))
            .expect("lockout")
    };
    assert_eq!(locked(rule, 0), Some(15));
    assert_eq!(locked(rule, 14), Some(1));
    assert_eq!(locked(rule, 16), None);
    let spread_out = access::LockoutRule {
        window_minutes: 0,
        ..rule
    };
    assert_eq!(locked(spread_out, 0), None);
    let listed = access::list_users(conn).expect("list");
    assert!(
        listed
            .iter()
            .any(|u| u.user == "zoe" && u.minutes_locked == Some(15))
    );

    // An analyst unlocks: enable (the user is active) or a password reset.
    access::enable_user(conn, "zoe", "ana").expect("unlock");
    access::authenticate(conn, "zoe", PASSWORD).expect("unlocked");
    fail_to_sign_in(conn, "zoe", 5);
    access::reset_password(conn, "zoe", "a brand new passphrase", "ana").expect("reset");
    access::authenticate(conn, "zoe", "a brand new passphrase").expect("reset unlocks");

    let locked_refusals: Vec<String> = entries(conn, Action::Login)
        .into_iter()
        .filter(|e| e.detail == "refused: locked")
        .map(|e| e.subject)
        .collect();
    assert_eq!(locked_refusals, ["nobody", "zoe"]);
    assert_eq!(
        user_changes(conn),
        [pair("zoe", "unlocked"), pair("zoe", "password reset")]
    );
    assert!(audit::verify(conn).expect("verify").is_intact());
}

#[test]
fn unknown_and_disabled_names_are_answered_and_recorded_as_a_wrong_password() {
    let county = county_with_users();
    let conn = &county.conn;
    access::disable_user(conn, "zoe", "ana").expect("disable");
    let refusals: Vec<String> = [
        ("cal", "wrong password!"),
        ("nobody", PASSWORD),
        ("zoe", PASSWORD),
    ]
    .into_iter()
    .map(|(user, password)| {
        access::authenticate(conn, user, password)
            .expect_err("refused")
            .to_string()
    })
    .collect();
    assert_eq!(refusals, ["wrong user name or password"; 3]);
    let logins: Vec<(String, String, String)> = entries(conn, Action::Login)
        .into_iter()
        .rev()
        .map(|e| (e.user, e.subject, e.detail))
        .collect();
    let refused = |name: &str| (name.to_string(), name.to_string(), "refused".to_string());
    assert_eq!(logins, [refused("cal"), refused("nobody"), refused("zoe")]);
}

#[test]
fn names_are_the_same_whatever_their_case_and_keep_their_spelling() {
    let county = county_with_users();
    let conn = &county.conn;
    let shouting = NewUser {
        user: "ZOE".to_string(),
        display_name: "Another Zoe".to_string(),
        role: Role::Analyst,
        zones: vec![],
    };
    let error = access::add_user(conn, &shouting, PASSWORD, "ana").expect_err("taken");
    assert!(
        error.to_string().contains("user 'zoe' already exists"),
        "{error}"
    );

    let session = access::authenticate(conn, "ZoE", PASSWORD).expect("any case");
    assert_eq!(session.user, "zoe", "the stored spelling");
    // Failures in any case count towards one lock, which any case then meets.
    fail_to_sign_in(conn, "ZOE", 3);
    fail_to_sign_in(conn, "zoe", 2);
    assert!(matches!(
        access::authenticate(conn, "Zoe", PASSWORD),
        Err(AccessError::Locked { ref user, .. }) if user == "zoe"
    ));
    access::enable_user(conn, "ZOE", "ana").expect("unlock in any case");
    access::change_user(
        conn,
        "Zoe",
        &UserChange {
            display_name: Some("Zoe Z".to_string()),
            ..UserChange::default()
        },
        "ana",
    )
    .expect("change in any case");
    access::reset_password(conn, "zOE", "a brand new passphrase", "ana").expect("reset");
    access::disable_user(conn, "ZOE", "ana").expect("disable in any case");
    let logins: Vec<String> = entries(conn, Action::Login)
        .into_iter()
        .map(|e| e.subject)
        .collect();
    assert!(logins.iter().all(|subject| subject == "zoe"), "{logins:?}");
    assert_eq!(
        user_changes(conn),
        [
            pair("zoe", "unlocked"),
            pair("zoe", "display name 'ZOE' -> 'Zoe Z'"),
            pair("zoe", "password reset"),
            pair("zoe", "disabled"),
        ]
    );
    assert!(audit::verify(conn).expect("verify").is_intact());
}

#[test]
fn names_made_before_case_was_ignored_are_refused_at_sign_in_until_one_is_disabled() {
    let county = county_with_users();
    let conn = &county.conn;
    // As an older version could add it: a second "zoe" differing only by case.
    conn.execute_batch(
        "INSERT INTO app.\"user\"
         SELECT 'Zoe', 'Zoe Two', role, password_hash, created_at, true
         FROM app.\"user\" WHERE user_name = 'zoe'",
    )
    .expect("a legacy twin");
    for typed in ["zoe", "ZOE"] {
        let error = access::authenticate(conn, typed, PASSWORD).expect_err("ambiguous");
        assert!(
            matches!(error, AccessError::Invalid(_))
                && error
                    .to_string()
                    .contains("more than one user when case is ignored"),
            "{error}"
        );
    }
    let error = access::disable_user(conn, "ZOE", "ana").expect_err("which one?");
    assert!(
        error.to_string().contains("give the name spelt exactly")
            && error.to_string().contains("Zoe, zoe"),
        "{error}"
    );
    access::disable_user(conn, "Zoe", "ana").expect("the exact spelling");
    let session = access::authenticate(conn, "ZOE", PASSWORD).expect("only one is active");
    assert_eq!(session.user, "zoe");
}

#[test]
fn blank_short_common_and_named_passwords_are_refused_when_added_or_reset() {
    let county = county_with_users();
    let conn = &county.conn;
    let new = NewUser {
        user: "bo.smith".to_string(),
        display_name: "Bo Smith".to_string(),
        role: Role::SeniorManager,
        zones: vec![],
    };
    for (password, why) in [
        ("            ", "cannot be blank"),
        ("   elevenchars   ", "at least 12"),
        ("QwertyuioP12", "most common passwords"),
        ("bo.smith's passphrase", "must not contain the user name"),
    ] {
        let error = access::add_user(conn, &new, password, "ana").expect_err(why);
        assert!(
            error.to_string().contains(why),
            "added {password:?}: {error}"
        );
    }
    for (password, why) in [
        ("            ", "cannot be blank"),
        ("   elevenchars   ", "at least 12"),
        (" 123456789012 ", "most common passwords"),
    ] {
        let error = access::reset_password(conn, "screen", password, "ana").expect_err(why);
        assert!(
            error.to_string().contains(why),
            "reset {password:?}: {error}"
        );
    }
    let error = access::reset_password(conn, "screen", "the SCREEN in room 4", "ana")
        .expect_err("its own name");
    assert!(error.to_string().contains("user name"), "{error}");
    let changes = user_changes(conn);
    assert!(
        changes.is_empty(),
        "nothing refused is recorded: {changes:?}"
    );
}

/// Runs the zonewise binary with `stdin` as its standard input, signed in as the
/// analyst once the database has users; returns (success, stdout and stderr).
fn zonewise(args: &[&str], stdin: &str) -> (bool, String) {
    let env = [
        ("USER", Some("tester")),
        ("ZONEWISE_USER", Some("ana")),
        (zonewise::access::cli::PASSWORD_VARIABLE, Some(PASSWORD)),
    ];
    let run = common::cli::zonewise(args, &env, stdin);
    (run.success, run.output())
}

#[test]
fn users_are_listed_changed_disabled_and_enabled_on_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("users.duckdb");
    {
        let conn = zonewise::store::open(&db).expect("open");
        conn.execute_batch(
            "INSERT INTO ref.zone VALUES ('Z1', 'Zone one', 'E06000001'), ('Z2', 'Zone two', 'E06000001')",
        )
        .expect("zones");
    }
    let db = db.to_str().expect("path");
    let user = |args: &[&str], stdin: &str| {
        let mut all = vec!["user"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--db", db]);
        zonewise(&all, stdin)
    };
    for add in [
        &["add", "--name", "ana", "--role", "analyst"][..],
        &[
            "add",
            "--name",
            "zoe",
            "--role",
            "zone_manager",
            "--zone",
            "Z1",
        ],
    ] {
        let (ok, out) = user(add, &format!("{PASSWORD}\n"));
        assert!(ok, "{out}");
    }
    let (ok, out) = user(
        &[
            "change",
            "--name",
            "zoe",
            "--zone",
            "Z1,Z2",
            "--display-name",
            "Zoe Z",
        ],
        "",
    );
    assert!(ok, "{out}");
    let (ok, out) = user(&["disable", "--name", "zoe"], "");
    assert!(ok, "{out}");
    let (ok, out) = user(&["disable", "--name", "ana"], "");
    assert!(
        !ok && out.contains("ana is the last active analyst"),
        "{out}"
    );
    let (ok, out) = user(&["change", "--name", "nobody", "--role", "analyst"], "");
    assert!(!ok && out.contains("there is no user 'nobody'"), "{out}");

    let (ok, out) = user(&["list"], "");
    assert!(ok, "{out}");
    let rows: Vec<Vec<&str>> = out
        .lines()
        .filter(|line| line.contains("ana") || line.contains("zoe"))
        .map(|line| {
            // Borders are '│', the lines between columns '┆'.
            let cells: Vec<&str> = line.split(['│', '┆']).map(str::trim).collect();
            cells[1..cells.len() - 1].to_vec()
        })
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert_eq!(
        rows[0][..5],
        ["ana", "ana", "analyst", "", "active"][..],
        "{out}"
    );
    assert_eq!(
        rows[1][..5],
        ["zoe", "Zoe Z", "zone_manager", "Z1, Z2", "disabled"][..],
        "{out}"
    );
    assert!(out.contains("2 users"), "{out}");

    let (ok, out) = user(&["enable", "--name", "zoe"], "");
    assert!(ok, "{out}");
    let (ok, out) = user(&["password", "--name", "zoe"], "a brand new passphrase\n");
    assert!(ok, "{out}");
    let conn = zonewise::store::open(std::path::Path::new(db)).expect("open");
    access::authenticate(&conn, "zoe", "a brand new passphrase").expect("new password");
    assert_eq!(
        user_changes(&conn),
        [
            pair("zoe", "zones Z1 -> Z1, Z2; display name 'zoe' -> 'Zoe Z'"),
            pair("zoe", "disabled"),
            pair("zoe", "enabled"),
            pair("zoe", "password reset"),
        ]
    );
    // The first user is added by the operating-system user (no one can sign in
    // yet); every later change by the analyst signed in with --as.
    let by: Vec<String> = entries(&conn, Action::ManageUsers)
        .into_iter()
        .rev()
        .map(|e| e.user)
        .collect();
    assert_eq!(by[0], "tester");
    assert!(by[1..].iter().all(|user| user == "ana"), "{by:?}");
    assert!(audit::verify(&conn).expect("verify").is_intact());
}

#[test]
fn the_first_user_must_be_an_analyst_and_zones_are_kept_once() {
    let county = TinyCounty::new();
    let conn = &county.conn;
    let user = |name: &str, role, zones: &[&str]| NewUser {
        user: name.to_string(),
        display_name: name.to_string(),
        role,
        zones: zones.iter().map(|z| z.to_string()).collect(),
    };
    let error = access::add_user(
        conn,
        &user("zoe", Role::ZoneManager, &["Z1"]),
        PASSWORD,
        "t",
    )
    .expect_err("a zone manager first");
    assert!(
        error
            .to_string()
            .contains("the first user must be an analyst"),
        "{error}"
    );
    assert!(
        !access::requires_sign_in(conn).expect("users"),
        "nothing added"
    );
    access::add_user(conn, &user("ana", Role::Analyst, &[]), PASSWORD, "t").expect("analyst");
    access::add_user(
        conn,
        &user("zoe", Role::ZoneManager, &["Z1", "Z1"]),
        PASSWORD,
        "t",
    )
    .expect("then a zone manager, with a zone named twice");
    let session = access::authenticate(conn, "zoe", PASSWORD).expect("login");
    assert_eq!(session.zones, ["Z1"]);
}
