//! Blocking: which pairs of records are compared at all. Each rule is a set of
//! keys that must be equal; the union of the rules gives the candidate pairs.
//! Every rule's pair count is computed before any pair is built, so that a rule
//! too broad for the data is refused by name instead of exhausting memory.

use std::borrow::Cow;

use duckdb::Connection;

use super::LinkError;

/// A blocking rule: records are candidate pairs when all `keys` are equal (and not null).
/// Keys are SQL over one record, with `{s}` standing for the record's table alias;
/// they are always the engine's own text (the built-in rules, or [`BLOCKING_KEYS`]
/// chosen by name in a config), never text from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockingRule {
    pub name: Cow<'static, str>,
    pub keys: Cow<'static, [&'static str]>,
}

/// The keys a config's blocking rule may name, and the SQL each stands for.
pub const BLOCKING_KEYS: [(&str, &str); 15] = [
    ("given_name", "{s}.given"),
    ("given_name_canonical", "{s}.given_canonical"),
    ("given_initial", "left({s}.given, 1)"),
    ("family_name", "{s}.family"),
    ("family_initial", "left({s}.family, 1)"),
    ("birth_date", "{s}.birth_date"),
    ("birth_year", "{s}.birth_year"),
    ("birth_month_day", "strftime({s}.birth_date, '%m-%d')"),
    ("sex", "{s}.sex"),
    ("postcode", "{s}.postcode"),
    ("postcode_sector", "{s}.postcode_sector"),
    ("nhs_number", "{s}.nhs"),
    ("ni_number", "{s}.ni"),
    ("upn", "{s}.upn"),
    ("address", "{s}.address"),
];

impl BlockingRule {
    /// A built-in rule.
    pub const fn fixed(name: &'static str, keys: &'static [&'static str]) -> BlockingRule {
        BlockingRule {
            name: Cow::Borrowed(name),
            keys: Cow::Borrowed(keys),
        }
    }

    /// A rule from key names of [`BLOCKING_KEYS`] (a config's); named by its keys
    /// joined with " + " unless given a name. An unknown or repeated key, or none,
    /// is refused with the keys there are.
    pub fn from_key_names(name: Option<&str>, names: &[String]) -> Result<BlockingRule, String> {
        if names.is_empty() {
            return Err("a blocking rule needs at least one key".to_string());
        }
        let mut keys = Vec::with_capacity(names.len());
        for (position, wanted) in names.iter().enumerate() {
            let Some((_, sql)) = BLOCKING_KEYS.iter().find(|(key, _)| key == wanted) else {
                return Err(format!(
                    "unknown blocking key '{wanted}'; the keys are {}",
                    BLOCKING_KEYS.map(|(key, _)| key).join(", ")
                ));
            };
            if names[..position].contains(wanted) {
                return Err(format!("blocking key '{wanted}' is named twice"));
            }
            keys.push(*sql);
        }
        Ok(BlockingRule {
            name: Cow::Owned(name.map_or_else(|| names.join(" + "), str::to_string)),
            keys: Cow::Owned(keys),
        })
    }
}

/// The default rules. Each catches matches the others miss: a typo in a name
/// (birth date + initial), a wrong birth date (names + year), a changed name
/// (NHS number), a mistyped birth date and a nickname (postcode + initial).
pub const BLOCKING_RULES: [BlockingRule; 4] = [
    BlockingRule::fixed(
        "birth date + family initial",
        &["{s}.birth_date", "left({s}.family, 1)"],
    ),
    BlockingRule::fixed(
        "given name + family name + birth year",
        &["{s}.given_canonical", "{s}.family", "{s}.birth_year"],
    ),
    BlockingRule::fixed("NHS number", &["{s}.nhs"]),
    BlockingRule::fixed(
        "postcode + given initial",
        &["{s}.postcode", "left({s}.given, 1)"],
    ),
];

/// A key for one side of a pair (`{s}.family` → `l.family`).
fn on_side(key: &str, side: &str) -> String {
    key.replace("{s}", side)
}

impl BlockingRule {
    /// The join condition of pairs `l`/`r` this rule makes.
    pub fn join_condition(&self) -> String {
        self.keys
            .iter()
            .map(|k| format!("{} = {}", on_side(k, "l"), on_side(k, "r")))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// The pairs this rule generates in `link.record`, counted from the sizes of its
    /// blocks without building any pair.
    pub fn count_pairs(&self, conn: &Connection) -> Result<u64, duckdb::Error> {
        let keys = self
            .keys
            .iter()
            .map(|k| on_side(k, "x"))
            .collect::<Vec<_>>()
            .join(", ");
        let not_null = self
            .keys
            .iter()
            .map(|k| format!("{} IS NOT NULL", on_side(k, "x")))
            .collect::<Vec<_>>()
            .join(" AND ");
        let pairs: i64 = conn.query_row(
            &format!(
                "SELECT coalesce(sum(n * (n - 1) // 2), 0)::BIGINT FROM
                 (SELECT count(*)::BIGINT AS n FROM link.record x WHERE {not_null} GROUP BY {keys})"
            ),
            [],
            |row| row.get(0),
        )?;
        Ok(pairs.max(0) as u64)
    }
}

/// Pairs each rule generates in `link.record`, refusing a rule above `limit`.
pub fn count_pairs(
    conn: &Connection,
    rules: &[BlockingRule],
    limit: u64,
) -> Result<Vec<(String, u64)>, LinkError> {
    let mut counts = Vec::with_capacity(rules.len());
    for rule in rules {
        let pairs = rule.count_pairs(conn)?;
        if pairs > limit {
            return Err(LinkError::TooManyPairs {
                rule: rule.name.to_string(),
                pairs,
                limit,
            });
        }
        counts.push((rule.name.to_string(), pairs));
    }
    Ok(counts)
}

/// SQL selecting `columns` over every candidate pair of records `l`/`r`
/// (`l.record_key < r.record_key`): the union of every rule's pairs. Each rule
/// keeps only the pairs no earlier rule made, so the union is a UNION ALL: no
/// de-duplication over tens of millions of pairs, and the comparisons are computed
/// in the same pass as the join. With `across_sources_only`, pairs within one
/// source are left out (linking files to each other without deduplicating each).
pub fn candidate_pairs_sql(
    rules: &[BlockingRule],
    across_sources_only: bool,
    columns: &str,
) -> String {
    let across = if across_sources_only {
        " AND l.source <> r.source"
    } else {
        ""
    };
    rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let on = rule.join_condition();
            // A pair whose keys are null for an earlier rule was not made by it.
            let not_earlier: String = rules[..i]
                .iter()
                .map(|earlier| format!(" AND NOT coalesce({}, false)", earlier.join_condition()))
                .collect();
            format!(
                "SELECT {columns} FROM link.record l
                 JOIN link.record r ON {on} AND l.record_key < r.record_key{across}{not_earlier}"
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: [BlockingRule; 3] = [
        BlockingRule::fixed("a", &["{s}.a"]),
        BlockingRule::fixed("b + c", &["{s}.b", "{s}.c"]),
        BlockingRule::fixed("a + c", &["{s}.a", "{s}.c"]),
    ];

    /// Pairs as (l, r) keys, in order.
    fn pairs(conn: &Connection, sql: &str) -> Vec<(String, String)> {
        conn.prepare(&format!("SELECT l_key, r_key FROM ({sql}) ORDER BY ALL"))
            .expect("sql")
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }

    #[test]
    fn the_union_all_of_rules_is_the_distinct_union_of_their_pairs() {
        let conn = Connection::open_in_memory().expect("db");
        // Overlapping rules and null keys: every pair made once, none lost.
        conn.execute_batch(
            "CREATE SCHEMA link;
             CREATE TABLE link.record AS
             SELECT 'k' || lpad(i::VARCHAR, 3, '0') AS record_key, 's' || (i % 2) AS source,
                    CASE WHEN i % 7 = 0 THEN NULL ELSE i % 5 END AS a,
                    CASE WHEN i % 11 = 0 THEN NULL ELSE i % 3 END AS b,
                    i % 4 AS c
             FROM range(120) t(i);",
        )
        .expect("records");
        for across in [false, true] {
            let distinct = RULES
                .iter()
                .map(|rule| {
                    format!(
                        "SELECT l.record_key AS l_key, r.record_key AS r_key FROM link.record l
                         JOIN link.record r ON {} AND l.record_key < r.record_key{}",
                        rule.join_condition(),
                        if across {
                            " AND l.source <> r.source"
                        } else {
                            ""
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join(" UNION ");
            let union_all = candidate_pairs_sql(
                &RULES,
                across,
                "l.record_key AS l_key, r.record_key AS r_key",
            );
            let expected = pairs(&conn, &distinct);
            assert!(expected.len() > 300, "{}", expected.len());
            assert_eq!(pairs(&conn, &union_all), expected);
        }
    }
}
