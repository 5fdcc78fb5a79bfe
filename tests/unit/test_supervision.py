"""Which case runs need the reconcile, asked of Prefect in pages it accepts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from complaints.cases import supervision


class PagedPrefect:
    """Prefect's read_flow_runs in miniature: refuses a limit above 200, as the API does."""

    def __init__(self, runs: list[str]) -> None:
        self.runs = runs
        self.calls = 0

    def __enter__(self) -> PagedPrefect:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def read_flow_runs(self, flow_run_filter: Any, limit: int) -> list[Any]:
        self.calls += 1
        if limit > 200:
            raise RuntimeError("422 Invalid limit: must be less than or equal to 200.")
        wanted = {str(i) for i in flow_run_filter.id.any_}
        state = SimpleNamespace(
            type=SimpleNamespace(value="PAUSED"),
            timestamp=datetime(2026, 12, 1, tzinfo=UTC),
            message=None,
        )
        return [
            SimpleNamespace(id=uuid.UUID(r), state=state, tags=["投诉"])
            for r in self.runs
            if r in wanted
        ][:limit]


def test_more_open_cases_than_one_page_are_all_read(monkeypatch: pytest.MonkeyPatch) -> None:
    import prefect.client.orchestration

    runs = {str(uuid.uuid4()): f"TS-20261201-{n:04d}" for n in range(1, 451)}
    prefect_api = PagedPrefect(list(runs))
    monkeypatch.setattr(prefect.client.orchestration, "get_client", lambda **_: prefect_api)
    statuses = supervision.run_statuses(runs)
    assert sorted(s.case_no for s in statuses) == sorted(runs.values())
    assert prefect_api.calls == 3
