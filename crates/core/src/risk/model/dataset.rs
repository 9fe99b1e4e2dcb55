//! The model's inputs: the fixed list of features read from `mart.risk_feature`
//! (with the label from `mart.risk_label`) into an ndarray matrix in one Arrow
//! query, and the preprocessing learnt on the training date alone — medians that
//! fill missing values, a missing indicator for each feature that can be NULL,
//! and the mean and standard deviation that standardise every input.

use arrow_array::Array as _;
use arrow_array::cast::AsArray as _;
use arrow_array::types::Float64Type;
use arrow_schema::DataType;
use chrono::NaiveDate;
use duckdb::Connection;
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ModelError;
use crate::risk::date_sql;

/// A feature of `mart.risk_feature` the models use, and whether it can be NULL
/// (then it is filled with the training median and gets a missing indicator).
#[derive(Debug, Clone, Copy)]
pub struct Feature {
    pub column: &'static str,
    pub nullable: bool,
}

const fn feature(column: &'static str) -> Feature {
    Feature {
        column,
        nullable: false,
    }
}

const fn nullable(column: &'static str) -> Feature {
    Feature {
        column,
        nullable: true,
    }
}

/// The features every model uses, in input order. The 12-month windows carry
/// the history; the 3- and 6-month windows of social care contacts and domestic
/// abuse are kept because recent incidents are what a round table asks about.
/// `attendance_3m` is left out: a termly return makes it NULL at some dates
/// for every child (see docs/risk.md). A model file with another list is refused.
pub const FEATURES: [Feature; 32] = [
    feature("age_years"),
    feature("under_five"),
    nullable("attendance_12m"),
    nullable("attendance_change_12m"),
    feature("suspensions_12m"),
    feature("permanent_exclusions_12m"),
    feature("social_care_contacts_3m"),
    feature("social_care_contacts_12m"),
    feature("social_care_referrals_12m"),
    feature("social_care_plans_12m"),
    feature("social_care_plans_ever"),
    feature("police_domestic_abuse_6m"),
    feature("police_domestic_abuse_12m"),
    feature("police_anti_social_behaviour_12m"),
    feature("police_offending_12m"),
    feature("ae_attendances_12m"),
    feature("household_size"),
    feature("children_in_family"),
    nullable("age_youngest_child"),
    nullable("imd_decile"),
    feature("family_out_of_work_benefit"),
    feature("family_ae_attendances_12m"),
    feature("family_social_care_contacts_12m"),
    feature("family_rent_arrears_12m"),
    feature("family_rent_arrears_amount_12m"),
    feature("family_homelessness_applications_12m"),
    feature("family_police_domestic_abuse_6m"),
    feature("family_police_domestic_abuse_12m"),
    feature("family_police_anti_social_behaviour_12m"),
    feature("family_police_offending_12m"),
    feature("family_police_incidents_change_12m"),
    feature("family_agencies_12m"),
];

/// The feature names, in input order.
pub fn feature_names() -> Vec<String> {
    FEATURES.iter().map(|f| f.column.to_string()).collect()
}

/// Which children of a date to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Population {
    /// Only children whose 12-month follow-up is complete: for training and evaluation.
    FollowedUp,
    /// Every child: for scoring, when the outcome is still to come.
    Everyone,
}

/// The children of one reference date with their features and labels.
#[derive(Debug, Clone)]
pub struct Rows {
    pub reference_date: NaiveDate,
    pub person_ids: Vec<String>,
    pub family_ids: Vec<String>,
    /// The family's zone (its round table), when it has one.
    pub zone_ids: Vec<Option<String>>,
    /// One column per [`FEATURES`] entry; NaN where the table holds NULL.
    pub raw: Array2<f64>,
    /// The label (false when the table has none for the child).
    pub labels: Vec<bool>,
}

impl Rows {
    pub fn len(&self) -> usize {
        self.person_ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.person_ids.is_empty()
    }

    /// The raw value of a feature for a row, `None` when missing.
    pub fn value(&self, row: usize, feature: usize) -> Option<f64> {
        let value = self.raw[[row, feature]];
        (!value.is_nan()).then_some(value)
    }

    /// SHA-256 over each row's person, label and feature values: the same
    /// training rows give the same fingerprint, any change another.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.reference_date.to_string().as_bytes());
        for (row, person) in self.person_ids.iter().enumerate() {
            hasher.update(person.as_bytes());
            hasher.update([u8::from(self.labels[row])]);
            for value in self.raw.row(row) {
                hasher.update(value.to_le_bytes());
            }
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Reads the children of `reference_date` (built by `risk::build`), in family
/// then person order, in one Arrow query.
pub fn read(
    conn: &Connection,
    reference_date: NaiveDate,
    population: Population,
) -> Result<Rows, ModelError> {
    let columns: Vec<String> = FEATURES
        .iter()
        .map(|f| format!("f.{}::DOUBLE AS {}", f.column, f.column))
        .collect();
    let filter = match population {
        Population::FollowedUp => "AND l.follow_up_complete",
        Population::Everyone => "",
    };
    let sql = format!(
        "SELECT f.person_id, f.family_id, f.zone_id, {columns},
                coalesce(l.label, 0)::DOUBLE AS label
         FROM mart.risk_feature f
         LEFT JOIN mart.risk_label l USING (reference_date, person_id)
         WHERE f.reference_date = {date} {filter}
         ORDER BY f.family_id, f.person_id",
        columns = columns.join(", "),
        date = date_sql(reference_date),
    );
    let mut statement = conn.prepare(&sql)?;
    let (mut person_ids, mut family_ids, mut zone_ids) = (Vec::new(), Vec::new(), Vec::new());
    let (mut values, mut labels) = (Vec::new(), Vec::new());
    for batch in statement.query_arrow([])? {
        let text = |index: usize| -> Result<Vec<Option<String>>, ModelError> {
            let column = arrow_cast::cast(batch.column(index), &DataType::Utf8)?;
            let strings = column.as_string::<i32>();
            Ok((0..strings.len())
                .map(|i| (!strings.is_null(i)).then(|| strings.value(i).to_string()))
                .collect())
        };
        person_ids.extend(text(0)?.into_iter().map(Option::unwrap_or_default));
        family_ids.extend(text(1)?.into_iter().map(Option::unwrap_or_default));
        zone_ids.extend(text(2)?);
        let numbers: Vec<_> = (3..3 + FEATURES.len() + 1)
            .map(|index| arrow_cast::cast(batch.column(index), &DataType::Float64))
            .collect::<Result<_, _>>()?;
        for row in 0..batch.num_rows() {
            for column in &numbers[..FEATURES.len()] {
                let column = column.as_primitive::<Float64Type>();
                values.push(if column.is_null(row) {
                    f64::NAN
                } else {
                    column.value(row)
                });
            }
            labels.push(
                numbers[FEATURES.len()]
                    .as_primitive::<Float64Type>()
                    .value(row)
                    > 0.5,
            );
        }
    }
    let raw = Array2::from_shape_vec((person_ids.len(), FEATURES.len()), values)
        .map_err(|e| ModelError::Shape(e.to_string()))?;
    Ok(Rows {
        reference_date,
        person_ids,
        family_ids,
        zone_ids,
        raw,
        labels,
    })
}

/// How one model input is made from the features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The feature's name, or `<feature>_missing` for a missing indicator.
    pub name: String,
    /// Index of the feature in [`FEATURES`] it comes from.
    pub feature: usize,
    /// True for the indicator: 1 where the feature is missing, else 0.
    pub missing_indicator: bool,
    /// Training mean and standard deviation; inputs are (value − mean) / std.
    pub mean: f64,
    pub std: f64,
}

/// Imputation and standardisation learnt on the training date, stored in the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preprocessing {
    /// Training median of each feature (in [`FEATURES`] order), which fills its missing values.
    pub medians: Vec<f64>,
    pub inputs: Vec<Input>,
}

impl Preprocessing {
    /// Learns medians, indicators and standardisation from the training rows.
    pub fn fit(raw: ArrayView2<f64>) -> Preprocessing {
        let medians: Vec<f64> = raw
            .columns()
            .into_iter()
            .map(|column| {
                let mut present: Vec<f64> =
                    column.iter().copied().filter(|v| !v.is_nan()).collect();
                present.sort_by(f64::total_cmp);
                match present.len() {
                    0 => 0.0,
                    n if n % 2 == 1 => present[n / 2],
                    n => (present[n / 2 - 1] + present[n / 2]) / 2.0,
                }
            })
            .collect();
        let mut inputs: Vec<Input> = FEATURES
            .iter()
            .enumerate()
            .map(|(index, f)| Input {
                name: f.column.to_string(),
                feature: index,
                missing_indicator: false,
                mean: 0.0,
                std: 1.0,
            })
            .collect();
        for (index, f) in FEATURES.iter().enumerate().filter(|(_, f)| f.nullable) {
            inputs.push(Input {
                name: format!("{}_missing", f.column),
                feature: index,
                missing_indicator: true,
                mean: 0.0,
                std: 1.0,
            });
        }
        let mut preprocessing = Preprocessing { medians, inputs };
        let unscaled = preprocessing.unscaled(raw);
        for (input, column) in preprocessing.inputs.iter_mut().zip(unscaled.columns()) {
            let n = column.len().max(1) as f64;
            let mean = column.sum() / n;
            let variance = column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            input.mean = mean;
            // A constant input (every child the same) is left unscaled.
            input.std = if variance > 1e-12 {
                variance.sqrt()
            } else {
                1.0
            };
        }
        preprocessing
    }

    /// Inputs before standardisation: missing values filled, indicators added.
    fn unscaled(&self, raw: ArrayView2<f64>) -> Array2<f64> {
        Array2::from_shape_fn((raw.nrows(), self.inputs.len()), |(row, column)| {
            let input = &self.inputs[column];
            let value = raw[[row, input.feature]];
            match (input.missing_indicator, value.is_nan()) {
                (true, missing) => f64::from(u8::from(missing)),
                (false, true) => self.medians[input.feature],
                (false, false) => value,
            }
        })
    }

    /// The standardised input matrix of `raw` (rows × inputs).
    pub fn transform(&self, raw: ArrayView2<f64>) -> Array2<f64> {
        let mut inputs = self.unscaled(raw);
        for (input, mut column) in self.inputs.iter().zip(inputs.columns_mut()) {
            column.mapv_inplace(|v| (v - input.mean) / input.std);
        }
        inputs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn every_model_feature_is_a_column_of_the_feature_table() {
        let columns = crate::risk::features::feature_columns();
        for f in FEATURES {
            assert!(columns.iter().any(|c| c == f.column), "{}", f.column);
        }
    }

    #[test]
    fn medians_fill_missing_values_and_indicators_mark_them() {
        // Three rows of every feature; attendance_12m (index 2, nullable) has a gap.
        let mut raw = Array2::<f64>::zeros((3, FEATURES.len()));
        raw.column_mut(0).assign(&array![4.0, 6.0, 11.0]);
        raw.column_mut(2).assign(&array![80.0, f64::NAN, 90.0]);
        let preprocessing = Preprocessing::fit(raw.view());
        assert_eq!(preprocessing.medians[0], 6.0);
        assert_eq!(preprocessing.medians[2], 85.0);
        let unscaled = preprocessing.unscaled(raw.view());
        assert_eq!(unscaled[[1, 2]], 85.0);
        let indicator = preprocessing
            .inputs
            .iter()
            .position(|i| i.name == "attendance_12m_missing")
            .expect("indicator");
        assert_eq!(unscaled.column(indicator).to_vec(), vec![0.0, 1.0, 0.0]);
        // Standardised: mean 0, population standard deviation 1; constants stay 0.
        let inputs = preprocessing.transform(raw.view());
        let age = inputs.column(0);
        assert!(age.sum().abs() < 1e-9);
        assert!((age.iter().map(|v| v * v).sum::<f64>() / 3.0 - 1.0).abs() < 1e-9);
        assert!(inputs.column(1).iter().all(|v| *v == 0.0));
        assert_eq!(
            preprocessing.inputs.len(),
            FEATURES.len() + FEATURES.iter().filter(|f| f.nullable).count()
        );
    }
}
