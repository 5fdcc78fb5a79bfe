"""SMS to customers through a provider's SDK, behind a small interface.

`SmsProvider` is what the product needs of a provider: send one templated message, and
read the delivery report of one sent. `AliyunSms` is Alibaba Cloud SMS (dysmsapi
2017-05-25) through its own SDK; its endpoint is a setting, so tests point it at a local
stand-in that speaks the same API. Tencent Cloud SMS can follow as a second class.

A provider answers in three ways, and the product acts on each:
- accepted: the provider's id of the sending (its delivery report is asked for by it);
- refused for good (a number that is not a mobile, a number the carrier blocks, a template
  not approved): the message becomes a call script, as an e-mail refused for good does;
- not now (throttled, a network or server failure): `SmsUnavailable`; the step retries.
The AccessKey secret appears in no log line and no error.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from complaints.settings import Settings, secret_from_block

logger = logging.getLogger(__name__)

# The provider's answers that will not change by trying again (Alibaba Cloud SMS error
# codes); anything else it refuses is taken as passing (throttling, its own failures).
PERMANENT = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.INVALID_PARAMETERS",
        "isv.INVALID_JSON_PARAM",
        "isv.DENY_IP_RANGE",
        "isv.DAY_LIMIT_CONTROL",
    }
)


class SmsUnavailable(RuntimeError):
    """The provider could not take the message now; trying later may succeed."""


@dataclass(frozen=True)
class Sent:
    """Accepted (`ref`: the provider's id of the sending), or refused for good (`refused`)."""

    ref: str | None = None
    refused: str | None = None


@dataclass(frozen=True)
class Report:
    """A delivery report: delivered to the handset, failed for good, or not known yet."""

    delivered: bool = False
    failed: str | None = None


class SmsProvider(Protocol):
    def send(self, phone: str, template: str, params: dict[str, str], out_id: str) -> Sent: ...

    def report(self, phone: str, ref: str, sent_at: datetime) -> Report: ...


class AliyunSms:
    """Alibaba Cloud SMS through `alibabacloud_dysmsapi20170525`."""

    def __init__(self, settings: Settings) -> None:
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import utils_models

        sms = settings.sms
        timeout_ms = int(sms.timeout_seconds * 1000)
        self._tz = ZoneInfo("Asia/Shanghai")  # the provider's dates are Beijing time
        self._sign_name = sms.sign_name or ""
        self._secret = _secret(settings)
        self._client = Client(
            utils_models.Config(
                access_key_id=sms.access_key_id,
                access_key_secret=self._secret,
                endpoint=sms.endpoint,
                protocol=sms.protocol,
                connect_timeout=timeout_ms,
                read_timeout=timeout_ms,
            )
        )

    def send(self, phone: str, template: str, params: dict[str, str], out_id: str) -> Sent:
        from alibabacloud_dysmsapi20170525 import models

        request = models.SendSmsRequest(
            phone_numbers=phone,
            sign_name=self._sign_name,
            template_code=template,
            template_param=json.dumps(params, ensure_ascii=False),
            out_id=out_id,
        )
        body = self._call(lambda: self._client.send_sms(request).body)
        if body.code == "OK":
            return Sent(ref=str(body.biz_id))
        reason = f"{body.code}: {body.message}"
        if body.code in PERMANENT:
            return Sent(refused=reason)
        raise SmsUnavailable(f"the SMS provider did not take it now ({reason})")

    def report(self, phone: str, ref: str, sent_at: datetime) -> Report:
        from alibabacloud_dysmsapi20170525 import models

        request = models.QuerySendDetailsRequest(
            phone_number=phone,
            biz_id=ref,
            send_date=f"{sent_at.astimezone(self._tz):%Y%m%d}",
            page_size=10,
            current_page=1,
        )
        body = self._call(lambda: self._client.query_send_details(request).body)
        if body.code != "OK":
            raise SmsUnavailable(f"no delivery report now ({body.code}: {body.message})")
        details = body.sms_send_detail_dtos.sms_send_detail_dto if body.sms_send_detail_dtos else []
        if not details:
            return Report()
        status = details[0].send_status  # 1 waiting for the carrier, 2 failed, 3 delivered
        if status == 3:
            return Report(delivered=True)
        if status == 2:
            return Report(failed=str(details[0].err_code or "failed"))
        return Report()

    def _call(self, call: Callable[[], Any]) -> Any:
        """The SDK's answer; SmsUnavailable (without the secret) when it could not be had."""
        try:
            return call()
        except Exception as exc:  # the SDK raises its own exceptions for network failures
            text = " ".join(str(exc).split())
            if self._secret:
                text = text.replace(self._secret, "…")
            raise SmsUnavailable(f"could not reach the SMS provider: {text[:300]}") from None


def _secret(settings: Settings) -> str:
    sms = settings.sms
    if sms.access_key_secret is not None:
        return sms.access_key_secret.get_secret_value()
    if sms.access_key_secret_block:
        return secret_from_block(sms.access_key_secret_block, "SMS AccessKey secret")
    return ""


def provider(settings: Settings) -> SmsProvider | None:
    """The configured provider, or None when SMS is not configured."""
    if settings.sms.provider == "aliyun":
        return AliyunSms(settings)
    return None
