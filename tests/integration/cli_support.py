"""The `complaints` command in-process, for the integration tests: a fresh SQLite ledger,
Prefect at a closed port, and what the command printed and returned."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from complaints.cli import main

UNREACHABLE_PREFECT = "http://127.0.0.1:9/api"  # the discard port: nothing listens there

COMPLAINT: dict[str, Any] = {
    "channel": "热线电话",
    "external_ref": "HL-20261123-000042",
    "customer_name": "张三",
    "customer_phone": "13812345678",
    "customer_email": "zhangsan@example.com",
    "description": "收到的电热水壶底部漏水，用了三天就不能用了。",
    "demand": "换货",
    "product": "电热水壶",
    "severity": "严重",
    "category": "产品质量",
    "receiver": "客服-王芳",
}


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def invoke(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    """Run the command in-process; what it printed and the exit status it returned."""
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return Result(code, out, err)


def assert_one_line(result: Result, *words: str) -> None:
    """The command refused: exit status 2, one line on stderr naming every one of `words`,
    nothing on stdout."""
    assert result.code == 2
    assert result.err.startswith("complaints: ")
    assert result.err.endswith("\n") and result.err.count("\n") == 1, result.err
    for word in words:
        assert word in result.err
    assert result.out == ""
