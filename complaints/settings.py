"""One settings object, read from COMPLAINTS_* environment variables (and a .env file).

Read it with `get_settings()` at run time, never at import time. Secrets are SecretStr:
they never print and never travel as flow parameters.

Longer than most modules on purpose: every setting a company can change is declared,
described and validated here, in one place, with the error naming the variable as the
user wrote it; the policies it validates (SLA, patterns, KPIs) are rules.* models.
"""

from __future__ import annotations

import json
import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from rules.analysis import KpiTargets
from rules.enums import Category, Department, Role
from rules.fields import InputLimits
from rules.patterns import PatternPolicy
from rules.policy_file import build_policy
from rules.routing import DEFAULT_ROUTING
from rules.sla import SlaPolicy

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR = PROJECT_ROOT / "var"


# A flow-run process is ~100-130 MB and mostly busy starting Python and importing Prefect:
# two per core keeps the cores busy while one waits on the server, and bounds the memory.
DEFAULT_WORKER_LIMIT = max(4, 2 * (os.cpu_count() or 2))
MINIMUM_HEARTBEAT_SECONDS = 30  # prefect.flow_engine.MINIMUM_HEARTBEAT_INTERVAL


class SettingsError(RuntimeError):
    """Configuration is invalid; the message names the variable and the reason."""


DEFAULT_CHANNELS = {
    "W": "#complaints",
    "L1": "#complaints-escalations",
    "L2": "#complaints-operations",
    "L3": "#complaints-leadership",
}


class DepartmentContact(BaseModel):
    """Where a responsible department is told in writing: the cases forwarded to it, the
    turns of its people who have no Slack ID or e-mail, its own monthly summary."""

    model_config = ConfigDict(extra="forbid")

    slack_channel: str | None = Field(default=None, description="#channel or channel ID")
    email_to: list[str] = Field(default_factory=list)


class MailboxSettings(BaseModel):
    """The complaints mailbox read over IMAP: each new mail becomes a case (or joins one)."""

    model_config = ConfigDict(extra="forbid")

    host: str | None = Field(default=None, description="IMAP server; unset: no mail intake")
    port: int = Field(default=993, ge=1, le=65535)
    ssl: bool = Field(default=True, description="IMAP over TLS (993); false: plain (143)")
    user: str | None = None
    password: SecretStr | None = None
    password_block: str | None = Field(
        default=None, description="name of a Prefect Secret block holding the password"
    )
    folder: str = Field(default="INBOX", max_length=200)
    batch: int = Field(default=50, ge=1, le=500, description="mails read per pass")
    timeout_seconds: float = Field(default=30, gt=0)
    owner_channel: str | None = Field(
        default=None,
        max_length=80,
        description="Slack channel told of each mail left for a person; unset: the W channel",
    )


class SlackSettings(BaseModel):
    """Where escalations go. Without a token they are recorded and shown, not sent."""

    token: SecretStr | None = Field(default=None, description="bot token (xoxb-...)")
    token_block: str | None = Field(
        default=None, description="name of a Prefect Secret block holding the bot token"
    )
    base_url: str = Field(
        default="https://slack.com/api/", description="Slack Web API address (tests: local)"
    )
    channels: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_CHANNELS),
        description="channel per ladder level: W (warning), L1, L2, L3",
    )
    reports_channel: str = Field(
        default="#complaints-reports", description="where the analysis reports are posted"
    )
    role_channels: dict[Role, str] = Field(
        default_factory=dict,
        description="per role (code or Chinese name): where a turn at its steps is posted "
        "for someone with no Slack ID and no e-mail; unset: the department's channel",
    )
    timeout_seconds: float = Field(default=10, gt=0)
    retry_limit: int = Field(default=3, ge=0, description="retries per call inside one send")
    backoff_seconds: float = Field(
        default=30, gt=0, description="first wait before the outbox retries a failed message"
    )

    @field_validator("role_channels", mode="before")
    @classmethod
    def _roles_by_code(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        by_code = {role.code: role for role in Role}
        return {by_code.get(str(k).strip(), k): v for k, v in value.items()}

    @field_validator("channels")
    @classmethod
    def _every_level(cls, value: dict[str, str]) -> dict[str, str]:
        missing = sorted(set(DEFAULT_CHANNELS) - set(value))
        if missing:
            raise ValueError(f"no Slack channel for level(s) {', '.join(missing)}")
        return value


class SmsSettings(BaseModel):
    """Messages to customers who gave a mainland mobile and no e-mail, by SMS templates.

    Without a provider (or without a message kind's template) the message is kept as a
    call/SMS script for a colleague, as before."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["aliyun"] | None = Field(
        default=None, description="aliyun: Alibaba Cloud SMS (dysmsapi); unset: no SMS"
    )
    access_key_id: str | None = None
    access_key_secret: SecretStr | None = None
    access_key_secret_block: str | None = Field(
        default=None, description="name of a Prefect Secret block holding the AccessKey secret"
    )
    endpoint: str = Field(
        default="dysmsapi.aliyuncs.com", description="the provider's API host (tests: local)"
    )
    protocol: Literal["https", "http"] = "https"
    sign_name: str | None = Field(default=None, description="the approved signature (签名)")
    templates: dict[str, str] = Field(
        default_factory=dict,
        description="approved template code per message kind (acknowledgement, "
        "not_substantiated, result, survey_invitation, delay_notice, verification_late)",
    )
    variable_max_chars: int = Field(
        default=35, ge=1, le=500, description="the provider's longest variable value"
    )
    timeout_seconds: float = Field(default=10, gt=0)
    report_every_seconds: float = Field(
        default=60, gt=0, description="how often delivery reports are asked for"
    )

    @field_validator("templates")
    @classmethod
    def _known_kinds(cls, value: dict[str, str]) -> dict[str, str]:
        from rules.sms import VARIABLES

        unknown = sorted(set(value) - set(VARIABLES))
        if unknown:
            raise ValueError(f"no message kind {', '.join(unknown)} ({', '.join(VARIABLES)})")
        return value

    @model_validator(mode="after")
    def _complete(self) -> SmsSettings:
        if self.provider is None:
            return self
        missing = [
            name
            for name, given in (
                ("access_key_id", self.access_key_id),
                ("access_key_secret", self.access_key_secret or self.access_key_secret_block),
                ("sign_name", self.sign_name),
            )
            if not given
        ]
        if missing:
            raise ValueError(f"SMS by {self.provider} needs {', '.join(missing)}")
        return self


class _Lenient:
    """Nested values that are not JSON stay text: ``COMPLAINTS_SLA__LADDER__LEVEL2_AFTER=4h``
    reaches the model as "4h" (a time limit), where pydantic-settings would try JSON."""

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        try:
            return super().decode_complex_value(field_name, field, value)  # type: ignore[misc]
        except ValueError:
            return value


class _Env(_Lenient, EnvSettingsSource):
    pass


class _DotEnv(_Lenient, DotEnvSettingsSource):
    pass


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COMPLAINTS_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_VAR / 'complaints.db'}",
        description="SQLAlchemy URL of the ledger: sqlite:///path or postgresql+psycopg://...",
    )
    timezone: str = "Asia/Shanghai"
    company_name: str = "客户服务中心"
    sla_file: Path | None = Field(
        default=None, description="TOML file with the SLA policy (see config/sla.example.toml)"
    )
    sla: SlaPolicy = Field(
        default_factory=SlaPolicy,
        description="the policy: the file's values with COMPLAINTS_SLA__* laid over them",
    )
    routing: dict[Category, Department] = Field(default_factory=lambda: dict(DEFAULT_ROUTING))

    patterns: PatternPolicy = Field(
        default_factory=PatternPolicy, description="cluster and repeat-complaint detection"
    )
    slack: SlackSettings = Field(default_factory=SlackSettings)
    mailbox: MailboxSettings = Field(default_factory=MailboxSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    evidence_dir: Path = Field(
        default=DEFAULT_VAR / "evidence",
        description="attachments customers send, kept per case as evidence",
    )
    retention_days: int = Field(
        default=3 * 366,
        ge=1,
        le=36600,
        description="a closed case's customer data is erased this many days after closing",
    )
    input_limits: InputLimits = Field(
        default_factory=InputLimits,
        description="how far from now a typed time may lie (receipt, occurrence, deadlines)",
    )
    kpi: KpiTargets = Field(default_factory=KpiTargets, description="targets the reports judge")
    report_crons: dict[str, str] = Field(
        default_factory=dict,
        description="cron per report kind (monthly, half_year, annual, department) and of "
        "the morning list (morning, default 0 9 * * *: sent on working days only), in `timezone`",
    )
    report_email_to: list[str] = Field(
        default_factory=list,
        description="also e-mail each analysis (HTML and CSV attached) to these addresses",
    )
    departments: dict[str, DepartmentContact] = Field(
        default_factory=dict,
        description="per responsible department (物流部, …): where its monthly summary goes",
    )
    reports_dir: Path = Field(
        default=DEFAULT_VAR / "reports", description="where the analysis reports are saved"
    )

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "complaints@example.com"
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10

    stalled_after_minutes: float = Field(
        default=15,
        gt=0,
        description="a case run Running this long has lost its process and is restarted",
    )
    heartbeat_seconds: int = Field(
        default=30,
        description="every flow run says it is alive this often; one silent for three of "
        "these lost its process and is marked Crashed, and reconcile restarts it; 0 turns "
        "this off (then only stalled_after_minutes finds such runs)",
    )
    watch_every_seconds: float = Field(
        default=5, gt=0, le=30, description="how often the deadline watch polls the ledger"
    )
    work_pool: str = "complaints"
    worker_type: Literal["prefork", "process"] = Field(
        default="prefork",
        description="prefork: flow runs forked from a warm process; process: Prefect's stock worker",
    )
    worker_limit: int = Field(
        default=DEFAULT_WORKER_LIMIT,
        ge=1,
        le=256,
        description="flow-run processes one worker runs at once; more runs wait their turn",
    )
    lifecycle_deployment: str = "case-lifecycle/case-lifecycle"
    ui_url: str = Field(
        default="http://127.0.0.1:4200",
        description="Prefect UI address used in links to a case's run",
    )
    templates_dir: Path = PROJECT_ROOT / "templates"

    api_host: str = Field(
        default="127.0.0.1", description="where the intake API and customer pages listen"
    )
    api_port: int = Field(default=4210, ge=1, le=65535)
    public_url: str = Field(
        default="http://127.0.0.1:4210",
        description="the intake service's address as customers reach it: links in messages",
    )
    api_max_body_bytes: int = Field(
        default=65536, ge=1024, description="larger request bodies are refused (413)"
    )
    link_secret: SecretStr | None = Field(
        default=None,
        description="signs the customer's links; unset: a key made once and kept in the ledger",
    )
    status_link_days: int = Field(default=365, ge=1, description="how long a status link works")
    survey_link_days: int = Field(default=14, ge=1, description="how long a survey link works")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            _Env(settings_cls),
            _DotEnv(settings_cls),
            file_secret_settings,
        )

    @model_validator(mode="before")
    @classmethod
    def _policy_file(cls, data: Any) -> Any:
        """The policy is the file (or the defaults) with COMPLAINTS_SLA__* laid over it."""
        if not isinstance(data, dict):
            return data
        override = data.get("sla")
        if isinstance(override, SlaPolicy) or (override is None and not data.get("sla_file")):
            return data
        if isinstance(override, str):  # COMPLAINTS_SLA='{...}': the whole override as JSON
            override = json.loads(override)
        written: dict[str, Any] | None = None
        path = Path(data["sla_file"]) if data.get("sla_file") else None
        if path is not None:
            try:
                written = tomllib.loads(path.read_text(encoding="utf-8"))
            except OSError as exc:
                raise ValueError(
                    f"cannot read the SLA policy file {path}: {exc.strerror}"
                ) from None
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(f"the SLA policy file {path} is not valid TOML: {exc}") from None
        policy = build_policy(written, str(path) if path else None, override or {})
        return {**data, "sla": policy}

    @field_validator("report_crons")
    @classmethod
    def _known_reports(cls, value: dict[str, str]) -> dict[str, str]:
        known = ("monthly", "half_year", "annual", "department", "morning")
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise ValueError(f"no report kind {', '.join(unknown)} ({', '.join(known)})")
        for kind, cron in value.items():
            if len(cron.split()) != 5:
                raise ValueError(f"{kind}: {cron!r} is not a five-field cron expression")
        return value

    @field_validator("heartbeat_seconds")
    @classmethod
    def _heartbeat_seconds(cls, value: int) -> int:
        if value != 0 and value < MINIMUM_HEARTBEAT_SECONDS:
            raise ValueError(
                f"must be 0 (off) or at least {MINIMUM_HEARTBEAT_SECONDS}: Prefect sends a "
                "flow run's heartbeat no more often than that"
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http:// or https:// address")
        return value.rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:/// and postgresql+psycopg:// URLs are supported")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack.token or self.slack.token_block)

    def department_channel(self, department: Department | None) -> str:
        """Where a department is told in Slack: its own channel, else the warning channel."""
        contact = self.departments.get(department.value) if department else None
        return (contact.slack_channel if contact else None) or self.slack.channels["W"]

    def department_reachable(self, department: Department) -> bool:
        """Whether a notice to the department can go anywhere: Slack, or its addresses."""
        return self.slack_configured or bool(self.department_emails(department))

    def department_emails(self, department: Department | None) -> list[str]:
        contact = self.departments.get(department.value) if department else None
        return list(contact.email_to) if contact and self.smtp_host else []


def _problem(err: Any) -> str:
    """One problem of the configuration, named as the user wrote it."""
    message = str(err["msg"]).removeprefix("Value error, ")
    if not err["loc"]:  # the SLA policy names its own file and keys
        return message
    return f"COMPLAINTS_{'__'.join(str(p) for p in err['loc']).upper()}: {message}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(_problem(err) for err in exc.errors())
        raise SettingsError(f"invalid configuration: {problems}") from None


def secret_from_block(block: str, what: str) -> str:
    """The value of a Prefect Secret block (a token, a password the settings name by
    block); ValueError in one line, naming `what`, when it cannot be read."""
    from typing import cast

    from prefect.blocks.system import Secret  # only here: importing prefect is slow

    try:
        # load() is sync here (no event loop running); the cast tells mypy so.
        value = cast("Secret[Any]", Secret.load(block)).get()
    except Exception as exc:
        raise ValueError(
            f"could not read the {what} from Prefect Secret block {block!r}: {type(exc).__name__}"
        ) from None
    return str(value)
