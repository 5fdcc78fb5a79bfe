"""Every command against hostile input, in-process on a SQLite ledger: refused with exit
status 2 and one line naming what is wrong, no traceback, nothing written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from models.db import engine_for
from models.ledger import Base
from tests.conftest import migrated_sqlite
from tests.hostile import HOSTILE, HOSTILE_TEXT, VALID
from tests.integration.cli_support import COMPLAINT, Result

# A value can be fine on its own and break a rule between fields (approved: false with
# no reason); the line then names the field the rule needs.
CROSS_FIELD = ("explanation_to_customer", "reason", "deadline", "delay_reason")
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1"])
HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def drawn(test: Callable[..., None]) -> Callable[..., None]:
    """The test, run by Hypothesis on `data` it draws, under the settings above."""
    return HYPOTHESIS(given(data=st.data())(test))


def hostile_form(
    data: st.DataObject, model: type[BaseModel], valid: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """A field of `model`, drawn, and the `valid` form with a hostile value drawn for it."""
    field = data.draw(st.sampled_from(sorted(model.model_fields)), label="field")
    return field, {**valid, field: data.draw(HOSTILE, label="value")}


@pytest.fixture
def migrated(ledger: str) -> str:
    return ledger  # `ledger` is a copy of a migrated ledger


def rows(url: str) -> dict[str, int]:
    with engine_for(url).connect() as connection:
        return {
            table.name: connection.execute(
                sa.select(sa.func.count()).select_from(table)
            ).scalar_one()
            for table in Base.metadata.sorted_tables
        }


def refused(result: Result) -> str:
    assert result.code == 2, (result.code, result.out, result.err)
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    return lines[0]


def write(tmp_path: Path, payload: bytes) -> str:
    path = tmp_path / "input.json"
    path.write_bytes(payload)
    return str(path)


@drawn
def test_submit_refuses_a_hostile_complaint_in_one_line_and_writes_nothing(
    run: Any, migrated: str, tmp_path: Path, data: st.DataObject
) -> None:
    from rules.intake import ComplaintIn

    base = {k: v for k, v in COMPLAINT.items() if k != "external_ref"}  # each a new case
    field, form = hostile_form(data, ComplaintIn, base)
    encoding = data.draw(ENCODINGS, label="encoding")
    try:
        payload = json.dumps(form, ensure_ascii=False).encode(encoding)
    except UnicodeEncodeError:
        payload = json.dumps(form).encode(encoding)  # escaped, as JSON allows
    before = rows(migrated)
    result = run("submit", write(tmp_path, payload))
    if result.code == 0:  # accepted: it made sense (the models' own test checks how)
        assert "registered" in result.out
        return
    line = refused(result)
    named = (field, "cannot read", "联系方式", "on_spot", "already used by another complaint")
    assert any(word in line for word in named), line
    assert rows(migrated) == before


@drawn
def test_act_refuses_hostile_step_input_in_one_line_and_writes_nothing(
    run: Any, migrated: str, tmp_path: Path, data: st.DataObject
) -> None:
    from rules.human_steps import STEP_INPUTS

    step, model = data.draw(st.sampled_from(sorted(STEP_INPUTS.items())), label="step")
    field, form = hostile_form(data, model, VALID[model])
    before = rows(migrated)
    payload = json.dumps(form, ensure_ascii=False).encode("utf-8", "surrogatepass")
    line = refused(run("act", "ts-20261201-0001", step.value, "--input", write(tmp_path, payload)))
    # the input is refused naming the field, or the file as not text (a raw control
    # character), or the input is fine and there is no such case
    assert (
        (
            line.startswith(f"complaints: invalid input for {step.value}: ")
            and any(word in line for word in (field, *CROSS_FIELD))
        )
        or line.startswith("complaints: cannot read")
        or line == "complaints: no case TS-20261201-0001"
    ), line
    assert rows(migrated) == before


@HYPOTHESIS
@given(
    argv=st.one_of(
        st.tuples(st.just("hold"), HOSTILE_TEXT, st.just("--reason"), HOSTILE_TEXT),
        st.tuples(st.just("release"), st.just("TS-20261201-0001"), st.just("--note"), HOSTILE_TEXT),
        st.tuples(st.just("show"), HOSTILE_TEXT),
        st.tuples(st.just("list"), st.just("--limit"), HOSTILE_TEXT),
        st.tuples(st.just("escalations"), st.just("--limit"), HOSTILE_TEXT),
        st.tuples(st.just("list"), st.just("--status"), HOSTILE_TEXT),
        st.tuples(st.just("report"), st.just("monthly"), st.just("--period"), HOSTILE_TEXT),
        st.tuples(st.just("report"), HOSTILE_TEXT),
        st.tuples(st.just("retry"), HOSTILE_TEXT),
        st.tuples(st.just("reconcile"), st.just("--limit"), HOSTILE_TEXT),
        st.tuples(
            st.just("key"), st.just("create"), HOSTILE_TEXT, st.just("--channel"), HOSTILE_TEXT
        ),
        st.tuples(st.just("key"), st.just("revoke"), HOSTILE_TEXT),
    )
)
def test_hostile_arguments_are_refused_in_one_line(
    run: Any, migrated: str, argv: tuple[str, ...]
) -> None:
    argv = tuple(a.replace("\x00", "") for a in argv)  # a process argument cannot hold NUL
    before = rows(migrated)
    result = run(*argv)
    if result.code == 0:  # e.g. `list --limit 7` or `--status closed`: a fair question
        assert argv[0] in ("list", "escalations", "reconcile", "key")
        assert not any(c in result.out for c in "\x00\x1b\x07\u202e"), result.out
        return
    line = refused(result)
    assert "\x1b" not in line  # nothing typed reaches the terminal raw
    assert rows(migrated) == before


@pytest.mark.parametrize(
    ("argv", "which"),
    [
        (("key", "revoke", "\ud800"), 3),  # found by the hostile-arguments property test
        (("hold", "TS-20261201-0001", "--reason", "坏\udcff字节"), 4),  # a non-UTF-8 locale's bytes
    ],
)
def test_an_argument_of_undecodable_bytes_is_refused_in_one_line(
    run: Any, migrated: str, argv: tuple[str, ...], which: int
) -> None:
    before = rows(migrated)
    line = refused(run(*argv))
    assert f"argument {which} is not valid text" in line
    assert rows(migrated) == before


def test_a_file_in_gbk_is_registered_like_utf_8(run: Any, tmp_path: Path) -> None:
    payload = json.dumps(COMPLAINT, ensure_ascii=False).encode("gbk")
    result = run("submit", write(tmp_path, payload), "--json")
    assert result.code == 0, result.err
    shown = run("show", result.json()["case_no"].lower(), "--json").json()
    assert shown["case"]["description"] == COMPLAINT["description"]


def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    """`complaints list | head -0`: the reader is gone before the command writes."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPLAINTS_")}
    env.pop("PYTHONUNBUFFERED", None)  # a shell's usual buffered stdout, written at exit
    env["COMPLAINTS_DATABASE_URL"] = migrated_sqlite(tmp_path / "ledger.db")
    process = subprocess.Popen(
        [sys.executable, "-m", "complaints.cli", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err


@pytest.mark.parametrize(
    ("flag", "value", "named"),
    [
        ("--reason", "等客户\x1b[2J补充照片", "--reason"),
        ("--actor", "客服\n王", "actor"),  # a reason may run over lines; a name may not
        ("--reason", "x" * 100_000, "--reason"),
        ("--reason", "   ", "--reason"),
        ("--actor", "客服\x00王", "actor"),
    ],
)
def test_hold_on_a_real_case_refuses_a_hostile_reason_naming_it_and_writes_nothing(
    run: Any, migrated: str, tmp_path: Path, flag: str, value: str, named: str
) -> None:
    case_no = run("submit", write(tmp_path, json.dumps(COMPLAINT).encode())).out.split()[0]
    before = rows(migrated)
    argv = ["hold", case_no, "--reason", "等客户补充照片", flag, value]
    argv = [a.replace("\x00", "\x01") for a in argv]  # a process argument cannot hold NUL

    line = refused(run(*argv))

    assert named in line or "why" in line, line
    assert rows(migrated) == before
    assert run("hold", case_no, "--reason", "等客户补充照片").code == 0  # a fair one is taken


@pytest.mark.parametrize("limit", ["-5", "0", "1001", "1e3", "七"])
def test_a_list_limit_out_of_range_is_refused_not_read_as_everything(
    run: Any, migrated: str, limit: str
) -> None:
    assert "--limit" in refused(run("list", "--limit", limit))


@drawn
def test_a_hostile_rectification_report_is_refused_in_one_line_and_writes_nothing(
    run: Any, migrated: str, tmp_path: Path, data: st.DataObject
) -> None:
    from complaints.reporting.rectification import RectifiedInput

    field, form = hostile_form(
        data, RectifiedInput, {"actor": "物流部-王主管", "note": "已更换承运商。"}
    )
    payload = json.dumps(form, ensure_ascii=False).encode("utf-8", "surrogatepass")
    before = rows(migrated)

    line = refused(run("act", "CA-00001", "rectified", "--input", write(tmp_path, payload)))

    assert (
        line.startswith(f"complaints: invalid input for rectified: {field}")
        or line.startswith("complaints: cannot read")
        or "CA-00001" in line  # the input is fine and there is no such action
    ), line
    assert rows(migrated) == before
