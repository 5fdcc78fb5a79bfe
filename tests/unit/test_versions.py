"""The pinned versions are the ones installed, and the lock agrees with the project.

prefect's own bounds admit fastapi and SQLAlchemy releases that broke its server here, so
pyproject.toml pins them and constraints.txt locks the whole set. What each pin buys is
proven end to end: the server starts (fastapi), the `sla-watch` cron schedule creates the
runs the escalation tests wait for (SQLAlchemy), the worker keeps its `--limit` with
suspended runs (prefect ≥ 3.9.0, tests/flows/test_bounded_work.py).
"""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = {}
    for requirement in project["dependencies"]:
        if "==" in requirement:
            name, pinned = requirement.split("==")
            found[name.strip().lower()] = pinned.strip()
    return found


def locked() -> dict[str, str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    return {
        name.lower().replace("_", "-"): pinned
        for name, pinned in (line.split("==") for line in lines if "==" in line)
    }


def test_prefect_fastapi_and_sqlalchemy_are_pinned_installed_and_locked_alike() -> None:
    assert pins() == {"prefect": "3.9.1", "fastapi": "0.150.0", "sqlalchemy": "2.0.58"}
    for name, pinned in pins().items():
        assert version(name) == pinned
        assert locked()[name] == pinned


def test_certifi_is_new_enough_for_prefect_3_9() -> None:
    assert Version(version("certifi")) >= Version("2026.10.19")


def test_every_locked_package_is_the_version_installed() -> None:
    wrong = {
        name: (pinned, version(name))
        for name, pinned in locked().items()
        if Version(version(name)) != Version(pinned)
    }
    assert wrong == {}
