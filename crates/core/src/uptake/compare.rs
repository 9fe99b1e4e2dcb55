//! Compared with what: each area's rate against a benchmark (the county's rate,
//! or a figure such as England's that the user enters), marked better, similar
//! or worse as Fingertips marks indicators: by whether the area's 95% Wilson
//! interval lies wholly above the benchmark, includes it, or lies wholly below.
//! Higher coverage and uptake are better. Only published rates are compared, so
//! a mark adds nothing to what the table shows.

use serde::Serialize;

use super::Rate;

/// How an area's rate stands against a benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// The whole 95% interval is above the benchmark.
    Better,
    /// The interval includes the benchmark.
    Similar,
    /// The whole interval is below the benchmark.
    Worse,
}

impl Comparison {
    /// The word a table shows.
    pub fn label(self) -> &'static str {
        match self {
            Comparison::Better => "better",
            Comparison::Similar => "similar",
            Comparison::Worse => "worse",
        }
    }
}

/// `rate` against `benchmark` (a proportion, 0–1), higher being better. An
/// interval touching the benchmark counts as including it.
pub fn compare(rate: Rate, benchmark: f64) -> Comparison {
    if rate.lower > benchmark {
        Comparison::Better
    } else if rate.upper < benchmark {
        Comparison::Worse
    } else {
        Comparison::Similar
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 60 of 100 by hand: p = 0.6, z = 1.96, centre (0.6 + z²/200) / (1 + z²/100)
    /// = 0.619208 / 1.038415 = 0.596301, half-width 1.96 · √(0.0024 + z²/40000)
    /// / 1.038415 = 1.96 · 0.0499604 / 1.038415 = 0.094300: 0.5020 to 0.6906.
    #[test]
    fn an_interval_wholly_above_or_below_the_benchmark_is_better_or_worse() {
        let area = Rate {
            value: 0.6,
            lower: 0.5020,
            upper: 0.6906,
        };
        assert_eq!(compare(area, 0.45), Comparison::Better, "county 45%");
        assert_eq!(compare(area, 0.55), Comparison::Similar, "county 55%");
        assert_eq!(
            compare(area, 0.6906),
            Comparison::Similar,
            "on the upper limit"
        );
        assert_eq!(
            compare(area, 0.5020),
            Comparison::Similar,
            "on the lower limit"
        );
        assert_eq!(compare(area, 0.75), Comparison::Worse, "England 75%");
        // 3 of 40 (7.5%, Wilson 2.58% to 19.86%): against a county at 20% the
        // whole interval is below, so worse; at 19% it is included, so similar.
        let small = Rate {
            value: 0.075,
            lower: 0.0258,
            upper: 0.1986,
        };
        assert_eq!(compare(small, 0.20), Comparison::Worse);
        assert_eq!(compare(small, 0.19), Comparison::Similar);
        assert_eq!(Comparison::Better.label(), "better");
    }
}
