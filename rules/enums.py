"""The closed vocabularies of the register, with Chinese values and English aliases.

Values are Chinese because they are what people read in the Prefect UI forms, the run
names and the ledger. Scripts may use the English alias (``"serious"`` for ``严重``):
``Enum._missing_`` maps it, so ``Severity("serious") is Severity.SERIOUS``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class _Vocabulary(StrEnum):
    """A StrEnum that also accepts its member names (English) case-insensitively."""

    @classmethod
    def _missing_(cls, value: Any) -> Any:
        if isinstance(value, str):
            wanted = value.strip().lower().replace("-", "_")
            for member in cls:
                if member.name.lower() == wanted:
                    return member
        return None

    @property
    def code(self) -> str:
        """The English alias, used in tags, file names and URLs."""
        return self.name.lower()


class Channel(_Vocabulary):
    HOTLINE = "热线电话"
    CHAT = "在线客服"
    EMAIL = "电子邮件"
    APP = "APP/小程序"
    SOCIAL = "社交媒体"
    LETTER = "信函"
    VISIT = "来访"
    MEETING = "客户座谈"
    SURVEY = "满意度调查"
    VOICE_CALLBACK = "语音回访系统"
    STAFF = "员工反映"
    DEPARTMENT = "其他部门"
    THIRD_PARTY = "第三方转办"


class Demand(_Vocabulary):
    REFUND = "退款"
    EXCHANGE = "换货"
    REPAIR = "维修"
    APOLOGY = "道歉"
    COMPENSATION = "补偿"
    IMPROVE_SERVICE = "改进服务"
    EXPLANATION = "解释说明"


class Severity(_Vocabulary):
    GENERAL = "一般"
    SERIOUS = "严重"
    MAJOR = "重大"


class Category(_Vocabulary):
    PRODUCT_QUALITY = "产品质量"
    SERVICE_ATTITUDE = "服务态度"
    LOGISTICS = "物流配送"
    AFTER_SALES = "售后响应"
    POLICY = "政策误解"
    OTHER = "其他"


class Scope(_Vocabulary):
    """How far the handling must be coordinated; it sets the handling time limit."""

    DEPARTMENT = "部门内"
    CITY = "市级/跨县"
    PREFECTURE = "跨地市"


class Department(_Vocabulary):
    PRODUCT = "产品部"
    CUSTOMER_SERVICE = "客服部"
    LOGISTICS = "物流部"
    AFTER_SALES = "售后部"
    OPERATIONS = "运营部"
    MARKETING = "市场部"
    OTHER = "其他部门"


class Role(_Vocabulary):
    """The roles of the process (PROCESS.md, "Roles"); rules.staff says who may do what."""

    RECEIVER = "受理人"
    HANDLER = "处理人员"  # the complaint-handling team and the responsible departments' staff
    DEPARTMENT_DIRECTOR = "部门总监"
    OPERATIONS_DIRECTOR = "运营总监"
    CALLBACK = "回访专员"
    LEADERSHIP = "公司领导"


class Language(StrEnum):
    ZH_CN = "zh-CN"
    EN = "en"


class CaseStatus(_Vocabulary):
    REGISTERED = "已登记"
    IN_PROGRESS = "处理中"
    CLOSED = "已关闭"


class ProgressKind(_Vocabulary):
    PROGRESS = "进展"
    DELAY = "延期"
    DONE = "完成"


class FeedbackMethod(_Vocabulary):
    PHONE = "电话"
    EMAIL = "邮件"
    SMS = "短信"
