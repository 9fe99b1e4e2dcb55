#!/usr/bin/env python3
"""Zonewise's linkage against Splink 5 on the same records (issue 3).

For each county size this runs, each in a fresh process so that peak memory is
the run's own:

1. `zonewise bench linkage --json --export-records`: generates the synthetic
   county, ingests and links it, scores it against the truth, and writes the
   standardised records (`link.record`) with true person ids to records.csv;
2. Splink 5 (DuckDB backend) on that records.csv with the configuration of
   `src/link/mod.rs`: the same four blocking rules, equivalent comparison levels,
   u by random sampling, m by EM sessions blocked on birth date and on given and
   family name, the prior from the same deterministic rule, every candidate pair
   scored, and connected components at match probability 0.95; its clusters are
   scored by the same pairwise measure.

It prints both rows side by side with Zonewise's time as a ratio of Splink's.
Zonewise's time is shown in total and without its standardise stage: Splink
starts from records Zonewise has already standardised.

Usage (benches/linkage_vs_splink.sh sets up Splink and the binary):
    linkage_vs_splink.py --zonewise target/release/zonewise --families 20000,200000
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

# Settings of src/link/mod.rs that Splink is configured to match.
ACCEPT_PROBABILITY = 0.95  # LinkConfig::default().accept_probability
EM_ITERATIONS = 30  # LinkConfig::default().em_iterations
DETERMINISTIC_RECALL = 0.7  # DETERMINISTIC_RECALL
TF_FLOOR = 1e-4  # link::comparisons::TF_FLOOR
# Zonewise estimates u from two samples of about 1,500 records crossed.
U_MAX_PAIRS = 1500 * 1500


def progress(message):
    """A progress line on stderr, so stdout stays the result."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def peak_memory_bytes():
    """This process's high-water mark (ru_maxrss is in kilobytes on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# --- Splink, run in a child process: `linkage_vs_splink.py splink --records CSV` ---


def splink_settings():
    """Splink's equivalent of link::BLOCKING_RULES and link::COMPARISONS.

    Level order is strongest first, as in Zonewise (whose level numbers count up);
    each comparison has a null level on the same column Zonewise tests for null.
    """
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    def custom(sql, label):
        return cll.CustomLevel(sql, label_for_charts=label)

    def exact_tf(column):
        """An exact-match level with Zonewise's term-frequency adjustment and floor (TF_FLOOR)."""
        return cll.ExactMatchLevel(column, term_frequency_adjustments=True).configure(
            tf_minimum_u_value=TF_FLOOR
        )

    comparisons = [
        cl.CustomComparison(
            output_column_name="given_name",
            comparison_levels=[
                cll.NullLevel("given"),
                exact_tf("given_canonical"),
                cll.JaroWinklerLevel("given", 0.92),
                cll.JaroWinklerLevel("given", 0.80),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="family_name",
            comparison_levels=[
                cll.NullLevel("family"),
                exact_tf("family"),
                custom(
                    "jaro_winkler_similarity(family_l, family_r) >= 0.92"
                    " OR family_first_l IN (family_first_r, family_second_r)"
                    " OR family_second_l IN (family_first_r, family_second_r)",
                    "JW >= 0.92 or a shared part of a double-barrelled name",
                ),
                cll.JaroWinklerLevel("family", 0.80),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="birth_date",
            comparison_levels=[
                cll.NullLevel("birth_date"),
                cll.ExactMatchLevel("birth_date"),
                custom(
                    "(day(birth_date_l) = month(birth_date_r)"
                    " AND month(birth_date_l) = day(birth_date_r)"
                    " AND year(birth_date_l) = year(birth_date_r))"
                    " OR abs(date_diff('day', birth_date_l, birth_date_r)) = 1",
                    "day and month swapped, or one day apart",
                ),
                custom(
                    "abs(date_diff('day', birth_date_l, birth_date_r)) <= 365",
                    "within a year",
                ),
                custom(
                    "abs(date_diff('day', birth_date_l, birth_date_r)) NOT BETWEEN 5479 AND 18262",
                    "other gap of more than a year",
                ),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="postcode",
            comparison_levels=[
                cll.NullLevel("postcode"),
                exact_tf("postcode"),
                cll.ExactMatchLevel("postcode_sector"),
                cll.ElseLevel(),
            ],
        ),
        cl.ExactMatch("sex"),
        cl.ExactMatch("nhs"),
        cl.ExactMatch("ni"),
    ]
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_key",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[
            block_on("birth_date", "substr(family, 1, 1)"),
            block_on("given_canonical", "family", "birth_year"),
            block_on("nhs"),
            block_on("postcode", "substr(given, 1, 1)"),
        ],
        max_iterations=EM_ITERATIONS,
        # Zonewise's link.pair keeps keys, levels, weight and probability only.
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def run_splink(records_csv, memory_limit, em_max_pairs):
    """Links records_csv with Splink; returns figures as a dict.

    memory_limit holds DuckDB to the same limit as Zonewise (it spills to a folder
    next to the records beyond it); em_max_pairs, when set, samples each EM
    session's pairs down to about that many (Splink 5's own option for large data).
    """
    import logging

    import duckdb
    from splink import DuckDBAPI, Linker, block_on

    baseline_memory = peak_memory_bytes()
    seconds = {}
    started = time.perf_counter()
    lap = started

    def stage(name):
        nonlocal lap
        now = time.perf_counter()
        seconds[name] = now - lap
        lap = now
        progress(f"splink: {name} done in {seconds[name]:.1f} s")

    path = str(records_csv).replace("'", "''")
    con = duckdb.connect()
    spill = str(Path(records_csv).parent / "splink.tmp").replace("'", "''")
    con.execute(f"SET temp_directory = '{spill}'")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(
        f"""CREATE TABLE records AS
            -- Splink computes its own term frequencies (tf_*), so Zonewise's are left out.
            SELECT * EXCLUDE (true_person_id, tf_given, tf_family, tf_postcode)
                     REPLACE (birth_date::DATE AS birth_date, birth_year::INTEGER AS birth_year)
            FROM read_csv('{path}', header = true, all_varchar = true)"""
    )
    records = con.execute("SELECT count(*) FROM records").fetchall()[0][0]
    stage("load records")

    linker = Linker(
        DuckDBAPI(con).register("records"), splink_settings(), log_level=logging.WARNING
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=1)
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on("nhs"),
            block_on("given_canonical", "family", "birth_date", "postcode"),
        ],
        recall=DETERMINISTIC_RECALL,
    )
    for session in (block_on("birth_date"), block_on("given_canonical", "family")):
        linker.training.estimate_parameters_using_expectation_maximisation(
            session, estimate_without_term_frequencies=True, max_pairs=em_max_pairs
        )
    stage("train (u, prior, EM)")

    predictions = linker.inference.predict()
    stage("block, compare and score (predict)")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=ACCEPT_PROBABILITY
    )
    stage("cluster")
    wall = time.perf_counter() - started
    peak = peak_memory_bytes()

    def one(sql):
        return con.execute(sql).fetchall()[0]

    candidate_pairs, accepted_pairs = one(
        f"""SELECT count(*), count(*) FILTER (WHERE match_probability >= {ACCEPT_PROBABILITY})
            FROM {predictions.physical_name}"""
    )
    con.execute(
        f"""CREATE TABLE truth AS SELECT record_key, true_person_id
            FROM read_csv('{path}', header = true, all_varchar = true)"""
    )
    quality = evaluate(con, clusters.physical_name)
    return {
        "records": records,
        "candidate_pairs": candidate_pairs,
        "accepted_pairs": accepted_pairs,
        "persons": one(f"SELECT count(DISTINCT cluster_id) FROM {clusters.physical_name}")[0],
        "stages": seconds,
        "wall_seconds": wall,
        "peak_memory_bytes": peak,
        "memory_after_imports_bytes": baseline_memory,
        "memory_limit": memory_limit,
        "em_max_pairs": em_max_pairs,
        "quality": quality,
        "model": linker.misc.save_model_to_json(),
    }


def evaluate(con, clusters_table):
    """Pairwise precision/recall/F1 and split/merge shares, as link::evaluate computes them."""
    pairs = "coalesce(sum(n * (n - 1) // 2), 0)"
    row = con.execute(
        f"""WITH joined AS (
                SELECT c.cluster_id AS predicted, t.true_person_id AS true_person
                FROM {clusters_table} c JOIN truth t USING (record_key))
            SELECT (SELECT count(*) FROM joined),
                   (SELECT {pairs} FROM (SELECT count(*) n FROM joined GROUP BY predicted, true_person)),
                   (SELECT {pairs} FROM (SELECT count(*) n FROM joined GROUP BY predicted)),
                   (SELECT {pairs} FROM (SELECT count(*) n FROM joined GROUP BY true_person)),
                   (SELECT avg((n > 1)::INTEGER) FROM (SELECT count(DISTINCT predicted) n FROM joined GROUP BY true_person)),
                   (SELECT avg((n > 1)::INTEGER) FROM (SELECT count(DISTINCT true_person) n FROM joined GROUP BY predicted))"""
    ).fetchall()[0]
    records, correct, predicted, actual, split, merged = row
    precision = correct / max(predicted, 1)
    recall = correct / max(actual, 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {
        "records": records,
        "true_pairs": int(actual),
        "predicted_pairs": int(predicted),
        "correct_pairs": int(correct),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "split_persons": split or 0.0,
        "merged_ids": merged or 0.0,
    }


# --- The comparison, run by the parent process ---


def run_child(command):
    """Runs a child with its progress shown; returns (parsed JSON stdout, None) or
    (None, why it failed)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout = []
    reader = threading.Thread(target=lambda: stdout.append(process.stdout.read()))
    reader.start()
    last_lines = []
    for line in process.stderr:
        sys.stderr.write(line)
        last_lines = (last_lines + [line.strip()])[-3:]
    reader.join()
    status = process.wait()
    if status != 0:
        why = f"killed by signal {-status}" if status < 0 else f"exit status {status}"
        return None, f"{why}: {' / '.join(l for l in last_lines if l)}"
    return json.loads(stdout[0]), None


def run_zonewise(binary, families, seed, work, memory_limit):
    progress(f"zonewise: {families:,} families")
    command = [binary, "bench", "linkage", "--families", str(families), "--seed", str(seed),
               "--work", str(work), "--json", "--export-records"]
    if memory_limit:
        command += ["--memory-limit", memory_limit]
    result, failure = run_child(command)
    return (result[0] if result else None), failure


def run_splink_child(records_csv, memory_limit, em_max_pairs):
    progress(f"splink: linking {records_csv}")
    command = [sys.executable, __file__, "splink", "--records", str(records_csv)]
    if memory_limit:
        command += ["--memory-limit", memory_limit]
    if em_max_pairs:
        command += ["--em-max-pairs", str(em_max_pairs)]
    return run_child(command)


def stage_seconds(zonewise, *names):
    return sum(s["seconds"] for s in zonewise["link_stages"] if s["stage"] in names)


def table_rows(zonewise, splink):
    """(measure, Zonewise, Splink) cells for one size."""
    count = "{:,}".format
    secs = "{:.1f}".format
    gb = lambda b: f"{b / 1e9:.2f}"
    ratio = lambda a, b: f"{a / b:.2f}"
    zq, sq = zonewise["quality"], splink["quality"]
    split = splink["stages"]
    zonewise_without = zonewise["link_seconds_without_standardise"]
    return [
        ("records linked", count(zonewise["records"]), count(splink["records"])),
        ("candidate pairs scored", count(zonewise["candidate_pairs"]), count(splink["candidate_pairs"])),
        ("standardise s", secs(stage_seconds(zonewise, "standardise")), "(given standardised)"),
        ("load records s", "(in database)", secs(split["load records"])),
        ("train (u, prior, EM) s", secs(stage_seconds(zonewise, "train (EM)")), secs(split["train (u, prior, EM)"])),
        ("block, compare and score s", secs(stage_seconds(zonewise, "count pairs per rule", "block, compare and score")),
         secs(split["block, compare and score (predict)"])),
        ("cluster s", secs(stage_seconds(zonewise, "cluster")), secs(split["cluster"])),
        ("families s", secs(stage_seconds(zonewise, "families")), "(not done)"),
        ("**wall, total** s", secs(zonewise["link_seconds"]), secs(splink["wall_seconds"])),
        ("**wall without standardise** s", secs(zonewise_without), secs(splink["wall_seconds"])),
        ("**time ÷ Splink**, total", ratio(zonewise["link_seconds"], splink["wall_seconds"]), "1"),
        ("**time ÷ Splink**, without standardise", ratio(zonewise_without, splink["wall_seconds"]), "1"),
        ("peak memory GB (process)", gb(zonewise["peak_memory_bytes"] or 0),
         f"{gb(splink['peak_memory_bytes'])} ({gb(splink['memory_after_imports_bytes'])} after imports)"),
        ("accepted pairs (p ≥ 0.95)", count(zonewise["accepted_pairs"]), count(splink["accepted_pairs"])),
        ("persons (clusters)", count(zonewise["persons"]), count(splink["persons"])),
        ("precision", f"{zq['precision']:.4f}", f"{sq['precision']:.4f}"),
        ("recall", f"{zq['recall']:.4f}", f"{sq['recall']:.4f}"),
        ("**F1**", f"{zq['f1']:.4f}", f"{sq['f1']:.4f}"),
        ("true persons split", f"{zq['split_persons'] * 100:.2f}%", f"{sq['split_persons'] * 100:.2f}%"),
        ("ids merging people", f"{zq['merged_ids'] * 100:.2f}%", f"{sq['merged_ids'] * 100:.2f}%"),
    ]


def markdown(results):
    """One markdown table: a Zonewise and a Splink column per size. An engine that
    failed gets its reason in every cell of its column."""
    header = ["measure"]
    for r in results:
        header += [f"Zonewise {r['families']:,}", f"Splink {r['families']:,}"]
    columns = []
    for r in results:
        if r["zonewise"] and r["splink"]:
            rows = table_rows(r["zonewise"], r["splink"])
            columns += [[row[1] for row in rows], [row[2] for row in rows]]
        else:
            columns += [[r["zonewise_failure"] or "(see Splink)"], [r["splink_failure"] or "(see Zonewise)"]]
    measures = next(([row[0] for row in table_rows(r["zonewise"], r["splink"])]
                     for r in results if r["zonewise"] and r["splink"]), ["outcome"])
    lines = ["| " + " | ".join(header) + " |", "| --- |" + " ---: |" * (len(header) - 1)]
    for k, measure in enumerate(measures):
        cells = [measure] + [column[min(k, len(column) - 1)] for column in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "splink":
        parser = argparse.ArgumentParser(prog="linkage_vs_splink.py splink")
        parser.add_argument("--records", type=Path, required=True)
        parser.add_argument("--memory-limit")
        parser.add_argument("--em-max-pairs", type=float)
        args = parser.parse_args(sys.argv[2:])
        print(json.dumps(run_splink(args.records, args.memory_limit, args.em_max_pairs)))
        return

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zonewise", default="target/release/zonewise", help="the release binary")
    parser.add_argument("--families", default="20000,200000", help="comma list of county sizes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache/zonewise-bench",
                        help="where counties and exported records go")
    parser.add_argument("--memory-limit", default="8GB",
                        help="DuckDB memory limit for both engines ('' for DuckDB's default)")
    parser.add_argument("--em-max-pairs", type=float,
                        help="sample Splink's EM sessions to about this many pairs (default: all)")
    parser.add_argument("--json-out", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args()

    results = []
    for families in [int(f) for f in args.families.split(",")]:
        work = args.work / f"seed-{args.seed}"
        result = {"families": families, "seed": args.seed, "zonewise": None, "splink": None,
                  "zonewise_failure": None, "splink_failure": None}
        results.append(result)
        result["zonewise"], result["zonewise_failure"] = run_zonewise(
            args.zonewise, families, args.seed, work, args.memory_limit)
        if args.json_out:
            args.json_out.write_text(json.dumps(results, indent=2))
        # Without Zonewise's export there is nothing for Splink to link.
        if result["zonewise"]:
            result["splink"], result["splink_failure"] = run_splink_child(
                result["zonewise"]["exported_records"]["path"], args.memory_limit, args.em_max_pairs)
        if args.json_out:
            args.json_out.write_text(json.dumps(results, indent=2))
        print(markdown([result]) + "\n", flush=True)
    if len(results) > 1:
        print(markdown(results))
    import splink

    em = f"EM sampled to {args.em_max_pairs:,.0f} pairs" if args.em_max_pairs else "EM on all pairs"
    print(f"\nSplink {splink.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
          f"seed {args.seed}; DuckDB memory limit {args.memory_limit or 'default'}; Splink {em}")


if __name__ == "__main__":
    main()
