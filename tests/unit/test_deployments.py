"""The deployment definitions, checked offline: no Prefect server is needed."""

from __future__ import annotations

import importlib
import itertools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from cronsim import CronSim
from prefect import Flow
from prefect.client.schemas.schedules import CronSchedule
from prefect.utilities.callables import parameter_schema

from complaints.settings import Settings
from deployments.definitions import PROJECT_ROOT, DeploymentSpec, specs
from rules.intake import ComplaintIn

SHANGHAI = ZoneInfo("Asia/Shanghai")
SPECS = specs()


def spec_named(flow_name: str) -> DeploymentSpec:
    (spec,) = [s for s in SPECS if s.flow_name == flow_name]
    return spec


def reconcile_spec() -> DeploymentSpec:
    """The scheduled sweep, found by its entrypoint file so a rename of the flow keeps it."""
    (spec,) = [s for s in SPECS if s.entrypoint.startswith("flows/reconcile.py:")]
    return spec


def load_flow(spec: DeploymentSpec) -> Any:
    path, function = spec.entrypoint.split(":")
    module = importlib.import_module(Path(path).with_suffix("").as_posix().replace("/", "."))
    return getattr(module, function)


def next_times(spec: DeploymentSpec, after: datetime, count: int) -> list[datetime]:
    (schedule,) = spec.schedules
    times = CronSim(schedule.cron, after.astimezone(ZoneInfo(schedule.timezone)))
    return [next(times) for _ in range(count)]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.full_name)
def test_every_entrypoint_names_a_file_and_a_function(spec: DeploymentSpec) -> None:
    path, separator, function = spec.entrypoint.partition(":")
    assert separator and function.isidentifier()
    assert (PROJECT_ROOT / path).is_file()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.full_name)
def test_every_entrypoint_imports_as_a_prefect_flow_with_the_specs_flow_name(
    spec: DeploymentSpec,
) -> None:
    flow = load_flow(spec)
    assert isinstance(flow, Flow)
    assert flow.name == spec.flow_name


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.full_name)
def test_every_deployment_sets_only_parameters_its_flow_takes(spec: DeploymentSpec) -> None:
    assert set(spec.parameters) <= set(load_flow(spec).parameters.properties)


def test_deployment_names_are_unique() -> None:
    names = [spec.name for spec in SPECS]
    assert len(names) == len(set(names))
    full_names = [spec.full_name for spec in SPECS]
    assert len(full_names) == len(set(full_names))


def test_the_lifecycle_deployment_is_the_one_the_settings_start_runs_of() -> None:
    default = Settings.model_fields["lifecycle_deployment"].default
    assert spec_named("case-lifecycle").full_name == default


def test_the_case_lifecycle_is_started_per_complaint_and_never_scheduled() -> None:
    assert spec_named("case-lifecycle").schedules == []


def test_the_case_lifecycle_flow_takes_a_complaint_and_a_case_number() -> None:
    flow = load_flow(spec_named("case-lifecycle"))
    assert list(flow.parameters.properties) == ["complaint", "case_no"]
    assert flow.parameters == parameter_schema(flow.fn)


def test_the_run_form_of_the_case_lifecycle_shows_every_field_of_the_complaint() -> None:
    schema = load_flow(spec_named("case-lifecycle")).parameters.model_dump()
    complaint = schema["properties"]["complaint"]
    assert {"$ref": "#/definitions/ComplaintIn"} in complaint["anyOf"]
    form = schema["definitions"]["ComplaintIn"]
    assert set(form["properties"]) == set(ComplaintIn.model_fields)
    required = {name for name, field in ComplaintIn.model_fields.items() if field.is_required()}
    assert set(form["required"]) == required
    for name, field in ComplaintIn.model_fields.items():
        assert form["properties"][name]["title"] == field.title


def test_the_reconcile_schedule_is_a_cron_in_shanghai_time_that_prefect_accepts() -> None:
    (schedule,) = reconcile_spec().schedules
    assert schedule.cron is not None
    assert schedule.interval is None and schedule.rrule is None
    assert schedule.timezone == "Asia/Shanghai"
    CronSchedule(cron=schedule.cron, timezone=schedule.timezone)


def test_the_reconcile_schedule_fires_at_the_next_five_minute_marks() -> None:
    after = datetime(2026, 11, 23, 9, 2, tzinfo=SHANGHAI)
    assert next_times(reconcile_spec(), after, 3) == [
        datetime(2026, 11, 23, 9, 5, tzinfo=SHANGHAI),
        datetime(2026, 11, 23, 9, 10, tzinfo=SHANGHAI),
        datetime(2026, 11, 23, 9, 15, tzinfo=SHANGHAI),
    ]


def test_the_reconcile_schedule_fires_only_on_five_minute_boundaries_across_midnight() -> None:
    after = datetime(2026, 11, 23, 23, 41, 30, tzinfo=SHANGHAI)
    times = next_times(reconcile_spec(), after, 12)
    assert all(t.minute % 5 == 0 and t.second == 0 and t.microsecond == 0 for t in times)
    gaps = {later - earlier for earlier, later in itertools.pairwise(times)}
    assert gaps == {timedelta(minutes=5)}
    assert times[0] == datetime(2026, 11, 23, 23, 45, tzinfo=SHANGHAI)


def test_the_deadline_watch_runs_every_minute_and_each_run_covers_its_minute() -> None:
    spec = spec_named("sla-watch")
    after = datetime(2026, 11, 23, 23, 59, 10, tzinfo=SHANGHAI)
    assert next_times(spec, after, 3) == [
        datetime(2026, 11, 24, 0, 0, tzinfo=SHANGHAI),
        datetime(2026, 11, 24, 0, 1, tzinfo=SHANGHAI),
        datetime(2026, 11, 24, 0, 2, tzinfo=SHANGHAI),
    ]
    window = load_flow(spec).parameters.properties["window_seconds"]["default"]
    # A run polls for less than the minute, so two runs never overlap for long, and the
    # next one starts within seconds of it ending: no timer waits for more than that gap.
    assert 30 <= window < 60


AFTER = datetime(2026, 11, 23, 12, 0, tzinfo=SHANGHAI)  # the schedules' next runs from here


def at_nine(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 9, 0, tzinfo=SHANGHAI)


def next_runs(
    flow_name: str, count: int, parameters: dict[str, Any] | None = None
) -> list[datetime]:
    """The next `count` runs after AFTER of the flow's one schedule (with `parameters`)."""
    (spec,) = [s for s in SPECS if s.flow_name == flow_name]
    (schedule,) = [s for s in spec.schedules if parameters is None or s.parameters == parameters]
    times = CronSim(schedule.cron, AFTER.astimezone(ZoneInfo(schedule.timezone)))
    return [next(times) for _ in range(count)]


def report_times(kind: str, count: int) -> list[datetime]:
    return next_runs("analysis-report", count, {"kind": kind})


def test_the_monthly_analysis_runs_on_the_7th_at_nine_in_shanghai() -> None:
    assert report_times("monthly", 3) == [
        at_nine(2026, 12, 7),
        at_nine(2027, 1, 7),
        at_nine(2027, 2, 7),
    ]


def test_the_half_year_analysis_runs_on_7_january_and_7_july() -> None:
    assert report_times("half_year", 3) == [
        at_nine(2027, 1, 7),
        at_nine(2027, 7, 7),
        at_nine(2028, 1, 7),
    ]


def test_the_annual_summary_runs_in_early_january() -> None:
    assert report_times("annual", 2) == [at_nine(2027, 1, 8), at_nine(2028, 1, 8)]


def test_each_report_schedule_passes_a_kind_the_flow_accepts() -> None:
    (spec,) = [s for s in SPECS if s.flow_name == "analysis-report"]
    schema = load_flow(spec).parameters.model_dump()
    kinds = {s.parameters["kind"] for s in spec.schedules}
    assert kinds == {"monthly", "half_year", "annual"}
    assert "period" in schema["properties"]


def test_report_schedules_can_be_changed_in_configuration() -> None:
    custom = specs(monthly_cron="30 8 5 * *")
    (spec,) = [s for s in custom if s.flow_name == "analysis-report"]
    assert {s.cron for s in spec.schedules if s.parameters == {"kind": "monthly"}} == {"30 8 5 * *"}


def test_each_department_summary_runs_on_the_5th_before_the_consolidated_report() -> None:
    assert next_runs("department-summaries", 2) == [at_nine(2026, 12, 5), at_nine(2027, 1, 5)]
    assert report_times("monthly", 1)[0] > at_nine(2026, 12, 5)


def test_the_mail_intake_runs_every_minute_only_where_a_mailbox_is_configured() -> None:
    assert "mail-intake/mail-intake" not in {s.full_name for s in specs()}
    (mail,) = [s for s in specs(mailbox=True) if s.flow_name == "mail-intake"]
    assert [str(s.cron) for s in mail.schedules] == ["* * * * *"]
    module, function = mail.entrypoint.split(":")
    imported = importlib.import_module(module.removesuffix(".py").replace("/", "."))
    assert getattr(imported, function).name == "mail-intake"


def test_the_retention_runs_every_night_at_half_past_three_in_shanghai() -> None:
    spec = spec_named("personal-data-retention")
    after = datetime(2026, 12, 31, 12, 0, tzinfo=SHANGHAI)
    assert next_times(spec, after, 2) == [
        datetime(2027, 1, 1, 3, 30, tzinfo=SHANGHAI),
        datetime(2027, 1, 2, 3, 30, tzinfo=SHANGHAI),
    ]
    assert spec.entrypoint.startswith("flows/retention.py:")


def test_the_morning_list_runs_at_nine_in_shanghai_and_its_time_can_be_changed() -> None:
    spec = spec_named("morning-list")
    friday = datetime(2026, 11, 27, 12, 0, tzinfo=SHANGHAI)
    # every day: the run itself sends nothing on a day the calendar does not work
    assert next_times(spec, friday, 2) == [
        datetime(2026, 11, 28, 9, 0, tzinfo=SHANGHAI),
        datetime(2026, 11, 29, 9, 0, tzinfo=SHANGHAI),
    ]
    (earlier,) = [s for s in specs(morning_cron="30 8 * * *") if s.flow_name == "morning-list"]
    assert next_times(earlier, friday, 1) == [datetime(2026, 11, 28, 8, 30, tzinfo=SHANGHAI)]


def expected_by(trigger: Any, event: str) -> bool:
    from prefect.events.schemas.events import matches

    return any(matches(pattern, event) for pattern in trigger.expect)


def test_a_run_that_stops_sending_heartbeats_without_ending_or_waiting_is_marked_crashed():
    from prefect.client.schemas.objects import StateType

    from deployments.definitions import unresponsive_runs

    ours = [uuid4(), uuid4()]
    automation = unresponsive_runs(heartbeat_seconds=30, deployment_ids=ours)
    trigger = automation.trigger
    assert trigger.posture == "Proactive" and trigger.threshold == 1
    assert trigger.within == timedelta(seconds=90)  # three heartbeats missed
    # Silence is timed from the last heartbeat, or from starting to run: a process killed
    # before its first heartbeat is found too.
    assert trigger.after == {"prefect.flow-run.heartbeat", "prefect.flow-run.Running"}
    assert trigger.for_each == {"prefect.resource.id"}  # each run on its own
    # Only the product's own runs: another flow on the same server may send no heartbeats.
    related = trigger.match_related
    assert set(related["prefect.resource.role"]) == {"deployment"}
    assert set(related["prefect.resource.id"]) == {f"prefect.deployment.{i}" for i in ours}
    # A run that ends, or suspends to wait for a person, or waits for a worker again, stops
    # its heartbeats on purpose: it is not marked.
    for state in ("Completed", "Failed", "Cancelled", "Crashed", "Suspended", "Scheduled"):
        assert expected_by(trigger, f"prefect.flow-run.{state}"), state
    # A heartbeat or starting to run (again, after a resume) closes the window it falls in
    # and opens the next from itself: Prefect restarts the silence only on an event that is
    # both `after` and `expect`. A run resumed and killed before its first heartbeat is
    # found; the Suspended it sent before the resume counts in the window it closed.
    for event in ("heartbeat", "Running"):
        assert expected_by(trigger, f"prefect.flow-run.{event}"), event
    for state in ("Pending", "Cancelling"):
        assert not expected_by(trigger, f"prefect.flow-run.{state}"), state
    (action,) = automation.actions
    assert action.type == "change-flow-run-state" and action.state == StateType.CRASHED


def test_a_crashed_case_run_starts_reconcile_at_once_and_only_a_case_run_does() -> None:
    from prefect.events.schemas.events import matches

    from deployments.definitions import restart_crashed_cases

    case, reconcile = uuid4(), uuid4()
    automation = restart_crashed_cases(case, reconcile)
    trigger = automation.trigger
    assert trigger.posture == "Reactive" and trigger.threshold == 1
    assert [
        e
        for e in ("Crashed", "Failed", "Completed")
        if any(matches(p, f"prefect.flow-run.{e}") for p in trigger.expect)
    ] == ["Crashed"]
    assert set(trigger.match_related["prefect.resource.id"]) == {f"prefect.deployment.{case}"}
    (action,) = automation.actions
    assert action.type == "run-deployment" and action.deployment_id == reconcile


def test_the_watch_and_reconcile_are_served_before_case_runs_and_cases_are_not() -> None:
    from deployments.definitions import URGENT_QUEUE

    assert {s.flow_name for s in SPECS if s.work_queue == URGENT_QUEUE} == {
        "sla-watch",
        "reconcile-cases",
    }
