"""Prefect Secret blocks without a Prefect server: each block loads as a value the test
chooses, and the test sees which block names the product asked for."""

from __future__ import annotations

from typing import Any

import pytest


def secret_blocks(monkeypatch: pytest.MonkeyPatch, value: str) -> list[str]:
    """Every `Secret.load(name)` from now on returns `value`; the names loaded, in order."""
    from prefect.blocks.system import Secret

    loaded: list[str] = []

    def load(cls: type[Secret[Any]], name: str, **_: Any) -> Secret[Any]:
        loaded.append(name)
        return Secret(value=value)

    monkeypatch.setattr(Secret, "load", classmethod(load))
    return loaded
