"""How fast the seeded generator streams synthetic complaints, and that it streams.

The demo, the tests and the benchmarks draw their complaints from
`embedded.synthetic.iter_complaints`; a soak or an analysis test of a few years' volume
needs 100,000 of them. Goal: 100,000 in under 30 s on this machine, and the first of a
million-long stream in under a second (it must not build the whole list first). Peak
memory is reported too: a stream holds one complaint at a time.

    .venv/bin/python -m benchmarks.synthetic_stream [--count 100000]
"""

from __future__ import annotations

import argparse
import itertools
import time
import tracemalloc
from datetime import UTC, datetime

from benchmarks.common import log, write_result
from embedded.synthetic import iter_complaints

NAME = "synthetic_stream"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
GOAL_SECONDS = 30.0
FIRST_GOAL_SECONDS = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()

    started = time.perf_counter()
    first = list(itertools.islice(iter_complaints(1_000_000, seed=2026, now=NOW), 3))
    first_seconds = time.perf_counter() - started
    assert len(first) == 3

    tracemalloc.start()
    started = time.perf_counter()
    produced = sum(1 for _ in iter_complaints(args.count, seed=2026, now=NOW))
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    log(f"{produced} complaints in {seconds:.1f} s; first of a million in {first_seconds:.3f} s")
    path = write_result(
        NAME,
        {
            "count": produced,
            "seconds": round(seconds, 2),
            "per_second": round(produced / seconds),
            "goal_seconds": GOAL_SECONDS,
            "goal_met": seconds < GOAL_SECONDS,
            "first_of_a_million_seconds": round(first_seconds, 4),
            "first_goal_met": first_seconds < FIRST_GOAL_SECONDS,
            "peak_traced_memory_bytes": peak,
        },
    )
    log(f"written {path}")


if __name__ == "__main__":
    main()
