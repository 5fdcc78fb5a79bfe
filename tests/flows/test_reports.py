"""End to end: the analysis-report deployment run as the UI's Run form would start it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from complaints.cases import intake
from complaints.timesource import utc_now
from embedded.stack import Stack
from rules.periods import Kind, Period
from tests.flows.support import new_complaint
from tests.integration.slack_server import FakeSlack

pytestmark = pytest.mark.e2e


def test_a_backfilled_monthly_report_is_saved_published_and_posted(
    settings: Any, slack: FakeSlack, product: Stack
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.deployments import run_deployment

    intake.submit(new_complaint(), settings, utc_now())
    month = str(Period.containing(Kind.MONTHLY, utc_now(), settings.tz))

    run = run_deployment(
        "analysis-report/analysis-report",
        parameters={"kind": "monthly", "period": month, "partial": True},  # not over yet
        timeout=180,
    )

    assert run.state is not None and run.state.is_completed(), run.state
    html = Path(settings.reports_dir) / "monthly" / month / "analysis.html"
    assert html.exists() and month in html.read_text(encoding="utf-8")
    with get_client(sync_client=True) as client:
        (artifact,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["analysis-monthly"])),
            limit=1,
        )
    assert month in str(artifact.data)
    shared = [f for f in slack.shared_files() if f.filename == f"monthly-{month}.html"]
    assert shared and shared[-1].channel == "C0REPORTS"
    assert "投诉" in (shared[-1].initial_comment or "")
