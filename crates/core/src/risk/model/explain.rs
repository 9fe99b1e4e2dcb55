//! Reasons in words: the features that raised a child's score most, each said
//! as a sentence about the child's or family's records, e.g. "3 police callouts
//! for domestic abuse in the last 6 months". One template per feature, here in
//! code, so every reason a round table reads can be traced to one feature.

use super::dataset::FEATURES;

/// How many reasons are kept per child.
pub const REASONS_PER_CHILD: usize = 3;

/// One reason a score is high.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    /// Index in [`FEATURES`].
    pub feature: usize,
    /// How much the feature raised the score (logit for logistic regression,
    /// probability for a tree); always above 0.
    pub contribution: f64,
    pub sentence: String,
}

/// The features with the largest positive contributions, largest first, at most
/// [`REASONS_PER_CHILD`]. `contributions` is per feature; `value(feature)` gives
/// the child's raw value (`None` when missing).
pub fn top_reasons(contributions: &[f64], value: impl Fn(usize) -> Option<f64>) -> Vec<Reason> {
    let mut order: Vec<usize> = (0..contributions.len())
        .filter(|&f| contributions[f] > 1e-9)
        .collect();
    order.sort_by(|&a, &b| {
        contributions[b]
            .total_cmp(&contributions[a])
            .then(a.cmp(&b))
    });
    order
        .into_iter()
        .take(REASONS_PER_CHILD)
        .map(|feature| Reason {
            feature,
            contribution: contributions[feature],
            sentence: sentence(FEATURES[feature].column, value(feature)),
        })
        .collect()
}

/// "1 contact" / "3 contacts".
fn count(n: f64, one: &str, many: &str) -> String {
    let n = n.round() as i64;
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The sentence for one feature's value (`None`: the value is missing).
pub fn sentence(feature: &str, value: Option<f64>) -> String {
    let Some(v) = value else {
        return match feature {
            "attendance_12m" => "no school attendance return in the last 12 months".to_string(),
            "attendance_change_12m" => {
                "no school attendance returns to compare over the year".to_string()
            }
            "imd_decile" => "the family's neighbourhood is not known".to_string(),
            "age_youngest_child" => "the age of the youngest child is not known".to_string(),
            other => format!("no value recorded for {other}"),
        };
    };
    let n = v.round();
    match feature {
        "age_years" => format!("aged {n}"),
        "under_five" if v >= 0.5 => "under five years old".to_string(),
        "under_five" => "aged five or over".to_string(),
        "attendance_12m" => format!("school attendance of {v:.0}% over the last 12 months"),
        "attendance_change_12m" if v < 0.0 => {
            format!("school attendance fell by {:.0} points over the year", -v)
        }
        "attendance_change_12m" => {
            format!("school attendance rose by {v:.0} points over the year")
        }
        "suspensions_12m" => format!(
            "{} in the last 12 months",
            count(n, "suspension", "suspensions")
        ),
        "permanent_exclusions_12m" => format!(
            "{} from school in the last 12 months",
            count(n, "permanent exclusion", "permanent exclusions")
        ),
        "social_care_contacts_3m" => format!(
            "{} to children's social care about the child in the last 3 months",
            count(n, "contact", "contacts")
        ),
        "social_care_contacts_12m" => format!(
            "{} to children's social care about the child in the last 12 months",
            count(n, "contact", "contacts")
        ),
        "social_care_referrals_12m" => format!(
            "{} to children's social care in the last 12 months",
            count(n, "referral", "referrals")
        ),
        "social_care_plans_12m" => format!(
            "{} (child in need, protection or care) started in the last 12 months",
            count(n, "social care plan", "social care plans")
        ),
        "social_care_plans_ever" => format!(
            "{} (child in need, protection or care) in the child's history",
            count(n, "social care plan", "social care plans")
        ),
        "police_domestic_abuse_6m" => format!(
            "{} for domestic abuse with the child present in the last 6 months",
            count(n, "police callout", "police callouts")
        ),
        "police_domestic_abuse_12m" => format!(
            "{} for domestic abuse with the child present in the last 12 months",
            count(n, "police callout", "police callouts")
        ),
        "police_anti_social_behaviour_12m" => format!(
            "named in {} in the last 12 months",
            count(
                n,
                "anti-social behaviour incident",
                "anti-social behaviour incidents"
            )
        ),
        "police_offending_12m" => format!(
            "named in {} in the last 12 months",
            count(n, "offending incident", "offending incidents")
        ),
        "ae_attendances_12m" => format!(
            "{} in the last 12 months",
            count(n, "A&E attendance", "A&E attendances")
        ),
        "household_size" => format!("a household of {n}"),
        "children_in_family" => format!("{} in the family", count(n, "child", "children")),
        "age_youngest_child" => format!("the youngest child in the family is aged {n}"),
        "imd_decile" => format!(
            "lives in a neighbourhood in England's IMD decile {n} (1 is the most deprived tenth)"
        ),
        "family_out_of_work_benefit" if v >= 0.5 => {
            "a parent or carer is claiming an out-of-work benefit".to_string()
        }
        "family_out_of_work_benefit" => "no out-of-work benefit claim is open".to_string(),
        "family_ae_attendances_12m" => format!(
            "{} by the family in the last 12 months",
            count(n, "A&E attendance", "A&E attendances")
        ),
        "family_social_care_contacts_12m" => format!(
            "{} to children's social care about the family's children in the last 12 months",
            count(n, "contact", "contacts")
        ),
        "family_rent_arrears_12m" => format!(
            "{} in the last 12 months",
            count(n, "rent arrears notice", "rent arrears notices")
        ),
        "family_rent_arrears_amount_12m" => {
            format!("£{v:.0} of rent arrears in the last 12 months")
        }
        "family_homelessness_applications_12m" => format!(
            "{} in the last 12 months",
            count(n, "homelessness application", "homelessness applications")
        ),
        "family_police_domestic_abuse_6m" => format!(
            "{} for domestic abuse at the family in the last 6 months",
            count(n, "police callout", "police callouts")
        ),
        "family_police_domestic_abuse_12m" => format!(
            "{} for domestic abuse at the family in the last 12 months",
            count(n, "police callout", "police callouts")
        ),
        "family_police_anti_social_behaviour_12m" => format!(
            "{} involving the family in the last 12 months",
            count(
                n,
                "anti-social behaviour incident",
                "anti-social behaviour incidents"
            )
        ),
        "family_police_offending_12m" => format!(
            "{} involving the family in the last 12 months",
            count(n, "offending incident", "offending incidents")
        ),
        "family_police_incidents_change_12m" if v > 0.0 => format!(
            "{} more police incidents in the last 6 months than in the 6 months before",
            n
        ),
        "family_police_incidents_change_12m" if v < 0.0 => format!(
            "{} fewer police incidents in the last 6 months than in the 6 months before",
            -n
        ),
        "family_police_incidents_change_12m" => {
            "as many police incidents in the last 6 months as in the 6 months before".to_string()
        }
        "family_agencies_12m" => format!(
            "{} involved with the family in the last 12 months",
            count(n, "agency", "agencies")
        ),
        other => format!("{other} is {v}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_feature_has_its_own_sentence() {
        for f in FEATURES {
            let text = sentence(f.column, Some(2.0));
            assert!(!text.contains(f.column), "{}: {text}", f.column);
            if f.nullable {
                let text = sentence(f.column, None);
                assert!(!text.contains(f.column), "{}: {text}", f.column);
            }
        }
    }

    #[test]
    fn sentences_say_the_value_in_words() {
        assert_eq!(
            sentence("police_domestic_abuse_6m", Some(3.0)),
            "3 police callouts for domestic abuse with the child present in the last 6 months"
        );
        assert_eq!(
            sentence("family_police_domestic_abuse_6m", Some(1.0)),
            "1 police callout for domestic abuse at the family in the last 6 months"
        );
        assert_eq!(
            sentence("attendance_change_12m", Some(-8.2)),
            "school attendance fell by 8 points over the year"
        );
        assert_eq!(
            sentence("family_rent_arrears_amount_12m", Some(1250.4)),
            "£1250 of rent arrears in the last 12 months"
        );
        assert_eq!(
            sentence("attendance_12m", None),
            "no school attendance return in the last 12 months"
        );
        assert_eq!(sentence("under_five", Some(1.0)), "under five years old");
    }

    #[test]
    fn reasons_are_the_largest_positive_contributions() {
        let mut contributions = vec![0.0; FEATURES.len()];
        contributions[11] = 0.9; // police_domestic_abuse_6m
        contributions[3] = 0.4; // attendance_change_12m
        contributions[7] = 0.6; // social_care_contacts_12m
        contributions[0] = 0.2;
        contributions[19] = -1.0; // lowering the score: never a reason
        let values = |f: usize| match f {
            11 => Some(2.0),
            3 => Some(-8.0),
            7 => Some(1.0),
            _ => Some(0.0),
        };
        let reasons = top_reasons(&contributions, values);
        let features: Vec<usize> = reasons.iter().map(|r| r.feature).collect();
        assert_eq!(features, vec![11, 7, 3]);
        assert_eq!(
            reasons[1].sentence,
            "1 contact to children's social care about the child in the last 12 months"
        );
        assert!(top_reasons(&vec![-0.1; FEATURES.len()], values).is_empty());
    }
}
