"""Train the claim linter's linear model from the development corpus and write its weights.

    uv run python benchmarks/train_lint_model.py [--cv 5] [--write]

Reads benchmarks/lint_corpus/dev.tsv and our own benchmarks/lint_training_extra.tsv, never the
held-out file. With --cv it prints
cross-validated recall and false-flag share on dev, the honest estimate while tuning; with
--write it trains on all of dev and writes articles/claim_model.json. Plain Python: logistic
regression with L2 regularisation, trained by AdaGrad, deterministic for a given corpus.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from articles import claim_model
from articles.lint import rule_code
from benchmarks.lint_benchmark import CORPUS, read

# A sentence is flagged from this probability up unless the cross-validated choice says
# otherwise; the aim is at most about 7% false flags, leaving a margin under the 10% target.
TARGET_FALSE_SHARE = 0.07
# A sentence that one of the hand-written patterns matches is flagged from this lower
# probability: the patterns are precise, and the model's job there is to veto hedged text.
RULE_FLOOR = 0.15
EXTRA = Path(__file__).resolve().parent / "lint_training_extra.tsv"
L2 = 1e-2  # chosen by cross-validation on dev; 1e-3 scored the same, this generalises more


def train(examples, *, epochs=40, l2=L2, rate=0.3, seed=7):
    """Logistic regression on (feature names, 0/1) pairs; returns {feature: weight}."""
    weights: dict[str, float] = {}
    squares: dict[str, float] = {}
    order = list(range(len(examples)))
    rng = random.Random(seed)
    for _ in range(epochs):
        rng.shuffle(order)
        for i in order:
            names, label = examples[i]
            total = sum(weights.get(name, 0.0) for name in names)
            predicted = 1 / (1 + math.exp(-max(-30.0, min(30.0, total))))
            error = predicted - label
            for name in names:
                weight = weights.get(name, 0.0)
                gradient = error + l2 * weight
                squares[name] = squares.get(name, 1e-8) + gradient * gradient
                weights[name] = weight - rate * gradient / math.sqrt(squares[name])
    # Weights this small change no decision; dropping them keeps the committed file small.
    return {name: round(weight, 3) for name, weight in weights.items() if abs(weight) >= 0.02}


def fit(rows):
    featured = [(claim_model.features(row["sentence"]), row) for row in rows]
    claim = train([(names, int(row["label"] == "claim")) for names, row in featured])
    categories = sorted({row["category"] for _, row in featured if row["label"] == "claim"})
    claims = [(names, row) for names, row in featured if row["label"] == "claim"]
    category = {
        name: train([(names, int(row["category"] == name)) for names, row in claims], epochs=25)
        for name in categories
    }
    return {"claim": claim, "category": category}


def probability(model, sentence):
    """The model's probability, raised to 1 where a pattern matched and the model agrees."""
    code = rule_code(sentence)
    names = claim_model.features(sentence)
    total = sum(model["claim"].get(name, 0.0) for name in names)
    p = 1 / (1 + math.exp(-max(-30.0, min(30.0, total))))
    if code == "negated" and p < 0.95:
        return 0.0
    return 1.0 if code not in (None, "negated") and p >= RULE_FLOOR else p


def choose_threshold(scored):
    """The lowest threshold whose false-flag share stays within the target."""
    best = 0.5
    for candidate in [i / 100 for i in range(20, 91)]:
        flags = [label for p, label, _ in scored if p >= candidate]
        if flags and flags.count(False) / len(flags) <= TARGET_FALSE_SHARE:
            best = candidate
            break
    return best


def cross_validate(rows, folds):
    rng = random.Random(11)
    shuffled = rows[:]
    rng.shuffle(shuffled)
    scored = []
    for fold in range(folds):
        test = shuffled[fold::folds]
        train_rows = [row for i, row in enumerate(shuffled) if i % folds != fold]
        model = fit(train_rows)
        scored += [
            (probability(model, row["sentence"]), row["label"] == "claim", row["category"])
            for row in test
        ]
    threshold = choose_threshold(scored)
    report(scored, threshold)
    return threshold


def report(scored, threshold):
    total, flagged = Counter(), Counter()
    for p, _, category in scored:
        total[category] += 1
        flagged[category] += p >= threshold
    for category in sorted(total):
        print(f"  {category:<14} {flagged[category]:>4}/{total[category]:<4}")
    flags = [is_claim for p, is_claim, _ in scored if p >= threshold]
    claims = sum(is_claim for _, is_claim, _ in scored)
    print(
        f"threshold {threshold:.2f}: recall {flags.count(True) / claims:.1%}, "
        f"false flags {flags.count(False) / max(1, len(flags)):.1%}"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cv", type=int, default=0)
    parser.add_argument("--write", action="store_true")
    options = parser.parse_args()
    # The extra file holds our own sentences for kinds of text the dev corpus has few of
    # (logistics that mention "most people", needle descriptions, supplements and drips).
    rows = read(CORPUS / "dev.tsv") + read(EXTRA)
    print(f"dev and extra: {len(rows)} sentences")
    threshold = 0.5
    if options.cv:
        threshold = cross_validate(rows, options.cv)
    if options.write:
        model = fit(rows)
        model["threshold"] = threshold
        model["rule_floor"] = RULE_FLOOR
        claim_model.MODEL_PATH.write_text(json.dumps(model, sort_keys=True, indent=0) + "\n")
        print(f"wrote {claim_model.MODEL_PATH} ({len(model['claim'])} claim features)")


if __name__ == "__main__":
    main()
