//! Users and roles: passwords kept only as argon2id hashes, logins checked and
//! recorded, and `access::person_query` limiting each role to what it may see.

mod common;

use common::tiny_county::{AFFLUENT_LSOA, DEPRIVED_LSOA, TinyCounty};
use duckdb::Connection;
use zonewise::access::{self, AccessError, NewUser, Purpose, Role, Session};
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
                    visible.zone_condition("f.zone_id")
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
