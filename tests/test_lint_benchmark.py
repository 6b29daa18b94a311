"""The linter benchmark script runs end to end on a tiny corpus (no thresholds on time)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ROWS = [
    ("acupuncture", "efficacy", "claim", "Acupuncture relieves back pain."),
    ("massage", "mechanism", "claim", "Massage flushes toxins out of tired muscles."),
    ("cupping", "booking", "nonclaim", "Book online or call reception."),
    ("osteopathy", "question", "nonclaim", "Does osteopathy help headaches?"),
]


def test_benchmark_prints_figures_per_category_for_dev_and_heldout(tmp_path):
    for name in ("dev", "heldout"):
        lines = ["therapy\tcategory\tlabel\tsentence", *("\t".join(row) for row in ROWS)]
        (tmp_path / f"{name}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "benchmarks/lint_benchmark.py",
            "--corpus",
            str(tmp_path),
            "--kilobytes",
            "2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    out = result.stdout
    assert "dev: 4 sentences" in out and "heldout: 4 sentences" in out
    assert "efficacy" in out and "recall" in out and "false alarms" in out
    assert out.count("TOTAL: recall") == 2
    assert "KB body" in out
