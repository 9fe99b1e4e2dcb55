//! Passwords: which are refused, their argon2id hashes, and checking one so that a
//! sign-in costs the same whether or not the name belongs to a user who may sign in.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use super::AccessError;

/// Shortest password accepted, not counting spaces at either end (the NCSC advises
/// length over complexity rules).
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Passwords of 12 characters or more found again and again in breached password
/// lists, lower case: the first ones an attacker tries. The NCSC advises refusing
/// them; a short list catches the likeliest without shipping a large one.
const BREACHED: [&str; 40] = [
    "000000000000",
    "111111111111",
    "123123123123",
    "123456789012",
    "1234567890123",
    "12345678901234",
    "123456789abc",
    "1234qwerasdf",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "987654321098",
    "aaaaaaaaaaaa",
    "abc123456789",
    "abcdefghijkl",
    "admin1234567",
    "administrator",
    "asdfghjkl123",
    "baseball1234",
    "changeme1234",
    "dragon123456",
    "football1234",
    "iloveyou1234",
    "letmein12345",
    "master123456",
    "monkey123456",
    "p@ssw0rd1234",
    "passw0rd1234",
    "password1234",
    "password12345",
    "password123456",
    "passwordpassword",
    "princess1234",
    "qazwsxedcrfv",
    "qwerty123456",
    "qwertyqwerty",
    "qwertyuiop12",
    "qwertyuiop123",
    "sunshine1234",
    "welcome12345",
    "zxcvbnm12345",
];

/// A user name this short is not looked for inside the password: two or three
/// letters turn up in ordinary words ("al" in "totally").
const SHORTEST_NAME_LOOKED_FOR: usize = 4;

/// An argon2id hash, with the parameters [`password_hash`] uses, of a password no
/// one knows: checked when there is no real hash to check (a name no user has, or
/// one several users have), so every refused sign-in costs one argon2 verification
/// and its time does not tell which names exist. A constant, so that the first
/// refusal costs no more than the others; a unit test checks its parameters still
/// match [`password_hash`]'s.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$Gx5j2310y66M8KFCvTHjPg$vM56HnDIoREjCmHK+7VxtaA2fblkxuildzk3vrSZhWw";

/// Refuses a password that is blank or short once the spaces at either end are
/// taken away, one of the [`BREACHED`] passwords (ignoring case), or one that
/// contains the user's name (ignoring case).
pub(crate) fn check_password(user: &str, password: &str) -> Result<(), AccessError> {
    let trimmed = password.trim();
    let refuse = |why: &str| Err(AccessError::Invalid(format!("the password {why}")));
    if trimmed.is_empty() {
        return refuse("cannot be blank");
    }
    if trimmed.chars().count() < MIN_PASSWORD_CHARS {
        return refuse(&format!(
            "must be at least {MIN_PASSWORD_CHARS} characters, not counting spaces at either end"
        ));
    }
    let lower = trimmed.to_lowercase();
    if BREACHED.contains(&lower.as_str()) {
        return refuse("is one of the most common passwords in breached password lists");
    }
    let name = user.trim().to_lowercase();
    if name.chars().count() >= SHORTEST_NAME_LOOKED_FOR && lower.contains(&name) {
        return refuse("must not contain the user name");
    }
    Ok(())
}

/// The argon2id hash (PHC string, fresh salt) of `password` for `user`, refused
/// unless [`check_password`] accepts it.
pub(super) fn password_hash(user: &str, password: &str) -> Result<String, AccessError> {
    // Argon2 is slow on purpose: never on the frame.
    crate::store::refuse_on_frame("hashing a password")?;
    check_password(user, password)?;
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| AccessError::Password(e.to_string()))?
        .to_string())
}

/// True when `password` matches `stored`. Without a readable stored hash it checks
/// [`DUMMY_HASH`] instead and returns false: the check costs the same either way.
pub(super) fn password_matches(stored: Option<&str>, password: &str) -> bool {
    let real = stored.and_then(|hash| PasswordHash::new(hash).ok());
    let Some(checked) = real.clone().or_else(|| PasswordHash::new(DUMMY_HASH).ok()) else {
        return false;
    };
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &checked)
        .is_ok();
    matches && real.is_some()
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::PasswordHash;

    use super::{DUMMY_HASH, check_password, password_hash, password_matches};

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_costs() {
        let real = password_hash("ana", "a long enough passphrase").expect("hash");
        let real = PasswordHash::new(&real).expect("real PHC");
        let dummy = PasswordHash::new(DUMMY_HASH).expect("the dummy is a PHC string");
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.algorithm.as_str(), "argon2id");
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params, "same memory, time and lanes");
        assert!(dummy.hash.is_some() && dummy.salt.is_some());
        assert_eq!(
            dummy.hash.map(|h| h.len()),
            real.hash.map(|h| h.len()),
            "same output length"
        );
        assert!(!password_matches(None, "a long enough passphrase"));
        assert!(!password_matches(Some("not a PHC string"), ""));
    }

    #[test]
    fn blank_short_common_and_named_passwords_are_refused() {
        for (password, why) in [
            ("            ", "cannot be blank"),
            ("", "cannot be blank"),
            ("   short pass   ", "at least 12"),
            ("   eleven char   ", "at least 12"),
            ("Password1234", "most common passwords"),
            (" QWERTYUIOP12 ", "most common passwords"),
            ("123456789012", "most common passwords"),
            ("my name is Amara.O, ok", "user name"),
        ] {
            let error = check_password("amara.o", password).expect_err(password);
            assert!(error.to_string().contains(why), "{password:?}: {error}");
        }
        check_password("amara.o", "correct horse battery").expect("a good one");
        check_password("al", "totally fine passphrase").expect("short names are not looked for");
    }
}
