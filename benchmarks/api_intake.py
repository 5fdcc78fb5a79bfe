"""How fast complaints come in through the intake API, against the command line, on one stack.

Three ways a complaint arrives, each registering the complaint and creating its flow run:

- `api`: `POST /api/v1/complaints` to the product's web service, as a channel's system
  calls it (a key per channel, a real HTTP client), one call after another;
- `api-burst`: the same calls from 20 submitters at once, unpaced, as a burst from the
  app's backend after an outage would come;
- `cli`: `complaints submit FILE`, a new process per complaint, as a script of the
  hotline team would call it.

The worker is stopped first, so only intake is measured, never the runs' execution.

    .venv/bin/python -m benchmarks.api_intake [--calls 40]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from benchmarks import common
from benchmarks.common import Timer, log

NAME = "api_intake"
BURST_SUBMITTERS = 20


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog=f"benchmarks.{NAME}", description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=40, help="complaints of each kind")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    from complaints.channels import keys
    from complaints.timesource import utc_now
    from rules.enums import Channel

    total = Timer()
    with common.product_stack(NAME) as bench:
        bench.stack.kill_workers()  # nothing executes: only intake is measured
        bench.stack.start_web()
        key = keys.create(bench.settings, "bench-app", Channel.APP, utc_now())
        kinds = {}
        kinds["api"] = api_calls(bench.stack.web_url, key, body_list(args, "api"), 1)
        kinds["api-burst"] = api_calls(
            bench.stack.web_url, key, body_list(args, "burst"), BURST_SUBMITTERS
        )
        kinds["cli"] = cli_calls(bench.stack.env(), body_list(args, "cli", channel="热线电话"))
    result: dict[str, Any] = {"calls_each": args.calls, "kinds": kinds}
    result["api_vs_cli_per_minute"] = round(
        kinds["api"]["per_minute"] / kinds["cli"]["per_minute"], 2
    )
    result["total_seconds"] = round(total.elapsed, 1)
    path = common.write_result(NAME, result)
    log(json.dumps(result, ensure_ascii=False, indent=2))
    log(f"written to {path}")
    return result


def body_list(args: argparse.Namespace, tag: str, channel: str | None = None) -> list[dict]:
    bodies = []
    for complaint in common.complaints_for_verification(args.calls, args.seed, tag):
        body = complaint.model_dump(mode="json", exclude_none=True)
        body.pop("received_at", None)
        if channel is None:
            body.pop("channel", None)  # the key says which channel
        else:
            body["channel"] = channel
        bodies.append(body)
    return bodies


def api_calls(url: str, key: str, bodies: list[dict], submitters: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    errors: list[str] = []

    def one(body: dict) -> float:
        timer = Timer()
        answer = httpx.post(f"{url}/api/v1/complaints", json=body, headers=headers, timeout=120)
        if answer.status_code != 201 or not answer.json()["flow_run_started"]:
            errors.append(f"{answer.status_code} {answer.text[:200]}")
        return timer.elapsed

    wall = Timer()
    with ThreadPoolExecutor(max_workers=submitters) as pool:
        seconds = list(pool.map(one, bodies))
    return summary(seconds, wall.elapsed, errors)


def cli_calls(env: dict[str, str], bodies: list[dict]) -> dict[str, Any]:
    errors: list[str] = []
    seconds = []
    wall = Timer()
    with tempfile.TemporaryDirectory() as folder:
        for index, body in enumerate(bodies):
            path = Path(folder) / f"complaint-{index}.json"
            path.write_text(json.dumps(body, ensure_ascii=False))
            timer = Timer()
            done = subprocess.run(
                [sys.executable, "-m", "complaints.cli", "submit", str(path), "--json"],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            seconds.append(timer.elapsed)
            if done.returncode != 0 or not json.loads(done.stdout or "{}").get("flow_run_id"):
                errors.append((done.stderr or done.stdout)[-200:])
    return summary(seconds, wall.elapsed, errors)


def summary(seconds: list[float], wall: float, errors: list[str]) -> dict[str, Any]:
    return {
        "p50_s": round(common.median(seconds), 3),
        "p95_s": round(common.percentile(seconds, 95), 3),
        "max_s": round(max(seconds), 3),
        "wall_s": round(wall, 1),
        "per_minute": round(60 * len(seconds) / wall, 1),
        "errors": len(errors),
        "first_errors": errors[:3],
    }


if __name__ == "__main__":
    main()
