"""A local server that speaks enough of Alibaba Cloud SMS (dysmsapi 2017-05-25) for the
real `alibabacloud_dysmsapi20170525` client pointed at it by its endpoint setting.

It answers `SendSms` and `QuerySendDetails` (the action is the `x-acs-action` header, the
parameters the query string, as the SDK sends them), checks the AccessKey ID in the
request's ACS3 signature header, keeps every accepted message, and can misbehave on
request: refuse a number for good, throttle the next calls, fail delivery of a number.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

HOST = "127.0.0.1"
ACCESS_KEY_ID = "LTAI5tLocalTestKey"
ACCESS_KEY_SECRET = "local-test-secret-do-not-log"


@dataclass(frozen=True)
class Texted:
    """A message the stand-in accepted."""

    phone: str
    sign_name: str
    template: str
    params: dict[str, str]
    out_id: str | None
    biz_id: str


@dataclass
class FakeSms:
    endpoint: str = ""
    texts: list[Texted] = field(default_factory=list)
    refused_numbers: set[str] = field(default_factory=set)  # isv.MOBILE_NUMBER_ILLEGAL
    undelivered_numbers: set[str] = field(default_factory=set)  # report: failed
    _throttled: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def throttle(self, calls: int) -> None:
        """The next `calls` sends are refused as over the rate limit (passing)."""
        with self._lock:
            self._throttled = calls

    def answer(self, action: str, authorization: str, params: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            if f"Credential={ACCESS_KEY_ID}," not in authorization:
                return {"Code": "InvalidAccessKeyId.NotFound", "Message": "no such key"}
            if action == "SendSms":
                return self._send(params)
            if action == "QuerySendDetails":
                return self._details(params)
            return {"Code": "InvalidAction.NotFound", "Message": action}

    def _send(self, params: dict[str, str]) -> dict[str, Any]:
        phone = params.get("PhoneNumbers", "")
        if self._throttled:
            self._throttled -= 1
            return {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发流控 / throttled"}
        if phone in self.refused_numbers:
            return {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号 / not a mobile"}
        biz_id = f"{900000 + len(self.texts)}^0"
        self.texts.append(
            Texted(
                phone=phone,
                sign_name=params.get("SignName", ""),
                template=params.get("TemplateCode", ""),
                params=json.loads(params.get("TemplateParam") or "{}"),
                out_id=params.get("OutId"),
                biz_id=biz_id,
            )
        )
        return {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": f"R{len(self.texts)}"}

    def _details(self, params: dict[str, str]) -> dict[str, Any]:
        sent = [t for t in self.texts if t.biz_id == params.get("BizId")]
        if not sent:
            return {"Code": "OK", "Message": "OK", "TotalCount": 0, "SmsSendDetailDTOs": {}}
        failed = sent[0].phone in self.undelivered_numbers
        detail = {
            "PhoneNum": sent[0].phone,
            "SendStatus": 2 if failed else 3,
            "ErrCode": "IS_CLOSE" if failed else "DELIVERED",
            "TemplateCode": sent[0].template,
            "OutId": sent[0].out_id,
        }
        return {
            "Code": "OK",
            "Message": "OK",
            "TotalCount": 1,
            "SmsSendDetailDTOs": {"SmsSendDetailDTO": [detail]},
        }


def _handler(sms: FakeSms) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8")
            params = dict(parse_qsl(urlsplit(self.path).query)) | dict(parse_qsl(body))
            answer = sms.answer(
                self.headers.get("x-acs-action", ""), self.headers.get("Authorization", ""), params
            )
            payload = json.dumps(answer, ensure_ascii=False).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def sms_server() -> Iterator[FakeSms]:
    """A FakeSms on a free loopback port; its `endpoint` is what the SDK's config takes."""
    sms = FakeSms()
    server = ThreadingHTTPServer((HOST, 0), _handler(sms))
    server.daemon_threads = True
    sms.endpoint = f"{HOST}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield sms
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
