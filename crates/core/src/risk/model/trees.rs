//! A decision tree (linfa-trees) whose leaves give probabilities. linfa's tree
//! predicts a class only, so its splits are copied into our own node list and
//! each node is given the share of training children in it who were labelled 1,
//! shrunk towards the overall rate (an m-estimate), so a small leaf does not
//! claim 0% or 100%. That leaf rate is the score, calibrated on the training
//! date; the held-out calibration curve checks it.

use linfa::prelude::*;
use linfa_trees::{DecisionTree, SplitQuality, TreeNode};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use super::ModelError;

/// Pseudo-children at the overall rate added to each node's count (the m of the m-estimate).
const SHRINK_ROWS: f64 = 20.0;

/// One node: a split (`input` below `threshold` goes left) or a leaf (`input` is `None`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    pub input: Option<usize>,
    pub threshold: f64,
    pub left: usize,
    pub right: usize,
    /// Training children reaching the node, and those labelled 1.
    pub rows: u64,
    pub positives: u64,
    /// (positives + m · overall rate) / (rows + m): the node's probability.
    pub rate: f64,
}

/// A fitted tree; node 0 is the root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tree {
    pub max_depth: usize,
    /// No leaf holds less than this weight of training children (weights
    /// average 1; see [`Tree::fit`]).
    pub min_leaf_rows: usize,
    pub nodes: Vec<Node>,
}

impl Tree {
    /// Grows a tree (entropy splits) on standardised inputs and labels.
    pub fn fit(
        inputs: ArrayView2<f64>,
        labels: &[bool],
        max_depth: usize,
        min_leaf_rows: usize,
    ) -> Result<Tree, ModelError> {
        let targets: Array1<usize> = labels.iter().map(|&l| usize::from(l)).collect();
        // linfa prunes every subtree whose leaves predict the same class, and with
        // 4% positives every leaf would predict 0, leaving one leaf. Weighting the
        // classes to equal totals makes a leaf predict 1 where children escalate
        // more often than on average, so the splits that matter survive. The
        // weights only grow the tree; node rates below count children unweighted.
        let positives = labels.iter().filter(|&&l| l).count().max(1) as f32;
        let negatives = (labels.len() as f32 - positives).max(1.0);
        let half = labels.len() as f32 / 2.0;
        let weights: Array1<f32> = labels
            .iter()
            .map(|&l| {
                if l {
                    half / positives
                } else {
                    half / negatives
                }
            })
            .collect();
        let dataset = Dataset::new(inputs.to_owned(), targets).with_weights(weights);
        let fitted = DecisionTree::params()
            .split_quality(SplitQuality::Entropy)
            .max_depth(Some(max_depth))
            .min_weight_leaf(min_leaf_rows as f32)
            .min_weight_split(2.0 * min_leaf_rows as f32)
            .fit(&dataset)
            .map_err(|e| ModelError::Fit(format!("decision tree: {e}")))?;
        let mut nodes = Vec::new();
        copy_node(fitted.root_node(), &mut nodes);
        let mut tree = Tree {
            max_depth,
            min_leaf_rows,
            nodes,
        };
        for (row, &label) in inputs.rows().into_iter().zip(labels) {
            for node in tree.path(row) {
                tree.nodes[node].rows += 1;
                tree.nodes[node].positives += u64::from(label);
            }
        }
        let overall = tree.nodes[0].positives as f64 / tree.nodes[0].rows.max(1) as f64;
        for node in &mut tree.nodes {
            node.rate =
                (node.positives as f64 + SHRINK_ROWS * overall) / (node.rows as f64 + SHRINK_ROWS);
        }
        Ok(tree)
    }

    /// The nodes a row passes through, root first, leaf last.
    fn path(&self, row: ArrayView1<f64>) -> Vec<usize> {
        let mut path = vec![0];
        let mut at = 0;
        while let Some(input) = self.nodes[at].input {
            let node = &self.nodes[at];
            at = if row[input] < node.threshold {
                node.left
            } else {
                node.right
            };
            path.push(at);
        }
        path
    }

    /// Each row's leaf rate.
    pub fn probabilities(&self, inputs: ArrayView2<f64>) -> Vec<f64> {
        inputs
            .rows()
            .into_iter()
            .map(|row| {
                self.path(row)
                    .last()
                    .map_or(0.0, |&leaf| self.nodes[leaf].rate)
            })
            .collect()
    }

    /// What each input added to each row's probability along the row's path: at
    /// every split, the child's rate minus the node's goes to the split's input
    /// (the root's rate plus a row's contributions is its score).
    pub fn contributions(&self, inputs: ArrayView2<f64>) -> Array2<f64> {
        let mut parts = Array2::zeros(inputs.dim());
        for (index, row) in inputs.rows().into_iter().enumerate() {
            let path = self.path(row);
            for pair in path.windows(2) {
                if let Some(input) = self.nodes[pair[0]].input {
                    parts[[index, input]] += self.nodes[pair[1]].rate - self.nodes[pair[0]].rate;
                }
            }
        }
        parts
    }

    /// The node list must be a tree whose splits name inputs that exist.
    pub fn check(&self, inputs: usize) -> Result<(), String> {
        if self.nodes.is_empty() {
            return Err("the tree has no nodes".to_string());
        }
        for (index, node) in self.nodes.iter().enumerate() {
            if let Some(input) = node.input {
                if input >= inputs {
                    return Err(format!(
                        "tree node {index} splits on input {input}; there are {inputs}"
                    ));
                }
                // Children come after their parent, so a walk always ends.
                if node.left <= index
                    || node.right <= index
                    || node.left.max(node.right) >= self.nodes.len()
                {
                    return Err(format!("tree node {index} has children outside the tree"));
                }
            }
            if !(0.0..=1.0).contains(&node.rate) {
                return Err(format!(
                    "tree node {index} has rate {}, not a probability",
                    node.rate
                ));
            }
        }
        Ok(())
    }
}

/// Appends `node` and (after it) its subtrees to `nodes`; returns its index.
fn copy_node(node: &TreeNode<f64, usize>, nodes: &mut Vec<Node>) -> usize {
    let index = nodes.len();
    nodes.push(Node {
        input: None,
        threshold: 0.0,
        left: 0,
        right: 0,
        rows: 0,
        positives: 0,
        rate: 0.0,
    });
    if node.is_leaf() {
        return index;
    }
    let children = node.children();
    let (Some(left), Some(right)) = (children[0].as_deref(), children[1].as_deref()) else {
        return index;
    };
    let (input, threshold, _) = node.split();
    let left = copy_node(left, nodes);
    let right = copy_node(right, nodes);
    nodes[index] = Node {
        input: Some(input),
        threshold,
        left,
        right,
        ..nodes[index].clone()
    };
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_give_shrunk_rates_and_paths_explain_them() {
        // x < 0: 1 in 50 labelled 1 (the lowest x, so no split can set it apart from
        // its side); x ≥ 0: 25 in 50.
        let x: Vec<f64> = (0..100)
            .map(|i| {
                if i < 50 {
                    -1.0 - i as f64 / 100.0
                } else {
                    1.0 + i as f64 / 100.0
                }
            })
            .collect();
        let labels: Vec<bool> = (0..100)
            .map(|i| i == 49 || (i >= 50 && i % 2 == 0))
            .collect();
        let inputs = Array2::from_shape_vec((100, 1), x).expect("shape");
        let tree = Tree::fit(inputs.view(), &labels, 1, 10).expect("fit");
        tree.check(1).expect("valid");
        assert_eq!(tree.nodes.len(), 3, "{tree:?}");
        let overall = 26.0 / 100.0;
        let low = (1.0 + SHRINK_ROWS * overall) / (50.0 + SHRINK_ROWS);
        let high = (25.0 + SHRINK_ROWS * overall) / (50.0 + SHRINK_ROWS);
        let scores = tree.probabilities(ndarray::array![[-1.5], [1.5]].view());
        assert!(
            (scores[0] - low).abs() < 1e-12 && (scores[1] - high).abs() < 1e-12,
            "{scores:?}"
        );
        let parts = tree.contributions(ndarray::array![[1.5]].view());
        assert!((tree.nodes[0].rate + parts[[0, 0]] - high).abs() < 1e-12);
    }
}
