"""Settings from COMPLAINTS_* environment variables, and the errors get_settings reports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from complaints.settings import Settings, SettingsError, get_settings
from rules.enums import Category, Department, Role, Scope, Severity
from rules.routing import DEFAULT_ROUTING
from rules.sla import SlaPolicy
from rules.steps import Step

EXAMPLE_POLICY = Path(__file__).resolve().parents[2] / "config" / "sla.example.toml"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No COMPLAINTS_* variable or .env file from the machine running the tests leaks in."""
    for name in list(os.environ):
        if name.upper().startswith("COMPLAINTS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_defaults_need_no_configuration():
    settings = Settings()
    assert settings.timezone == "Asia/Shanghai"
    assert settings.tz.key == "Asia/Shanghai"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.sla == SlaPolicy()
    assert settings.routing == DEFAULT_ROUTING
    assert settings.smtp_password is None


@pytest.mark.parametrize(
    ("variable", "value", "attribute", "expected"),
    [
        ("COMPLAINTS_TIMEZONE", "Asia/Urumqi", "timezone", "Asia/Urumqi"),
        ("COMPLAINTS_COMPANY_NAME", "华东客服中心", "company_name", "华东客服中心"),
        (
            "COMPLAINTS_DATABASE_URL",
            "postgresql+psycopg://app@db/complaints",
            "database_url",
            "postgresql+psycopg://app@db/complaints",
        ),
        ("COMPLAINTS_SMTP_HOST", "smtp.example.com", "smtp_host", "smtp.example.com"),
        ("COMPLAINTS_SMTP_PORT", "587", "smtp_port", 587),
        ("COMPLAINTS_SMTP_STARTTLS", "true", "smtp_starttls", True),
        ("COMPLAINTS_SMTP_TIMEOUT_SECONDS", "2.5", "smtp_timeout_seconds", 2.5),
        ("COMPLAINTS_WORK_POOL", "complaints-prod", "work_pool", "complaints-prod"),
        (
            "COMPLAINTS_UI_URL",
            "https://prefect.example.com",
            "ui_url",
            "https://prefect.example.com",
        ),
    ],
)
def test_settings_are_read_from_complaints_environment_variables(
    monkeypatch, variable, value, attribute, expected
):
    monkeypatch.setenv(variable, value)
    assert getattr(Settings(), attribute) == expected


def test_a_variable_without_the_complaints_prefix_is_ignored(monkeypatch):
    monkeypatch.setenv("TIMEZONE", "Europe/Berlin")
    assert Settings().timezone == "Asia/Shanghai"


def test_get_settings_reads_the_environment_once_and_caches_it(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_COMPANY_NAME", "第一")
    first = get_settings()
    monkeypatch.setenv("COMPLAINTS_COMPANY_NAME", "第二")
    assert get_settings() is first
    get_settings.cache_clear()
    assert get_settings().company_name == "第二"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "Asia/Beijing", "CST+8", ""])
def test_an_unknown_time_zone_is_a_settings_error_naming_the_variable(monkeypatch, zone):
    monkeypatch.setenv("COMPLAINTS_TIMEZONE", zone)
    with pytest.raises(SettingsError, match=r"COMPLAINTS_TIMEZONE: .*unknown time zone"):
        get_settings()


@pytest.mark.parametrize("seconds", ["10", "29", "-30"])
def test_a_heartbeat_more_often_than_prefect_sends_one_is_a_settings_error(monkeypatch, seconds):
    monkeypatch.setenv("COMPLAINTS_HEARTBEAT_SECONDS", seconds)
    with pytest.raises(SettingsError, match=r"COMPLAINTS_HEARTBEAT_SECONDS: .*at least 30"):
        get_settings()


@pytest.mark.parametrize("seconds", ["0", "30", "60"])
def test_heartbeats_are_off_at_0_or_at_least_30_seconds_apart(monkeypatch, seconds):
    monkeypatch.setenv("COMPLAINTS_HEARTBEAT_SECONDS", seconds)
    assert get_settings().heartbeat_seconds == int(seconds)


@pytest.mark.parametrize(
    "url",
    ["mysql://app@db/complaints", "mysql+pymysql://app@db/complaints", "oracle://db", "db.sqlite"],
)
def test_an_unsupported_database_url_is_a_settings_error_naming_the_variable(monkeypatch, url):
    monkeypatch.setenv("COMPLAINTS_DATABASE_URL", url)
    with pytest.raises(SettingsError, match=r"COMPLAINTS_DATABASE_URL: .*only sqlite"):
        get_settings()


def test_a_settings_error_names_every_invalid_variable(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_TIMEZONE", "Nowhere/Town")
    monkeypatch.setenv("COMPLAINTS_DATABASE_URL", "mysql://db")
    with pytest.raises(SettingsError) as caught:
        get_settings()
    assert "COMPLAINTS_TIMEZONE" in str(caught.value)
    assert "COMPLAINTS_DATABASE_URL" in str(caught.value)


def test_settings_built_directly_raise_the_validation_error(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_TIMEZONE", "Nowhere/Town")
    with pytest.raises(ValidationError):
        Settings()


def test_one_limit_can_be_overridden_from_the_environment(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_SLA__RESPONSE__MAJOR", "1h")
    sla = Settings().sla
    assert str(sla.response[Severity.MAJOR]) == "1h"
    assert sla.response[Severity.GENERAL] == SlaPolicy().response[Severity.GENERAL]
    assert sla.handling == SlaPolicy().handling


def test_nested_limits_and_the_cluster_window_are_written_as_plain_text(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_SLA__LADDER__LEVEL2_AFTER", "8s")
    monkeypatch.setenv("COMPLAINTS_SLA__LADDER__WARNING_AT", "0.5")
    monkeypatch.setenv("COMPLAINTS_PATTERNS__CLUSTER_WINDOW", "10m")
    settings = Settings()
    assert settings.sla.ladder.level2_after.amount * 3600 == pytest.approx(8)
    assert settings.sla.ladder.warning_at == 0.5
    assert settings.patterns.window.total_seconds() == 600


def test_the_sla_json_accepts_chinese_and_english_names(monkeypatch):
    monkeypatch.setenv(
        "COMPLAINTS_SLA",
        '{"handling": {"department": "8h", "市级/跨县": "24h", "prefecture": "3wd"}}',
    )
    assert {k: str(v) for k, v in Settings().sla.handling.items()} == {
        Scope.DEPARTMENT: "8h",
        Scope.CITY: "24h",
        Scope.PREFECTURE: "3wd",
    }


def test_the_example_policy_file_states_the_defaults(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_SLA_FILE", str(EXAMPLE_POLICY))
    assert Settings().sla == SlaPolicy()


def test_the_policy_file_is_read_and_the_environment_wins(monkeypatch, tmp_path):
    policy = tmp_path / "sla.toml"
    policy.write_text(
        EXAMPLE_POLICY.read_text(encoding="utf-8").replace('major = "2h"', 'major = "90m"')
        + '\n[business_hours]\nstart = "08:30:00"\nend = "17:30:00"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("COMPLAINTS_SLA_FILE", str(policy))
    monkeypatch.setenv("COMPLAINTS_SLA__STEPS__CALLBACK", "3wd")
    sla = Settings().sla
    assert sla.response[Severity.MAJOR].amount == 1.5
    assert str(sla.steps[Step.CALLBACK]) == "3wd"
    assert sla.business_hours is not None and str(sla.business_hours.start) == "08:30:00"


def test_a_missing_or_broken_policy_file_is_named_in_the_error(monkeypatch, tmp_path):
    monkeypatch.setenv("COMPLAINTS_SLA_FILE", str(tmp_path / "nowhere.toml"))
    with pytest.raises(SettingsError, match=r"nowhere\.toml"):
        get_settings()
    broken = tmp_path / "broken.toml"
    broken.write_text("[response\n", encoding="utf-8")
    monkeypatch.setenv("COMPLAINTS_SLA_FILE", str(broken))
    get_settings.cache_clear()
    with pytest.raises(SettingsError, match="not valid TOML"):
        get_settings()


def test_an_unreadable_limit_in_the_policy_names_the_setting(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_SLA__RESPONSE__MAJOR", "two hours")
    with pytest.raises(SettingsError, match="COMPLAINTS_SLA__RESPONSE"):
        get_settings()


def test_a_misspelt_sla_setting_is_a_settings_error_naming_it(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_SLA", '{"response_hours": {"一般": 48}}')
    with pytest.raises(SettingsError, match=r"COMPLAINTS_SLA__RESPONSE_HOURS: Extra inputs"):
        get_settings()


def test_a_non_positive_sla_override_is_a_settings_error(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_SLA", '{"response": {"一般": "48h", "严重": "0h"}}')
    with pytest.raises(SettingsError, match=r"COMPLAINTS_SLA: .*above zero.*response.serious"):
        get_settings()


def test_the_routing_can_be_overridden_with_json(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_ROUTING", '{"物流配送": "运营部"}')
    assert Settings().routing == {Category.LOGISTICS: Department.OPERATIONS}


def test_the_smtp_password_is_a_secret_that_never_prints(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_SMTP_PASSWORD", "hunter2-密码")
    settings = Settings()
    assert isinstance(settings.smtp_password, SecretStr)
    assert settings.smtp_password.get_secret_value() == "hunter2-密码"
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings)
    assert "hunter2" not in settings.model_dump_json()


def test_a_settings_error_does_not_echo_the_smtp_password(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_SMTP_PASSWORD", "hunter2")
    monkeypatch.setenv("COMPLAINTS_TIMEZONE", "Nowhere/Town")
    with pytest.raises(SettingsError) as caught:
        get_settings()
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("written", "said"),
    [
        (
            '[response]\nmajor = "2x"\n',
            r"sla\.toml: \[response\] major: '2x' is not a time limit",
        ),
        (
            '[response]\nhuge = "2h"\n',
            r"sla\.toml: \[response\] huge: no such name 'huge'; the names are 一般/general",
        ),
        ("[ladder]\nwarning_at = 2\n", r"sla\.toml: \[ladder\] warning_at: Input should be"),
        (
            "[response\n",
            r"^invalid configuration: the SLA policy file .*sla\.toml is not valid TOML",
        ),
    ],
)
def test_a_bad_policy_file_is_named_with_the_key_as_the_user_wrote_it(
    monkeypatch, tmp_path, written, said
):
    policy = tmp_path / "sla.toml"
    policy.write_text(written, encoding="utf-8")
    monkeypatch.setenv("COMPLAINTS_SLA_FILE", str(policy))
    with pytest.raises(SettingsError, match=said) as caught:
        get_settings()
    assert "[KEY]" not in str(caught.value) and "COMPLAINTS_:" not in str(caught.value)
    assert "重大" not in str(caught.value).split(":")[2]  # the English key stays English


def test_a_bad_override_is_named_by_its_variable_as_written(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_SLA__RESPONSE__MAJOR", "zz")
    monkeypatch.setenv("COMPLAINTS_SLA__STEPS__PLANNING", "2h")
    with pytest.raises(SettingsError) as caught:
        get_settings()
    assert "COMPLAINTS_SLA__RESPONSE__MAJOR: 'zz' is not a time limit" in str(caught.value)
    assert "COMPLAINTS_SLA__STEPS__PLANNING: no such name 'planning'" in str(caught.value)


def test_customer_data_is_kept_three_years_after_closing_unless_configured(monkeypatch):
    assert Settings().retention_days >= 3 * 365 + 1  # three years, whichever leap day
    monkeypatch.setenv("COMPLAINTS_RETENTION_DAYS", "730")
    assert Settings().retention_days == 730
    monkeypatch.setenv("COMPLAINTS_RETENTION_DAYS", "0")
    with pytest.raises(SettingsError, match="COMPLAINTS_RETENTION_DAYS"):
        get_settings()


def test_departments_and_roles_are_told_where_the_settings_say(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_SLACK__TOKEN", "xoxb-test")
    monkeypatch.setenv(
        "COMPLAINTS_DEPARTMENTS",
        '{"物流部": {"slack_channel": "#logistics", "email_to": ["wuliu@example.com"]}}',
    )
    monkeypatch.setenv("COMPLAINTS_SLACK__ROLE_CHANNELS", '{"department_director": "#directors"}')
    settings = get_settings()
    assert settings.department_channel(Department.LOGISTICS) == "#logistics"
    assert settings.department_channel(Department.PRODUCT) == "#complaints"  # the W channel
    assert settings.department_emails(Department.LOGISTICS) == []  # no SMTP: no e-mail
    assert settings.slack.role_channels == {Role.DEPARTMENT_DIRECTOR: "#directors"}


def test_without_slack_only_departments_with_an_address_and_smtp_can_be_told(monkeypatch):
    from embedded.up import _notice_status

    monkeypatch.setenv("COMPLAINTS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("COMPLAINTS_DEPARTMENTS", '{"物流部": {"email_to": ["wuliu@example.com"]}}')
    settings = get_settings()
    assert settings.department_reachable(Department.LOGISTICS)
    assert not settings.department_reachable(Department.PRODUCT)
    status = _notice_status(settings)
    assert status.startswith("WARNING: 产品部, 客服部") and "物流部" not in status


def test_an_unknown_role_channel_is_a_settings_error_naming_the_variable(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_SLACK__ROLE_CHANNELS", '{"boss": "#bosses"}')
    with pytest.raises(SettingsError, match="COMPLAINTS_SLACK__ROLE_CHANNELS"):
        get_settings()


def test_sms_needs_its_key_and_signature_and_knows_its_message_kinds(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_SMS__PROVIDER", "aliyun")
    with pytest.raises(SettingsError, match="access_key_id, access_key_secret, sign_name"):
        get_settings()
    monkeypatch.setenv("COMPLAINTS_SMS__ACCESS_KEY_ID", "LTAI5t")
    monkeypatch.setenv("COMPLAINTS_SMS__ACCESS_KEY_SECRET", "s")
    monkeypatch.setenv("COMPLAINTS_SMS__SIGN_NAME", "客服中心")
    monkeypatch.setenv("COMPLAINTS_SMS__TEMPLATES", '{"acknowledgment": "SMS_1"}')
    get_settings.cache_clear()
    with pytest.raises(
        SettingsError, match="COMPLAINTS_SMS__TEMPLATES: no message kind acknowledgment"
    ):
        get_settings()
    monkeypatch.setenv("COMPLAINTS_SMS__TEMPLATES", '{"acknowledgement": "SMS_1"}')
    get_settings.cache_clear()
    assert get_settings().sms.templates == {"acknowledgement": "SMS_1"}
