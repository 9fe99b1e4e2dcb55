#!/usr/bin/env python3
"""Zonewise's risk model against scikit-learn on the same features (issue 4).

Reads two exports of `zonewise export-features` (the training date and the
held-out date), fits scikit-learn's LogisticRegression (L2, on standardised
features with median imputation and missing indicators, as Zonewise does) and
HistGradientBoostingClassifier (which handles missing values itself) on the
training date's children with complete follow-up, and prints each one's
held-out ROC AUC and average precision beside the Zonewise model's (read from
its model file), and beside ranking by social care contacts alone.

Usage:
    zonewise export-features --db DB --date 2024-04-01 --out train.csv
    zonewise export-features --db DB --date 2025-04-01 --out test.csv
    risk_vs_sklearn.py --train train.csv --test test.csv --model models/risk-sample.json
"""

import argparse
import csv
import json

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def load(path, features):
    """The feature matrix (NaN where empty) and labels of children with complete follow-up."""
    x, y = [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["follow_up_complete"].lower() != "true":
                continue
            x.append([float(row[c]) if row[c] != "" else np.nan for c in features])
            y.append(int(row["label"]))
    return np.array(x), np.array(y)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--model", required=True, help="a Zonewise risk model file")
    args = parser.parse_args()
    with open(args.model) as f:
        model = json.load(f)
    features = model["features"]
    x_train, y_train = load(args.train, features)
    x_test, y_test = load(args.test, features)
    rows = []
    ours = model["evaluation"]
    rows.append(("zonewise " + model["estimator"]["kind"], ours["roc_auc"], ours["average_precision"]))
    logistic = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True),
        StandardScaler(),
        LogisticRegression(C=1.0, max_iter=2000),
    )
    boosting = HistGradientBoostingClassifier(random_state=0)
    for name, estimator in [("sklearn LogisticRegression", logistic),
                            ("sklearn HistGradientBoosting", boosting)]:
        estimator.fit(x_train, y_train)
        scores = estimator.predict_proba(x_test)[:, 1]
        rows.append((name, roc_auc_score(y_test, scores), average_precision_score(y_test, scores)))
    contacts = x_test[:, features.index("social_care_contacts_12m")]
    rows.append(("social_care_contacts_12m alone", roc_auc_score(y_test, contacts),
                 average_precision_score(y_test, contacts)))
    print(f"held out: {len(y_test)} children, {int(y_test.sum())} labelled 1 "
          f"(training: {len(y_train)}, {int(y_train.sum())})")
    print(f"{'model':<34} {'ROC AUC':>8} {'avg prec':>9}")
    for name, auc, ap in rows:
        print(f"{name:<34} {auc:>8.3f} {ap:>9.3f}")


if __name__ == "__main__":
    main()
