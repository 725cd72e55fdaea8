"""Benchmark of ``verbonden demo`` (it runs in every ``make run``): the demo data on a fresh SQLite.

Times ``app.demo.load_demo`` in one process, the way the command runs it (a migrated SQLite file,
one session, one commit): creating the data, and running it again (idempotent: only a new key).
Medians of several runs, each creating the data in a new database; wall time and this process's
CPU time (the CPU figure is the one to trust on a shared, loaded machine). The imports of the
command (about 1-2 s of CPU: numpy, pandas, SQLAlchemy, FastAPI) are not part of it.

Target: creating the demo data takes under 2 s of CPU, so ``make run`` starts within seconds.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_CPU_S = 2.0


def _once(directory: Path, number: int) -> tuple[float, float, float, float, int]:
    from sqlmodel import Session, create_engine

    from app.demo import load_demo
    from app.migrate import upgrade

    url = f"sqlite:///{directory / f'demo-{number}.sqlite3'}"
    upgrade(url)
    engine = create_engine(url)
    timings = []
    responses = 0
    for _ in range(2):  # created, then again
        wall, cpu = time.perf_counter(), time.process_time()
        with Session(engine, expire_on_commit=False) as session:
            result = load_demo(session, base_url="http://127.0.0.1:8000")
            session.commit()
        timings += [time.perf_counter() - wall, time.process_time() - cpu]
        responses = max(responses, result.responses)
    engine.dispose()
    return timings[0], timings[1], timings[2], timings[3], responses


def run(quick: bool) -> list[dict[str, Any]]:
    repeats = 2 if quick else 5
    with tempfile.TemporaryDirectory() as directory:
        _once(Path(directory), 0)  # warm: imports, instrument loading
        runs = [_once(Path(directory), number) for number in range(1, repeats + 1)]
    wall, cpu, again_wall, again_cpu = (statistics.median(run[index] for run in runs) for index in range(4))
    responses = runs[0][4]
    return [
        {"name": "demo data created (wall)", "value": wall, "unit": "s"},
        {
            "name": f"demo data created, {responses} responses (CPU)",
            "value": cpu,
            "unit": "s",
            "target": f"< {TARGET_CPU_S:g} s",
            "ok": cpu < TARGET_CPU_S,
        },
        {"name": "demo again, nothing created (wall)", "value": again_wall, "unit": "s"},
        {"name": "demo again, nothing created (CPU)", "value": again_cpu, "unit": "s"},
    ]


if __name__ == "__main__":
    for figure in run(quick=os.environ.get("BENCH_QUICK") == "1"):
        print(figure)
