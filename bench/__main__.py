"""Run every ``bench/bench_*.py`` module, print one table of figures and write it as JSON.

Each module exposes ``run(quick: bool) -> list[dict]``; a figure is a dict with ``name``,
``value``, ``unit`` and optionally ``baseline`` (name of the figure compared with), ``ratio``,
``target`` (words) and ``ok`` (bool). Times are medians of several warm runs: the machines are
shared and noisy, so ratios against a baseline measured in the same run are what count.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent


def discover(only: list[str]) -> list[str]:
    names = sorted(path.stem for path in BENCH_DIR.glob("bench_*.py"))
    return [name for name in names if not only or any(part in name for part in only)]


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def print_table(rows: list[dict[str, Any]]) -> None:
    headers = ["benchmark", "figure", "value", "unit", "ratio", "target", "ok"]
    table = [
        [
            row["module"],
            row["name"],
            format_value(row["value"]),
            row.get("unit", ""),
            format_value(row["ratio"]) if row.get("ratio") is not None else "",
            row.get("target", ""),
            {True: "yes", False: "NO", None: ""}[row.get("ok")],
        ]
        for row in rows
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *table, strict=False)]
    for line in [headers, ["-" * width for width in widths], *table]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=False)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("only", nargs="*", help="run only modules whose name contains one of these")
    parser.add_argument("--quick", action="store_true", help="smaller data, fewer repeats (a smoke run)")
    parser.add_argument("--json", type=Path, default=BENCH_DIR / "results.json")
    args = parser.parse_args(argv)

    modules = discover(args.only)
    if not modules:
        print("no benchmarks found under bench/")
        return 0
    rows: list[dict[str, Any]] = []
    for name in modules:
        started = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.{name}")
        for figure in module.run(quick=args.quick):
            rows.append({"module": name.removeprefix("bench_"), **figure})
        print(f"  {name} took {time.perf_counter() - started:.0f}s", file=sys.stderr)
    print_table(rows)
    args.json.write_text(
        json.dumps(
            {
                "python": platform.python_version(),
                "machine": platform.machine(),
                "quick": args.quick,
                "figures": rows,
            },
            indent=2,
            default=str,
        )
    )
    print(f"\nwritten to {args.json}")
    return 1 if any(row.get("ok") is False for row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
