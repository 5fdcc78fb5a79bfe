"""The complaint as it arrives (客户投诉登记表), validated before anything is written."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from rules.enums import Category, Channel, Demand, Language, Severity
from rules.fields import (
    DEFAULT_LIMITS,
    FULL_WIDTH_DIGITS,
    Flag,
    InputLimits,
    Line,
    Moment,
    Prose,
    in_the_past,
)

MOBILE = re.compile(r"1[3-9][0-9]{9}")
LANDLINE = re.compile(r"0[0-9]{2,3}-?[0-9]{7,8}")

# The rules between fields, and the fields each one is about (a caller is told which).
NO_CONTACT = "至少需要一种联系方式 / give a phone number or an e-mail address"
NO_ON_SPOT_ANSWER = "当场解答需填写解答内容 / on_spot_answer is required when answered"
OCCURRED_AFTER_RECEIPT = "发生时间晚于受理时间 / occurred_at is after received_at"
CROSS_FIELD_RULES: dict[str, tuple[str, ...]] = {
    NO_CONTACT: ("customer_phone", "customer_email"),
    NO_ON_SPOT_ANSWER: ("on_spot_answer",),
    OCCURRED_AFTER_RECEIPT: ("occurred_at", "received_at"),
}


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class ComplaintIn(BaseModel):
    """One complaint as registered by the first receiver (首问责任人)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: Channel = Field(title="投诉渠道 / Channel")
    external_ref: Line | None = Field(
        default=None,
        max_length=100,
        title="渠道编号 / Channel reference",
        description="来电流水号、工单号、邮件 ID 等；同一渠道同一编号只登记一次。"
        " The call, ticket or message id: the same channel and id register one case.",
    )
    customer_name: Line = Field(min_length=1, max_length=50, title="客户姓名 / Customer name")
    customer_phone: str | None = Field(default=None, max_length=30, title="联系电话 / Phone")
    customer_email: EmailStr | None = Field(default=None, title="电子邮箱 / E-mail")
    description: Prose = Field(min_length=5, max_length=2000, title="事件描述 / What happened")
    demand: Demand = Field(title="客户诉求 / Customer demand")
    demand_detail: Prose | None = Field(
        default=None, max_length=500, title="诉求说明 / Demand in the customer's words"
    )
    product: Line | None = Field(
        default=None, max_length=100, title="产品/服务 / Product or service"
    )
    order_no: Line | None = Field(default=None, max_length=64, title="订单号 / Order number")
    occurred_at: Moment | None = Field(default=None, title="发生时间 / When it happened")
    received_at: Moment | None = Field(
        default=None, title="受理时间 / When it was received", description="默认为登记时刻"
    )
    severity: Severity = Field(default=Severity.GENERAL, title="初步等级 / Initial severity")
    category: Category | None = Field(default=None, title="初步分类 / Initial category")
    receiver: Line = Field(min_length=1, max_length=50, title="受理人 / Received by")
    answered_on_spot: Flag = Field(default=False, title="已当场解答 / Answered on the spot")
    on_spot_answer: Prose | None = Field(
        default=None, max_length=2000, title="当场解答内容 / The answer given"
    )
    language: Language = Field(default=Language.ZH_CN, title="客户语言 / Customer language")

    _strip_optional = field_validator(
        "external_ref",
        "customer_phone",
        "demand_detail",
        "product",
        "order_no",
        "on_spot_answer",
        mode="before",
    )(lambda value: _strip(value) or None)

    @field_validator("customer_phone")
    @classmethod
    def _phone_format(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = value.translate(FULL_WIDTH_DIGITS).replace(" ", "").removeprefix("+86")
        if not (MOBILE.fullmatch(digits) or LANDLINE.fullmatch(digits)):
            raise ValueError("不是有效的手机号或座机号 / not a mainland mobile or landline number")
        return digits

    @model_validator(mode="after")
    def _consistent(self) -> ComplaintIn:
        if not self.customer_phone and not self.customer_email:
            raise ValueError(NO_CONTACT)
        if self.answered_on_spot and not self.on_spot_answer:
            raise ValueError(NO_ON_SPOT_ANSWER)
        if self.occurred_at and self.received_at and self.occurred_at > self.received_at:
            raise ValueError(OCCURRED_AFTER_RECEIPT)
        return self

    def timing_problems(self, now: datetime, limits: InputLimits = DEFAULT_LIMITS) -> list[str]:
        """Times that cannot be right now: a receipt in the future or more than the policy's
        days back; an occurrence in the future or years back."""
        return in_the_past(
            "received_at", self.received_at, now, limits.received_max_age_days, limits
        ) + in_the_past("occurred_at", self.occurred_at, now, limits.occurred_max_age_days, limits)

    def idempotency_key(self) -> str | None:
        """Channel + channel reference; None when the channel gave no reference."""
        if not self.external_ref:
            return None
        return f"{self.channel.code}:{self.external_ref}"

    def fingerprint(self) -> str:
        """A stable digest of the content, to tell a true resubmission from a clash."""
        payload = self.model_dump_json(exclude={"received_at"})
        return hashlib.sha256(payload.encode()).hexdigest()[:16]
