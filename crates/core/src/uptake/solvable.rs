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

impl Relation {
    /// Each member with its sign in the equation total − Σ parts = 0.
    fn terms(&self) -> impl Iterator<Item = (usize, f64)> + '_ {
        std::iter::once((self.total, 1.0)).chain(self.parts.iter().map(|&p| (p, -1.0)))
    }
}

const ZERO: f64 = 1e-9;

/// The sums as equations in the unknown cells (withheld or never counted),
/// brought to reduced row echelon form by Gauss–Jordan elimination, with the
/// row operations kept (the right-hand block, which starts as the identity) so
/// that any other cell's column can be carried through them too.
///
/// Every relation is the equation total − Σ parts = 0 with the shown cells moved
/// to the constant side. Unknown j is determined exactly when the unit vector
/// e_j is in the row space, which the reduced form shows as a row holding
/// nothing but j's pivot.
pub(super) struct Elimination {
    /// The unknown cell of each column.
    cells: Vec<usize>,
    /// Each relation's row: the reduced unknowns' block, then the operations block.
    rows: Vec<Vec<f64>>,
    /// The pivot column of each row that has one, in order.
    pivots: Vec<usize>,
    /// Each determined cell with the row that shows it, found once: every
    /// [`Elimination::freed`] reads them, and finding them reads the whole block.
    determined: Vec<(usize, usize)>,
}

impl Elimination {
    pub(super) fn new(relations: &[Relation], unknown: &[bool]) -> Self {
        let mut column = vec![None; unknown.len()];
        let mut cells = Vec::new();
        for relation in relations {
            for (i, _) in relation.terms() {
                if unknown[i] && column[i].is_none() {
                    column[i] = Some(cells.len());
                    cells.push(i);
                }
            }
        }
        let n = cells.len();
        let width = n + relations.len();
        let mut rows: Vec<Vec<f64>> = relations
            .iter()
            .enumerate()
            .map(|(r, relation)| {
                let mut row = vec![0.0; width];
                for (i, sign) in relation.terms() {
                    if let Some(j) = column[i] {
                        row[j] += sign;
                    }
                }
                row[n + r] = 1.0;
                row
            })
            .collect();
        let mut pivots = Vec::new();
        for col in 0..n {
            let at = pivots.len();
            let Some(best) =
                (at..rows.len()).max_by(|&a, &b| rows[a][col].abs().total_cmp(&rows[b][col].abs()))
            else {
                break;
            };
            if rows[best][col].abs() < ZERO {
                continue;
            }
            rows.swap(at, best);
            let lead = rows[at][col];
            rows[at].iter_mut().for_each(|c| *c /= lead);
            let pivot = std::mem::take(&mut rows[at]);
            for row in rows.iter_mut() {
                let factor = row.get(col).copied().unwrap_or(0.0);
                if factor.abs() > ZERO {
                    for (c, p) in row.iter_mut().zip(&pivot).skip(col) {
                        *c -= factor * p;
                    }
                }
            }
            rows[at] = pivot;
            pivots.push(col);
        }
        let determined = pivots
            .iter()
            .enumerate()
            .filter_map(|(r, &col)| {
                rows[r][..n]
                    .iter()
                    .enumerate()
                    .all(|(c, v)| c == col || v.abs() < ZERO)
                    .then_some((cells[col], r))
            })
            .collect();
        Elimination {
            cells,
            rows,
            pivots,
            determined,
        }
    }

    /// The unknown cells whose exact value follows from the sums, each with the
    /// row that shows it.
    fn determined_rows(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.determined.iter().copied()
    }

    /// The unknown cells whose exact value follows from the sums.
    pub(super) fn determined(&self) -> Vec<usize> {
        self.determined_rows().map(|(cell, _)| cell).collect()
    }

    /// The shown cell `cell` (a member of `relations[r]` for each r in `holding`)
    /// as a column of the sums, carried through the elimination's row operations:
    /// what [`Elimination::freed`] reads.
    pub(super) fn carry(&self, relations: &[Relation], holding: &[usize], cell: usize) -> Vec<f64> {
        let n = self.cells.len();
        self.rows
            .iter()
            .map(|row| {
                holding
                    .iter()
                    .map(|&r| {
                        let sign = if relations[r].total == cell {
                            1.0
                        } else {
                            -1.0
                        };
                        sign * row[n + r]
                    })
                    .sum()
            })
            .collect()
    }

    /// The determined cells that would no longer follow if the cell (or the
    /// combination of cells) whose carried column is `carried` were withheld too.
    ///
    /// Withholding a cell adds its column a. If a is not a combination of the
    /// unknown columns (the carried column is not zero below the pivot rows), the
    /// rank rises and nothing new is free (the cell itself becomes determined). If
    /// it is, each solution of A·v = −a is a new way to change the unknowns
    /// without changing any sum, and a determined cell j is freed when v_j ≠ 0;
    /// on j's reduced row v_j = −(E·a)_row, E being the operations block.
    /// Withholding more never determines a cell that was free, so cells freed
    /// this way stay free whatever else is withheld.
    pub(super) fn freed(&self, carried: &[f64]) -> Vec<usize> {
        if carried[self.pivots.len()..].iter().any(|v| v.abs() > ZERO) {
            return Vec::new();
        }
        self.determined_rows()
            .filter(|&(_, r)| carried[r].abs() > ZERO)
            .map(|(cell, _)| cell)
            .collect()
    }

    /// Two cells' carried columns combined so that what lies below the pivot rows
    /// cancels, when it can: withholding both then frees what [`Elimination::freed`]
    /// finds in the combination, though neither alone might (the second pair of
    /// corners of a rectangle across a two-way table).
    pub(super) fn pair(&self, first: &[f64], second: &[f64]) -> Option<Vec<f64>> {
        let rank = self.pivots.len();
        let (at, lead) = second[rank..]
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))?;
        if lead.abs() < ZERO {
            return None;
        }
        let ratio = first[rank + at] / lead;
        let combined: Vec<f64> = first
            .iter()
            .zip(second)
            .map(|(a, b)| a - ratio * b)
            .collect();
        (ratio.abs() > ZERO && combined[rank..].iter().all(|v| v.abs() < ZERO)).then_some(combined)
    }
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
        let mut solved = Elimination::new(&relations, &unknown).determined();
        solved.sort_unstable();
        assert_eq!(solved, [0, 1, 2]);
        // Withholding the decile too leaves a free direction: nothing is determined.
        unknown[5] = true;
        assert!(
            Elimination::new(&relations, &unknown)
                .determined()
                .is_empty()
        );
    }

    /// One unknown in a sum is determined; two in a sum alone are not; an unknown
    /// in no sum is not.
    #[test]
    fn a_single_sum_gives_away_one_unknown_and_no_more() {
        let relations = [sum(0, &[1, 2, 3])];
        let determined = |unknown: &[bool]| Elimination::new(&relations, unknown).determined();
        assert_eq!(determined(&[false, true, false, false, true]), [1]);
        assert!(determined(&[false, true, true, false]).is_empty());
    }

    /// A 2×2 table (cells 0 1 / 2 3, rows 4 5, columns 6 7) with the first row
    /// withheld: the column totals give both away. Withholding one cell of the
    /// second row adds a direction the sums already fix, freeing nothing; the
    /// two together complete the rectangle and free both.
    #[test]
    fn a_rectangle_needs_both_corners_of_the_second_row() {
        let relations = [
            sum(4, &[0, 1]),
            sum(5, &[2, 3]),
            sum(6, &[0, 2]),
            sum(7, &[1, 3]),
        ];
        let unknown = [true, true, false, false, false, false, false, false];
        let elimination = Elimination::new(&relations, &unknown);
        let mut given_away = elimination.determined();
        given_away.sort_unstable();
        assert_eq!(given_away, [0, 1]);
        let carried = |cell: usize, holding: &[usize]| elimination.carry(&relations, holding, cell);
        let (c2, c3) = (carried(2, &[1, 2]), carried(3, &[1, 3]));
        assert!(elimination.freed(&c2).is_empty());
        assert!(elimination.freed(&c3).is_empty());
        let both = elimination.pair(&c2, &c3).expect("the rectangle closes");
        let mut freed = elimination.freed(&both);
        freed.sort_unstable();
        assert_eq!(freed, [0, 1]);
        // And withholding all four leaves nothing determined.
        let all = [true, true, true, true, false, false, false, false];
        assert!(Elimination::new(&relations, &all).determined().is_empty());
    }
}
