"""Every deployment of the product, declared in one place and validated offline by a test.

`deploy_all` registers them on a process work pool, with the project directory as the
code source, so any worker on a machine with the project checked out at the same path
(or the same image) can run them.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from prefect.schedules import Cron, Schedule

if TYPE_CHECKING:
    from prefect.events.schemas.automations import AutomationCore

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class DeploymentSpec:
    flow_name: str
    name: str
    entrypoint: str
    description: str
    schedules: list[Schedule] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    work_queue: str | None = None  # None: the pool's default queue

    @property
    def full_name(self) -> str:
        return f"{self.flow_name}/{self.name}"


# The queue the worker serves first: the deadline watch (it delivers escalations and staff
# notices) and reconcile (it restarts crashed cases) must not wait behind a burst of case
# runs for a free slot, or nobody hears of anything until the burst has drained.
URGENT_QUEUE = "urgent"
WATCH_CRON = "* * * * *"  # each run watches for about a minute, then the next one starts
DEPARTMENT_CRON = "0 9 5 * *"  # each department summarises its month by the 5th
MONTHLY_CRON = "0 9 7 * *"  # the consolidated monthly analysis is due by the 7th
HALF_YEAR_CRON = "0 9 7 1,7 *"  # the previous half, on 7 January and 7 July
ANNUAL_CRON = "0 9 8 1 *"  # early January, the day after the half-year one
MAIL_CRON = "* * * * *"  # the complaints mailbox is read every minute, when there is one
RETENTION_CRON = "30 3 * * *"  # erasure at night, while no one works on a case
MORNING_CRON = "0 9 * * *"  # each working day's list of open work (other days send none)


def specs(
    timezone: str = "Asia/Shanghai",
    reconcile_cron: str = "*/5 * * * *",
    monthly_cron: str = MONTHLY_CRON,
    half_year_cron: str = HALF_YEAR_CRON,
    annual_cron: str = ANNUAL_CRON,
    department_cron: str = DEPARTMENT_CRON,
    mailbox: bool = False,
    morning_cron: str = MORNING_CRON,
) -> list[DeploymentSpec]:
    mail = [
        DeploymentSpec(
            flow_name="mail-intake",
            name="mail-intake",
            entrypoint="flows/mail_intake.py:mail_intake",
            description="投诉邮箱：新邮件登记为投诉，回复并入原案件 / the complaints mailbox: "
            "new mails become cases, replies join their case",
            schedules=[Cron(MAIL_CRON, timezone=timezone)],
        )
    ]
    return (mail if mailbox else []) + [
        DeploymentSpec(
            flow_name="case-lifecycle",
            name="case-lifecycle",
            entrypoint="flows/case.py:case_lifecycle",
            description="登记一件投诉并处理到关闭 / register a complaint and handle it to closing",
            tags=["投诉"],
        ),
        DeploymentSpec(
            flow_name="reconcile-cases",
            name="reconcile-cases",
            entrypoint="flows/reconcile.py:reconcile_cases",
            description="启动未启动的案件、重启中断的案件 / start unstarted and restart stalled case runs",
            schedules=[Cron(reconcile_cron, timezone=timezone)],
            work_queue=URGENT_QUEUE,
        ),
        DeploymentSpec(
            flow_name="customer-wait",
            name="customer-wait",
            entrypoint="flows/customer_wait.py:customer_wait",
            description="等待客户时暂停计时、客户回复后恢复 / stop a case's SLA clocks while it "
            "waits on the customer, start them again when the customer answers",
            tags=["投诉"],
        ),
        DeploymentSpec(
            flow_name="sla-watch",
            name="sla-watch",
            entrypoint="flows/watch.py:watch_deadlines",
            description="到期预警与逐级升级、同类投诉集中预警、Slack 发送 / fire SLA alerts "
            "and escalations, cluster alerts, deliver Slack messages",
            schedules=[Cron(WATCH_CRON, timezone=timezone)],
            work_queue=URGENT_QUEUE,
        ),
        DeploymentSpec(
            flow_name="analysis-report",
            name="analysis-report",
            entrypoint="flows/report.py:analysis_report",
            description="月度、半年度、年度投诉分析报告 / monthly, half-year and annual "
            "complaint analyses; run it with a period to backfill",
            schedules=[
                Cron(monthly_cron, timezone=timezone, parameters={"kind": "monthly"}),
                Cron(half_year_cron, timezone=timezone, parameters={"kind": "half_year"}),
                Cron(annual_cron, timezone=timezone, parameters={"kind": "annual"}),
            ],
        ),
        DeploymentSpec(
            flow_name="department-summaries",
            name="department-summaries",
            entrypoint="flows/report.py:department_summaries",
            description="各责任部门的月度小结，每月 5 日前发送到部门 / each department's own "
            "summary of the last month, sent to it by the 5th",
            schedules=[Cron(department_cron, timezone=timezone)],
        ),
        DeploymentSpec(
            flow_name="morning-list",
            name="morning-list",
            entrypoint="flows/morning.py:morning_list",
            description="每个工作日早上：各部门、各人的待办（逾期、今日到期、等待客户、新转交）/ "
            "each working day's morning: every department's and person's open work",
            schedules=[Cron(morning_cron, timezone=timezone)],
        ),
        DeploymentSpec(
            flow_name="personal-data-retention",
            name="personal-data-retention",
            entrypoint="flows/retention.py:personal_data_retention",
            description="保留期限届满的已关闭案件删除客户个人信息（统计数字不变）/ erase the "
            "customer data of cases closed longer than the retention period ago; the figures "
            "stay the same",
            schedules=[Cron(RETENTION_CRON, timezone=timezone)],
        ),
    ]


UNRESPONSIVE = "投诉-无响应的运行 / runs that lost their process"
MISSED_HEARTBEATS = 3  # silent this many heartbeats: the run's process is gone
# After these a run's process stops saying it is alive on purpose: it has ended, or it
# waits for a person (Suspended) or for a worker (Scheduled, Late, Restarting).
QUIET_STATES = (
    "Completed",
    "Failed",
    "Cancelled",
    "Crashed",
    "Suspended",
    "Paused",
    "Scheduled",
    "Late",
    "Restarting",
)


# Each of these restarts the silence: an event both in `after` and in `expect` is the one
# kind Prefect lets close a window and open the next from itself. With Running only in
# `after`, a resumed run killed before its first heartbeat was never found: the window
# left open by its last heartbeat had already counted the Suspended before the resume,
# and a Running that is not expected does not replace a window that is still open.
SIGNS_OF_LIFE = ("prefect.flow-run.heartbeat", "prefect.flow-run.Running")


def unresponsive_runs(heartbeat_seconds: int, deployment_ids: list[UUID]) -> AutomationCore:
    """Prefect's zombie detection, for the runs of these deployments: a run that started
    running or sent a heartbeat, and then sent nothing for `MISSED_HEARTBEATS` heartbeats
    without ending or suspending, lost its process (a killed worker, a lost machine) and is
    marked Crashed; reconcile-cases restarts a case's run. Starting to run opens the watch
    too, so a process killed before its first heartbeat is found as well; runs of other
    deployments on the same server, which may send no heartbeats, are never touched."""
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    silent = heartbeat_seconds * MISSED_HEARTBEATS
    return AutomationCore(
        name=UNRESPONSIVE,
        description=f"{silent} 秒没有心跳的运行标记为崩溃，案件的运行由 reconcile-cases 重启 / "
        f"a run silent for {silent} s is marked Crashed; reconcile-cases restarts a case's run",
        trigger=EventTrigger(
            after=set(SIGNS_OF_LIFE),
            expect={*SIGNS_OF_LIFE, *(f"prefect.flow-run.{s}" for s in QUIET_STATES)},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            match_related=ResourceSpecification(
                {
                    "prefect.resource.role": "deployment",
                    "prefect.resource.id": [f"prefect.deployment.{i}" for i in deployment_ids],
                }
            ),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=silent),
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                message=f"没有心跳 {silent} 秒：进程已丢失 / no heartbeat for {silent} s: "
                "the run's process is gone",
            )
        ],
    )


RESTART_CRASHED = "投诉-崩溃的案件立即重启 / restart a crashed case at once"


def restart_crashed_cases(case_deployment: UUID, reconcile_deployment: UUID) -> AutomationCore:
    """When a case's run is marked Crashed (its process lost), reconcile-cases runs at once
    and restarts it from the ledger, instead of at its next five-minute turn."""
    from prefect.events.actions import RunDeployment
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    return AutomationCore(
        name=RESTART_CRASHED,
        description="案件的运行崩溃后立即运行 reconcile-cases，从台账重启 / a case run marked "
        "Crashed starts reconcile-cases at once, which restarts it from the ledger",
        trigger=EventTrigger(
            expect={"prefect.flow-run.Crashed"},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            match_related=ResourceSpecification(
                {
                    "prefect.resource.role": "deployment",
                    "prefect.resource.id": [f"prefect.deployment.{case_deployment}"],
                }
            ),
            posture=Posture.Reactive,
            threshold=1,
            within=timedelta(0),
        ),
        actions=[RunDeployment(source="selected", deployment_id=reconcile_deployment)],
    )


def ensure_unresponsive_detection(
    heartbeat_seconds: int, deployment_ids: list[UUID], restart: tuple[UUID, UUID] | None = None
) -> None:
    """Create or update the automation over these deployments, and (`restart`: the case and
    reconcile deployments) the one that restarts a crashed case at once; with heartbeats
    off (0), remove both."""
    from prefect.client.orchestration import get_client

    wanted = (
        []
        if not heartbeat_seconds
        else [unresponsive_runs(heartbeat_seconds, deployment_ids)]
        + ([restart_crashed_cases(*restart)] if restart else [])
    )
    with get_client(sync_client=True) as client:
        for name in (UNRESPONSIVE, RESTART_CRASHED):
            existing = client.read_automations_by_name(name)
            automation = next((a for a in wanted if a.name == name), None)
            if automation is None:
                for old in existing:
                    client.delete_automation(old.id)
            elif existing:
                client.update_automation(existing[0].id, automation)
            else:
                client.create_automation(automation)


def job_variables(heartbeat_seconds: int) -> dict[str, Any]:
    """What every deployment's runs get from their worker: the heartbeat, when it is on."""
    if not heartbeat_seconds:
        return {}
    return {"env": {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(heartbeat_seconds)}}


def deploy_all(
    work_pool: str,
    timezone: str = "Asia/Shanghai",
    report_crons: dict[str, str] | None = None,
    mailbox: bool = False,
    heartbeat_seconds: int = 0,
) -> list[UUID]:
    """Register every deployment; `report_crons` may replace the report schedules
    (keys monthly, half_year, annual, department) and the morning list's (morning);
    `mailbox`: a mailbox is configured, so the mail intake runs too; `heartbeat_seconds`:
    how often their runs say they are alive (0: never), with the automation that marks a
    run silent for too long Crashed."""
    from prefect import Flow

    ids: dict[str, UUID] = {}
    crons = report_crons or {}
    for spec in specs(
        timezone,
        monthly_cron=crons.get("monthly", MONTHLY_CRON),
        half_year_cron=crons.get("half_year", HALF_YEAR_CRON),
        annual_cron=crons.get("annual", ANNUAL_CRON),
        department_cron=crons.get("department", DEPARTMENT_CRON),
        mailbox=mailbox,
        morning_cron=crons.get("morning", MORNING_CRON),
    ):
        flow = cast(Flow[..., Any], Flow.from_source(str(PROJECT_ROOT), spec.entrypoint))
        deployment_id = flow.deploy(
            name=spec.name,
            work_pool_name=work_pool,
            description=spec.description,
            schedules=spec.schedules,
            parameters=spec.parameters,
            tags=spec.tags,
            work_queue_name=spec.work_queue,
            job_variables=job_variables(heartbeat_seconds),
            build=False,
            push=False,
            print_next_steps=False,
            ignore_warnings=True,
        )
        ids[spec.name] = cast(UUID, deployment_id)
    restart = (ids["case-lifecycle"], ids["reconcile-cases"])
    ensure_unresponsive_detection(heartbeat_seconds, list(ids.values()), restart)
    return list(ids.values())


def _first_served(client: Any, pool: str) -> None:
    """The urgent queue of the pool, at priority 1: a worker takes its runs first."""
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    try:
        queue = client.read_work_queue_by_name(URGENT_QUEUE, work_pool_name=pool)
    except ObjectNotFound:
        with contextlib.suppress(ObjectAlreadyExists):
            client.create_work_queue(
                name=URGENT_QUEUE,
                work_pool_name=pool,
                priority=1,
                description="先于案件运行：到期监控与重启 / served before case runs: the "
                "deadline watch and reconcile",
            )
        queue = client.read_work_queue_by_name(URGENT_QUEUE, work_pool_name=pool)
    if queue.priority != 1:
        client.update_work_queue(queue.id, priority=1)


def ensure_work_pool(name: str, worker_type: str) -> None:
    """The work pool the deployments run on, of the configured worker type."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client:
        with contextlib.suppress(ObjectAlreadyExists):
            client.create_work_pool(WorkPoolCreate(name=name, type=worker_type))
        existing = client.read_work_pool(name).type
        _first_served(client, name)
    if existing != worker_type:
        raise SystemExit(
            f"work pool {name!r} is of type {existing!r}, the worker type setting says "
            f"{worker_type!r}: set COMPLAINTS_WORKER_TYPE={existing} or delete the pool "
            f"(prefect work-pool delete {name}) and start again"
        )
