"""The shipped templates, rendered as customers and handlers will see them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from jinja2 import UndefinedError

from complaints.templating import MessageContext, MessageKind, Renderer
from rules.enums import Language
from tests.markdown import visible

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
LANGUAGES = [language.value for language in Language]
CASE_NO = "TS-20250101-0007"

REPORT_PARTS = {
    "zh-CN": [
        "一、基本信息",
        "二、问题描述",
        "三、处理过程",
        "四、处理结果",
        "五、改进措施",
        "六、总结与建议",
    ],
    "en": [
        "1. Basic information",
        "2. Problem description",
        "3. Handling process",
        "4. Handling result",
        "5. Improvement measures",
        "6. Summary and recommendations",
    ],
}


@pytest.fixture
def renderer() -> Renderer:
    return Renderer(TEMPLATES)


def message_context(**changes: Any) -> MessageContext:
    values: dict[str, Any] = {
        "company_name": "客户服务中心",
        "case_no": CASE_NO,
        "customer_name": "张三",
        "received_at": "2025-01-01 10:00",
        "description": "收到的电饭煲内胆有裂纹",
        "promised_hours": 12.0,
        "explanation": "物流签收记录显示包装完好，出库检验合格。",
        "result": "已为您免费换货，并赠送 50 元优惠券。",
        "reason": "厂家补货需要时间",
        "expected_at": "2025-01-08 18:00",
    }
    return MessageContext(**(values | changes))


def case(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "case_no": CASE_NO,
        "channel": "热线电话",
        "received_at": "2025-01-01 10:00",
        "occurred_at": None,
        "customer_name": "张*",
        "customer_contact": "138****5678",
        "product": "电饭煲",
        "order_no": None,
        "severity": "严重",
        "category": "产品质量",
        "department": "产品部",
        "scope": "部门内",
        "receiver": "李四",
        "description": "内胆有裂纹",
        "demand": "换货",
        "demand_detail": None,
        "status": "处理中",
        "current_step": "核实 / Verify",
        "due_at": "2025-01-01 22:00",
    }
    return values | changes


TIMELINE = [
    {
        "at": "2025-01-01 10:00",
        "step": "登记",
        "actor": "李四",
        "decision": None,
        "summary": "登记",
    },
    {
        "at": "2025-01-01 11:00",
        "step": "核实",
        "actor": "王五",
        "decision": "属实",
        "summary": "已核实",
    },
]


def report_context(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "case": case(),
        "timeline": TIMELINE,
        "result": {
            "resolved": True,
            "satisfied": None,
            "result_summary": "免费换货",
            "survey": {
                "efficiency": 5,
                "resolution": 4,
                "attitude": 5,
                "fairness": 3,
                "average": 4.25,
                "comment": None,
            },
            "follow_up": None,
        },
        "improvement": {
            "root_cause": "包装缓冲不足",
            "improvement": None,
            "attributed_department": None,
            "attributed_employee": None,
        },
        "summary": {
            "hours_taken": 30.0,
            "reopen_count": 0,
            "closed_at": "2025-01-02 16:00",
            "recommendations": None,
        },
    }
    return values | changes


def timeline_context(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "case": case(),
        "timeline": TIMELINE,
        "clocks": [
            {
                "clock": "核实 / Verify",
                "cycle": 1,
                "started": "2025-01-01 10:00",
                "due": "2025-01-01 22:00",
                "warn": "2025-01-01 19:36",
                "level": "二级 L2",
                "done": None,
                "on_time": None,
            }
        ],
        "escalations": [
            {
                "at": "2025-01-02 02:00",
                "level": "二级 L2",
                "audience": "二级·运营总监",
                "trigger": "sla",
                "summary": "超时 / overdue · 二级·运营总监 · 核实 · 逾期 4小时0分",
            }
        ],
        "messages": [
            {"kind": "acknowledgement", "delivery": "email", "status": "sent", "at": "10:01"}
        ],
    }
    return values | changes


@pytest.mark.parametrize("language", LANGUAGES)
def test_timeline_shows_each_deadline_and_the_escalations_it_caused(
    renderer: Renderer, language: str
) -> None:
    document = visible(renderer.case_timeline(language, timeline_context()))

    assert "| 核实 / Verify | 1 | 2025-01-01 10:00 | 2025-01-01 22:00 | 二级 L2 | — |" in document
    assert "| 2025-01-02 02:00 | 二级 L2 | 二级·运营总监 |" in document


def test_every_language_has_every_message_and_document_template() -> None:
    names = [f"{kind}.txt.j2" for kind in MessageKind] + [
        "case_report.md.j2",
        "case_timeline.md.j2",
    ]
    for language in LANGUAGES:
        assert all((TEMPLATES / language / name).is_file() for name in names), language


@pytest.mark.parametrize("language", LANGUAGES)
def test_acknowledgement_promises_the_response_time_in_hours(
    renderer: Renderer, language: str
) -> None:
    message = renderer.message(MessageKind.ACKNOWLEDGEMENT, language, message_context())

    assert CASE_NO in message.subject
    assert CASE_NO in message.body
    assert re.search(r"\b12 (小时|hours)", message.body)
    assert "12.0" not in message.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_acknowledgement_keeps_a_fractional_promise_exact(
    renderer: Renderer, language: str
) -> None:
    message = renderer.message(
        MessageKind.ACKNOWLEDGEMENT, language, message_context(promised_hours=1.5)
    )

    assert "1.5" in message.body


def test_acknowledgement_matches_the_agreed_chinese_wording(renderer: Renderer) -> None:
    message = renderer.message(MessageKind.ACKNOWLEDGEMENT, "zh-CN", message_context())

    assert message.body.startswith(
        f"您好，张三：已收到您的反馈（案件编号 {CASE_NO}），我们将尽快核实处理，"
        "并在 12 小时内答复您。"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_acknowledgement_reads_as_one_spoken_paragraph(renderer: Renderer, language: str) -> None:
    body = renderer.message(MessageKind.ACKNOWLEDGEMENT, language, message_context()).body

    assert "\n" not in body
    assert not re.search(r"https?://|[#*_\[\]<>]", body)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("kind", "case_no_in", "told", "next_step"),
    [
        pytest.param(
            MessageKind.NOT_SUBSTANTIATED,
            ("subject", "body"),
            "explanation",
            {"zh-CN": "回复", "en": "reply"},
            id="not-substantiated-explains-and-invites-a-response",
        ),
        pytest.param(
            MessageKind.RESULT,
            ("subject",),
            "result",
            {"zh-CN": "回访", "en": "call you back"},
            id="result-tells-the-result-and-announces-the-callback",
        ),
    ],
)
def test_a_decision_message_tells_the_decision_and_what_comes_next(
    renderer: Renderer,
    language: str,
    kind: MessageKind,
    case_no_in: tuple[str, ...],
    told: str,
    next_step: dict[str, str],
) -> None:
    context = message_context()
    message = renderer.message(kind, language, context)

    for part in case_no_in:
        assert CASE_NO in getattr(message, part)
    decision = getattr(context, told)
    assert decision and decision in message.body
    assert next_step[language] in message.body


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "zh-CN",
            [
                "处理效率",
                "解决程度",
                "沟通态度",
                "补偿合理性",
                "1 非常不满意",
                "5 非常满意",
                "接受",
            ],
        ),
        (
            "en",
            [
                "Handling efficiency",
                "Degree of resolution",
                "Communication attitude",
                "Fairness of compensation",
                "1 very dissatisfied",
                "5 very satisfied",
                "accept the result",
            ],
        ),
    ],
)
def test_survey_invitation_asks_for_a_rating_on_the_four_dimensions(
    renderer: Renderer, language: str, expected: list[str]
) -> None:
    message = renderer.message(MessageKind.SURVEY_INVITATION, language, message_context())

    assert CASE_NO in message.subject
    for text in expected:
        assert text in message.body


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(MessageKind))
def test_subjects_are_one_stripped_line_and_nothing_shows_none(
    renderer: Renderer, language: str, kind: MessageKind
) -> None:
    message = renderer.message(kind, language, message_context())

    assert message.subject == message.subject.strip()
    assert "\n" not in message.subject
    assert message.body == message.body.strip()
    assert "None" not in message.subject + message.body


def test_the_language_enum_is_accepted_as_a_language(renderer: Renderer) -> None:
    message = renderer.message(MessageKind.RESULT, Language.EN, message_context())

    assert message.subject.startswith("The result")


def test_a_message_missing_a_value_it_needs_fails_instead_of_leaving_a_gap(
    renderer: Renderer,
) -> None:
    with pytest.raises(UndefinedError, match="promised_hours"):
        renderer.message(MessageKind.ACKNOWLEDGEMENT, "zh-CN", message_context(promised_hours=None))


def test_a_document_missing_a_key_fails_instead_of_leaving_a_gap(renderer: Renderer) -> None:
    context = report_context()
    del context["summary"]

    with pytest.raises(UndefinedError, match="summary"):
        renderer.case_report("zh-CN", context)


def test_an_unknown_language_is_a_clear_error_naming_it(renderer: Renderer) -> None:
    with pytest.raises(ValueError, match=r"'fr'.*zh-CN"):
        renderer.message(MessageKind.RESULT, "fr", message_context())
    with pytest.raises(ValueError, match=re.escape("'../zh-CN'")):
        renderer.case_report("../zh-CN", report_context())


def test_a_missing_templates_directory_is_refused_at_construction(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="templates directory not found"):
        Renderer(tmp_path / "nowhere")


@pytest.mark.parametrize("language", LANGUAGES)
def test_case_report_has_exactly_the_six_headed_parts_in_order(
    renderer: Renderer, language: str
) -> None:
    report = visible(renderer.case_report(language, report_context()))

    headings = re.findall(r"^## (.+)$", report, flags=re.MULTILINE)
    assert headings == REPORT_PARTS[language]
    assert report.startswith("# ") and CASE_NO in report.splitlines()[0]


@pytest.mark.parametrize("language", LANGUAGES)
def test_case_report_shows_the_facts_of_each_part(renderer: Renderer, language: str) -> None:
    report = visible(renderer.case_report(language, report_context()))

    for text in [
        "138****5678",
        "内胆有裂纹",
        "王五",
        "免费换货",
        "包装缓冲不足",
        "2025-01-02 16:00",
    ]:
        assert text in report
    assert "4.25" in report
    assert re.search(r"\b30 (小时|hours)", report)


@pytest.mark.parametrize("language", LANGUAGES)
def test_none_renders_as_a_dash_never_as_none(renderer: Renderer, language: str) -> None:
    report = visible(renderer.case_report(language, report_context()))
    timeline = renderer.case_timeline(language, timeline_context())

    for document in (report, timeline):
        assert "None" not in document
        assert "| — |" in document


@pytest.mark.parametrize("language", LANGUAGES)
def test_case_report_without_a_survey_or_timeline_still_has_its_six_parts(
    renderer: Renderer, language: str
) -> None:
    context = report_context(timeline=[])
    context["result"] = context["result"] | {"survey": None, "resolved": False}
    report = visible(renderer.case_report(language, context))

    assert re.findall(r"^## (.+)$", report, flags=re.MULTILINE) == REPORT_PARTS[language]
    assert "None" not in report


@pytest.mark.parametrize("language", LANGUAGES)
def test_timeline_title_names_the_case_its_grading_status_and_due_step(
    renderer: Renderer, language: str
) -> None:
    title = renderer.case_timeline(language, timeline_context()).splitlines()[0]

    for text in [CASE_NO, "严重", "产品质量", "处理中", "核实 / Verify", "2025-01-01 22:00"]:
        assert text in title


@pytest.mark.parametrize("language", LANGUAGES)
def test_timeline_lists_the_steps_and_the_messages_sent(renderer: Renderer, language: str) -> None:
    document = visible(renderer.case_timeline(language, timeline_context()))

    assert "| 2025-01-01 11:00 | 核实 | 王五 | 属实 | 已核实 |" in document
    assert "| 10:01 | acknowledgement | email | sent |" in document
    assert "138****5678" in document


def test_a_closed_case_timeline_has_no_current_step_in_its_title(renderer: Renderer) -> None:
    context = timeline_context(case=case(status="已关闭", current_step=None, due_at=None))

    title = renderer.case_timeline("zh-CN", context).splitlines()[0]

    assert "已关闭" in title
    assert "当前步骤" not in title


def test_free_text_with_pipes_and_line_breaks_stays_in_one_table_cell(
    renderer: Renderer,
) -> None:
    context = timeline_context(case=case(description="第一行 | 含竖线\n第二行"))

    document = renderer.case_timeline("zh-CN", context)

    assert "| 事件描述 | 第一行 \\| 含竖线 第二行 |" in document


@pytest.mark.parametrize(
    ("language", "words"), [("zh-CN", "前完成"), ("en", "expect to complete it by")]
)
def test_a_delay_notice_says_why_and_the_new_expected_time(
    renderer: Renderer, language: str, words: str
) -> None:
    message = renderer.message(MessageKind.DELAY_NOTICE, language, message_context())

    assert CASE_NO in message.subject
    assert "厂家补货需要时间" in message.body
    assert (
        f"2025-01-08 18:00 {words}" in message.body or f"{words} 2025-01-08 18:00" in message.body
    )
