//! Which withheld counts a reader could work out from all the published sums
//! at once. Checking each sum on its own (one withheld member gives itself away)
//! is not enough: a zone, a ward and a decile, each with two withheld LSOAs, can
//! together pin down all three. Suppression asks this after its per-sum rule
//! and withholds more until the answer is "none".

/// A published total and the cells it is the sum of (indices into the flat row list).
pub(super) struct Relation {
    pub(super) total: usize,
    pub(super) parts: Vec<usize>,
}

/// The unknown cells whose exact value follows from the relations, given which
/// cells are unknown (withheld or never counted). Every relation is the
/// equation total − Σ parts = 0 with the shown cells moved to the constant side;
/// unknown j is determined exactly when the unit vector e_j is in the row space
/// of what is left, which Gauss–Jordan elimination shows as a reduced row
/// holding nothing but j's pivot.
pub(super) fn determined(relations: &[Relation], unknown: &[bool]) -> Vec<usize> {
    let mut column = vec![None; unknown.len()];
    let mut cells = Vec::new();
    for relation in relations {
        for i in std::iter::once(relation.total).chain(relation.parts.iter().copied()) {
            if unknown[i] && column[i].is_none() {
                column[i] = Some(cells.len());
                cells.push(i);
            }
        }
    }
    let mut matrix: Vec<Vec<f64>> = relations
        .iter()
        .filter_map(|relation| {
            let mut equation = vec![0.0; cells.len()];
            if let Some(j) = column[relation.total] {
                equation[j] += 1.0;
            }
            for &part in &relation.parts {
                if let Some(j) = column[part] {
                    equation[j] -= 1.0;
                }
            }
            equation.iter().any(|&c| c != 0.0).then_some(equation)
        })
        .collect();
    const ZERO: f64 = 1e-9;
    let mut pivots = Vec::new();
    for col in 0..cells.len() {
        let at = pivots.len();
        let Some(best) = (at..matrix.len())
            .max_by(|&a, &b| matrix[a][col].abs().total_cmp(&matrix[b][col].abs()))
        else {
            break;
        };
        if matrix[best][col].abs() < ZERO {
            continue;
        }
        matrix.swap(at, best);
        let lead = matrix[at][col];
        matrix[at].iter_mut().for_each(|c| *c /= lead);
        let pivot = std::mem::take(&mut matrix[at]);
        for row in matrix.iter_mut() {
            let factor = row.get(col).copied().unwrap_or(0.0);
            if factor.abs() > ZERO {
                for (c, p) in row.iter_mut().zip(&pivot).skip(col) {
                    *c -= factor * p;
                }
            }
        }
        matrix[at] = pivot;
        pivots.push(col);
    }
    pivots
        .iter()
        .enumerate()
        .filter(|&(r, &col)| {
            matrix[r]
                .iter()
                .enumerate()
                .all(|(c, v)| c == col || v.abs() < ZERO)
        })
        .map(|(_, &col)| cells[col])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(total: usize, parts: &[usize]) -> Relation {
        Relation {
            total,
            parts: parts.to_vec(),
        }
    }

    /// Cells 0, 1, 2 withheld; 3 (zone 0+1), 4 (ward 0+2) and 5 (decile 1+2+6)
    /// shown, with 6 shown: each sum has two unknowns, yet a = (z + w − (d − 6))/2.
    #[test]
    fn three_sums_of_two_unknowns_each_give_all_three_away() {
        let relations = [sum(3, &[0, 1]), sum(4, &[0, 2]), sum(5, &[1, 2, 6])];
        let mut unknown = vec![true, true, true, false, false, false, false];
        let mut solved = determined(&relations, &unknown);
        solved.sort_unstable();
        assert_eq!(solved, [0, 1, 2]);
        // Withholding the decile too leaves a free direction: nothing is determined.
        unknown[5] = true;
        assert!(determined(&relations, &unknown).is_empty());
    }

    /// One unknown in a sum is determined; two in a sum alone are not; an unknown
    /// in no sum is not.
    #[test]
    fn a_single_sum_gives_away_one_unknown_and_no_more() {
        let relations = [sum(0, &[1, 2, 3])];
        assert_eq!(
            determined(&relations, &[false, true, false, false, true]),
            [1]
        );
        assert!(determined(&relations, &[false, true, true, false]).is_empty());
    }
}
