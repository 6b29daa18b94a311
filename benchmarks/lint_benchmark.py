"""Measure the claim linter on the labelled corpus: recall, false flags, and speed.

    uv run python benchmarks/lint_benchmark.py [--corpus DIR] [--kilobytes 250]

The corpus is benchmarks/lint_corpus/: ``dev.tsv`` (the linter may be tuned on it) and
``heldout.tsv`` (never tuned on: only this script reads it, and only its totals are looked at).
Each is tab-separated with a header: therapy, category, label (claim|nonclaim), sentence.

Each sentence is linted on its own, as a one-line body. For each category it prints:
  * claim categories: recall, the share of claim sentences flagged;
  * non-claim categories: the share of those sentences flagged (false alarms);
and for the whole file the share of all flags that are false. Then the time to lint a body of
about 250 KB made of the corpus's sentences. It prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from articles.lint import uncited_claims

CORPUS = Path(__file__).resolve().parent / "lint_corpus"


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [row for row in rows if row.get("sentence") and row.get("label")]


def evaluate(rows: list[dict[str, str]]) -> None:
    total, flagged = Counter(), Counter()
    labels: dict[str, str] = {}
    true_flags = false_flags = claims = 0
    for row in rows:
        category, label = row["category"], row["label"]
        labels[category] = label
        total[category] += 1
        is_flagged = bool(uncited_claims(row["sentence"]))
        flagged[category] += is_flagged
        if label == "claim":
            claims += 1
            true_flags += is_flagged
        else:
            false_flags += is_flagged
    print(f"  {'category':<14} {'label':<9} {'n':>5} {'flagged':>8}  measure")
    for category in sorted(total, key=lambda c: (labels[c] != "claim", c)):
        share = flagged[category] / total[category]
        measure = "recall" if labels[category] == "claim" else "false alarms"
        print(
            f"  {category:<14} {labels[category]:<9} {total[category]:>5} "
            f"{flagged[category]:>8}  {measure} {share:6.1%}"
        )
    flags = true_flags + false_flags
    recall = true_flags / claims if claims else 0.0
    false_share = false_flags / flags if flags else 0.0
    print(
        f"  TOTAL: recall {recall:.1%} ({true_flags}/{claims}); "
        f"false flags {false_share:.1%} of {flags} flags"
    )


def timing(rows: list[dict[str, str]], kilobytes: int) -> None:
    sentences = [row["sentence"] for row in rows] or ["Acupuncture relieves back pain."]
    parts, size, i = [], 0, 0
    while size < kilobytes * 1000:
        paragraph = " ".join(sentences[(i + j) % len(sentences)] for j in range(6))
        parts.append(paragraph)
        size += len(paragraph) + 2
        i += 6
    body = "\n\n".join(parts)
    cpu, wall = [], []
    for _ in range(3):
        started, started_cpu = time.perf_counter(), time.process_time()
        findings = uncited_claims(body)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    # CPU time is the figure to compare with the 1 s budget: on a shared machine the wall
    # time also counts the time other processes held the CPU.
    print(
        f"time: {len(body) / 1000:.0f} KB body, {len(findings)} findings, "
        f"{statistics.median(cpu):.2f} s CPU, {statistics.median(wall):.2f} s wall (median of 3)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--kilobytes", type=int, default=250)
    options = parser.parse_args(argv)
    every = []
    for name in ("dev", "heldout"):
        path = options.corpus / f"{name}.tsv"
        if not path.exists():
            print(f"{name}: {path} not found")
            continue
        rows = read(path)
        every.extend(rows)
        print(f"{name}: {len(rows)} sentences")
        evaluate(rows)
    timing(every, options.kilobytes)


if __name__ == "__main__":
    main()
