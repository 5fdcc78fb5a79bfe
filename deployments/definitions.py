"""Every deployment of the product, declared in one place and validated offline by a test.

`deploy_all` registers them on a process work pool, with the project directory as the
code source, so any worker on a machine with the project checked out at the same path
(or the same image) can run them.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from prefect.schedules import Cron, Schedule

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

    @property
    def full_name(self) -> str:
        return f"{self.flow_name}/{self.name}"


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


def deploy_all(
    work_pool: str,
    timezone: str = "Asia/Shanghai",
    report_crons: dict[str, str] | None = None,
    mailbox: bool = False,
) -> list[UUID]:
    """Register every deployment; `report_crons` may replace the report schedules
    (keys monthly, half_year, annual, department) and the morning list's (morning);
    `mailbox`: a mailbox is configured, so
    the mail intake runs too."""
    from prefect import Flow

    ids: list[UUID] = []
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
            build=False,
            push=False,
            print_next_steps=False,
            ignore_warnings=True,
        )
        ids.append(cast(UUID, deployment_id))
    return ids


def ensure_work_pool(name: str, worker_type: str) -> None:
    """The work pool the deployments run on, of the configured worker type."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client:
        with contextlib.suppress(ObjectAlreadyExists):
            client.create_work_pool(WorkPoolCreate(name=name, type=worker_type))
        existing = client.read_work_pool(name).type
    if existing != worker_type:
        raise SystemExit(
            f"work pool {name!r} is of type {existing!r}, the worker type setting says "
            f"{worker_type!r}: set COMPLAINTS_WORKER_TYPE={existing} or delete the pool "
            f"(prefect work-pool delete {name}) and start again"
        )
