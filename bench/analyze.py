"""Benchmark the offline intelligence core on one core: rules analyses/s and guardrail checks/s.

Run: .venv/bin/python bench/analyze.py  — prints one JSON object.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REVIEWS = Path(os.environ.get("BENCH_REVIEWS", "/work/shared/data/reviews.csv"))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentiq.settings")
    import django

    django.setup()
    from intelligence.analysis import AnalysisInput, analyze_text
    from intelligence.guardrails import check_reply

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    with REVIEWS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    inputs = [
        AnalysisInput(
            channel="review",
            marketplace="wb",
            text=row["text"],
            rating=int(row["rating"]),
            customer_name="Анна",
            product_name="Товар",
            seed=row["id"],
        )
        for row in rows
    ]

    started = time.perf_counter()
    drafts = [analyze_text(inp).draft for inp in inputs]
    cold = time.perf_counter() - started
    started = time.perf_counter()
    for inp in inputs:
        analyze_text(inp)
    warm = time.perf_counter() - started

    replies = drafts * max(1, 20_000 // len(drafts))
    started = time.perf_counter()
    verdicts = [check_reply(text, marketplace="wb", channel="review") for text in replies]
    checks = time.perf_counter() - started

    print(
        json.dumps(
            {
                "analyses": len(inputs),
                "analyses_per_s_cold": round(len(inputs) / cold),
                "analyses_per_s": round(len(inputs) / warm),
                "guardrail_checks": len(replies),
                "guardrail_checks_per_s": round(len(replies) / checks),
                "avg_reply_chars": round(sum(map(len, drafts)) / len(drafts)),
                "drafts_blocked": sum(v.verdict == "block" for v in verdicts[: len(drafts)]),
                "cores_used": 1,
                "nproc": os.cpu_count(),
                "cpu_model": _cpu_model(),
                "python": platform.python_version(),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
