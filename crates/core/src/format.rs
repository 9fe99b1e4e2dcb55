//! How figures and errors read to a person, shared by the commands, the views and
//! the benchmarks: counts with thousands separators, one-line error messages, and
//! the table style every command prints. Kept apart from `commands` so that the
//! views and the other command modules do not import from the command bodies.

use comfy_table::Table;
use comfy_table::presets::UTF8_FULL_CONDENSED;

/// A table in the style every command prints.
pub fn new_table(headers: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(headers.to_vec());
    table
}

/// One line for a person: the error and each cause its message does not already include.
///
/// Our error types put their cause's text in their own message, so printing the
/// whole chain would say the same thing twice.
pub fn describe_error(error: &anyhow::Error) -> String {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
    }
    message
}

/// 1234567 → "1,234,567", as UK reports write counts (counts are never negative).
pub fn thousands(value: i64) -> String {
    indicatif::HumanCount(value.max(0) as u64).to_string()
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn described_errors_do_not_repeat_their_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let error = anyhow::Error::from(crate::ingest::manifest::ManifestError::Read {
            path: "m.toml".into(),
            source: io,
        });
        assert_eq!(
            super::describe_error(&error),
            "cannot read manifest m.toml: no such file"
        );
        let wrapped = error.context("loading the county");
        assert_eq!(
            super::describe_error(&wrapped),
            "loading the county: cannot read manifest m.toml: no such file"
        );
    }
}
