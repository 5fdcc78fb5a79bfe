"""The analysis report as a reader sees it: in Markdown, as a web page and in a spreadsheet."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, date, datetime

import pytest

from complaints.reporting.render import (
    minutes,
    percent,
    render_csv,
    render_html,
    render_markdown,
    signed_percent,
)
from rules.analysis import (
    DEFINITIONS,
    Change,
    DepartmentRow,
    Figures,
    HandlerRow,
    Kpi,
    Notice,
    OpenCase,
    OverdueSource,
    Quote,
    Rate,
    Review,
    TrendPoint,
)
from rules.charts import NO_COMPLAINTS, RateBar, category_chart, target_chart, trend_chart
from rules.periods import Kind
from tests.markdown import visible
from tests.sample_figures import (
    EMAIL,
    PHONE,
    TEMPLATES,
    TREND_MONTHS,
    counts,
    empty_month,
    figures,
    standing,
)


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def missing_from(text: str, *lines: str) -> list[str]:
    """The lines `text` does not show, in the order given."""
    return [line for line in lines if line not in text]


def rendered(month: Figures) -> dict[str, str]:
    return {
        "markdown": visible(render_markdown(month, TEMPLATES)),
        "html": render_html(month, TEMPLATES),
        "csv": render_csv(month),
    }


@pytest.fixture(scope="module")
def october() -> dict[str, str]:
    return rendered(figures())


@pytest.fixture(scope="module")
def empty() -> dict[str, str]:
    return rendered(empty_month())


def test_rates_read_as_percentages_with_one_decimal_and_a_dash_when_nothing_to_count() -> None:
    assert percent(0.875) == "87.5%"
    assert percent(1.0) == "100.0%"
    assert percent(None) == "—"


def test_changes_carry_their_sign_and_a_dash_when_there_was_nothing_before() -> None:
    assert signed_percent(Change(current=45, previous=40).ratio) == "+12.5%"
    assert signed_percent(Change(current=97, previous=100).ratio) == "−3.0%"
    assert signed_percent(Change(current=40, previous=40).ratio) == "0.0%"
    assert signed_percent(Change(current=5, previous=0).ratio) == "—"


def test_durations_are_in_minutes_and_also_in_hours_from_two_hours_on() -> None:
    assert minutes(28.5) == "28.5 分钟"
    assert minutes(119) == "119 分钟"
    assert minutes(150) == "150 分钟 (2.5 小时)"
    assert minutes(None) == "—"


def test_markdown_headline_shows_volume_change_and_the_main_rates(october: dict[str, str]) -> None:
    text = october["markdown"]

    assert text.startswith("# 月度投诉分析报告（2026-10）")
    assert not missing_from(
        text,
        "2026-10-01 至 2026-10-31（Asia/Shanghai",
        "| 投诉量 / volume | 48 件 | 环比 +20.0%（上期 40 件）；同比 −4.0%（去年同期 50 件） |",
        "| 及时率 / timely rate | 87.5% | 42 / 48 件",
        "| 满意率 / satisfaction rate | 82.5% |",
        "| 回访率 / callback rate | 93.0% |",
        "| 解决率 / resolution rate | 85.4% |",
        "| 首次响应 / first response | 12 分钟 | 中位数；P90 28.5 分钟（48 件） |",
        "| 处理时长 / handling time | 1500 分钟 (25 小时) |",
        "| 期末未结 / still open | 5 件 |",
    )


def test_markdown_kpi_table_gives_each_target_its_verdict(october: dict[str, str]) -> None:
    text = october["markdown"]

    assert "| 解决率 / resolution rate | ≥ 90% | 85.4% | ✗ 未达标 |" in text
    assert (
        "| 首次响应（90%案件） / first response (90 % of cases) | ≤ 30 分钟 / min | 28.5 分钟 / min | ✓ 达标 |"
        in text
    )
    assert "| 满意率 / satisfaction rate | ≥ 85% | 82.5% | ✗ 未达标 |" in text


def test_a_kpi_with_nothing_to_judge_shows_a_dash_not_a_verdict() -> None:
    month = figures(callback=Rate(numerator=0, denominator=0))
    text = visible(render_markdown(month, TEMPLATES))

    assert "| 回访率 / callback rate | ≥ 100% | — | — |" in text


def test_top_five_problems_are_ranked_most_frequent_first(october: dict[str, str]) -> None:
    ranked = re.findall(r"^\| (\d) \| (.+?) \| (\d+) \|", october["markdown"], re.MULTILINE)

    assert ranked == [
        ("1", "产品质量 · 电饭煲", "11"),
        ("2", "产品质量 · 空调", "8"),
        ("3", "物流配送 · 冰箱", "6"),
        ("4", "服务态度 · 热线", "5"),
        ("5", "售后响应 · 洗衣机", "4"),
    ]
    assert "其他 · 会员" not in october["markdown"]


def test_survey_shows_the_average_of_each_dimension(october: dict[str, str]) -> None:
    text = october["markdown"]

    assert "满意率 82.5%（33 / 40）" in text
    assert "| 处理效率 / efficiency | 4.35 |" in text
    assert "| 补偿公平 / fairness | 3.9 |" in text


def test_escalations_are_counted_by_trigger_and_level(october: dict[str, str]) -> None:
    text = october["markdown"]

    assert "本期共触发升级 5 次" in text
    assert "| 超时 / overdue | 一级·部门负责人 / level 1: department head | 4 |" in text
    assert (
        "| 重大投诉 / major complaint | 三级·公司领导 / level 3: company leadership | 1 |" in text
    )


@pytest.mark.parametrize("output", ["markdown", "html"])
def test_the_appendix_states_every_definition(october: dict[str, str], output: str) -> None:
    text = october[output]
    if output == "html":
        text = html.unescape(text)

    missing = [key for key, definition in DEFINITIONS.items() if definition not in text]
    assert not missing


@pytest.mark.parametrize("output", ["markdown", "html", "csv"])
def test_a_customer_phone_or_email_in_a_quote_never_appears_raw(
    october: dict[str, str], output: str
) -> None:
    text = october[output]

    assert PHONE not in text
    assert EMAIL not in text
    assert "138****5678" in text
    assert "z***@example.com" in text


def test_csv_opens_in_excel_as_utf8_with_one_row_per_figure(october: dict[str, str]) -> None:
    text = october["csv"]
    rows = csv_rows(text)
    by_name = {(row["section"], row["name"]): row for row in rows}

    assert text.startswith("\ufeffsection,name,value,unit,numerator,denominator,note")
    assert by_name["概况 / overview", "投诉量 / volume"]["value"] == "48"
    assert by_name["概况 / overview", "环比 / vs previous period"]["value"] == "+20.0"
    timely = by_name["比率 / rates", "及时率 / timely rate"]
    assert (timely["value"], timely["unit"], timely["numerator"], timely["denominator"]) == (
        "87.5",
        "%",
        "42",
        "48",
    )
    assert by_name["类别 / by category", "产品质量"]["value"] == "20"
    assert by_name["类别 / by category", "产品质量"]["note"] == "41.7%"
    handling = by_name["时长 / durations", "处理时长 / handling time 中位数 / median"]
    assert (handling["value"], handling["unit"], handling["note"]) == (
        "1500",
        "分钟 / min",
        "25 小时 / h",
    )
    resolution = by_name["KPI", "解决率 / resolution rate"]
    assert resolution["value"] == "85.4%"
    assert "未达标" in resolution["note"]
    assert len([row for row in rows if row["section"] == "高频问题 / top problems"]) == 5
    assert len([row for row in rows if row["section"].startswith("趋势 / trend")]) == 36


def test_csv_keeps_a_quote_from_being_run_as_a_spreadsheet_formula(october: dict[str, str]) -> None:
    quotes = [
        row["value"] for row in csv_rows(october["csv"]) if row["section"] == "客户原话 / quotes"
    ]

    assert quotes[1].startswith("'=HYPERLINK")


def test_html_is_one_page_with_three_charts_and_nothing_from_the_network(
    october: dict[str, str],
) -> None:
    page = october["html"]
    offline = page.replace('xmlns="http://www.w3.org/2000/svg"', "")

    assert page.startswith("<!doctype html>")
    assert page.count("<svg") == 3
    assert "http://" not in offline
    assert "https://" not in offline
    assert "<script" not in page
    assert "<link" not in page


def test_html_headline_shows_the_figures_and_the_kpi_verdicts(october: dict[str, str]) -> None:
    page = october["html"]

    assert "48" in page and "+20.0%" in page and "−4.0%" in page
    for figure in ("87.5%", "82.5%", "93.0%", "85.4%", "12 分钟", "1500 分钟 (25 小时)"):
        assert figure in page
    assert page.count("✗ 未达标") == 4  # resolution, satisfaction, timely (87.5 % < 95 %), callback
    assert page.count("✓ 达标") == 1


def test_html_escapes_what_customers_wrote() -> None:
    month = figures(
        quotes=[Quote(case_no="TS-1", text="<script>alert(1)</script>", accepted=False)],
        by_category=counts(48, ("<b>产品</b>", 48)),
    )
    page = render_html(month, TEMPLATES)

    assert "<script>" not in page
    assert "<b>产品</b>" not in page
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize("output", ["markdown", "html"])
def test_an_empty_month_says_there_were_no_complaints(empty: dict[str, str], output: str) -> None:
    text = empty[output]

    assert NO_COMPLAINTS in text
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)
    assert "0.0%" not in text


def test_an_empty_month_headline_is_the_notice_not_a_table_of_zeros(empty: dict[str, str]) -> None:
    headline = (
        empty["markdown"].split("### 核心指标 / Headline figures")[1].split("### 投诉分布")[0]
    )

    assert headline.strip().startswith(f"**{NO_COMPLAINTS}**")
    assert "上期 12 件" in headline
    assert "|" not in headline


def test_an_empty_month_still_draws_three_charts_that_say_so(empty: dict[str, str]) -> None:
    page = empty["html"]

    assert page.count("<svg") == 3
    assert page.count(f">{NO_COMPLAINTS}</text>") == 3


def test_an_empty_month_csv_leaves_rates_blank_rather_than_zero(empty: dict[str, str]) -> None:
    rows = {(row["section"], row["name"]): row for row in csv_rows(empty["csv"])}

    assert rows["概况 / overview", "投诉量 / volume"]["value"] == "0"
    timely = rows["比率 / rates", "及时率 / timely rate"]
    assert (timely["value"], timely["denominator"]) == ("", "0")


def test_english_report_has_english_headings_with_the_same_figures() -> None:
    text = visible(render_markdown(figures(), TEMPLATES, language="en"))

    assert text.startswith("# Monthly complaint analysis (2026-10)")
    assert "| Volume | 48 cases | +20.0% on the previous period (40)" in text
    assert "150 min" not in text and "1500 min (25 h)" in text


def test_an_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no templates for language 'fr'"):
        render_markdown(figures(), TEMPLATES, language="fr")


def test_category_chart_labels_each_bar_with_count_and_share() -> None:
    svg = category_chart(counts(48, ("产品质量", 20), ("物流配送", 12)))

    assert svg.startswith("<svg")
    assert ">产品质量</text>" in svg
    assert ">20 · 41.7%</text>" in svg


def test_chart_text_is_escaped() -> None:
    svg = category_chart(counts(2, ('A & B <"x">', 2)))

    assert "A &amp; B &lt;&quot;x&quot;&gt;" in svg


def test_trend_chart_breaks_a_line_where_a_month_has_no_rate() -> None:
    points = [
        TrendPoint(period=m, count=3, timely_rate=None if i == 5 else 0.9, satisfaction_rate=0.8)
        for i, m in enumerate(TREND_MONTHS)
    ]
    svg = trend_chart(points)

    assert svg.count("<polyline") == 3  # timely in two pieces, satisfaction in one
    assert ">2026-10</text>" in svg
    assert ">100%</text>" in svg


def test_target_chart_marks_a_missed_target_and_a_rate_without_data() -> None:
    svg = target_chart(
        [
            RateBar(label="解决率", value=0.854, target=0.9),
            RateBar(label="回访率", value=None, target=1.0),
        ]
    )

    assert ">85.4%</text>" in svg
    assert ">目标 90.0%</text>" in svg
    assert "#b42318" in svg  # drawn in the colour of a missed target
    assert "no data" in svg


def test_charts_with_nothing_to_draw_say_so_instead_of_dividing_by_zero() -> None:
    zero = [
        TrendPoint(period=m, count=0, timely_rate=None, satisfaction_rate=None)
        for m in TREND_MONTHS
    ]

    for svg in (
        category_chart([]),
        category_chart(counts(1, ("x", 0))),
        trend_chart(zero),
        target_chart([]),
    ):
        assert f">{NO_COMPLAINTS}</text>" in svg


def test_kpis_given_by_hand_are_shown_as_given() -> None:
    month = figures(
        kpis=[Kpi(name="回购率 / repurchase", target="≥ 75%", actual="80.0%", met=True)]
    )
    text = visible(render_markdown(month, TEMPLATES))

    assert "| 回购率 / repurchase | ≥ 75% | 80.0% | ✓ 达标 |" in text


@pytest.mark.parametrize("typed", ["+1", "-inf", "-2+3", "=1+1", "@SUM(A1)", "+100元"])
def test_csv_neutralises_every_cell_of_typed_text_a_spreadsheet_would_evaluate(typed: str) -> None:
    month = figures(
        by_handler=counts(30, (typed, 30)),
        quotes=[Quote(case_no="TS-20261015-0001", text=typed, accepted=False)],
    )
    rows = csv_rows(render_csv(month))

    (handler,) = [row for row in rows if row["section"] == "责任人 / attributed handler"]
    (quote,) = [row for row in rows if row["section"] == "客户原话 / quotes"]
    assert handler["name"] == quote["value"] == "'" + typed


def test_csv_numbers_from_the_figures_stay_numbers_also_when_negative() -> None:
    month = figures(volume_mom=Change(current=80, previous=100))
    rows = csv_rows(render_csv(month))

    (change,) = [row for row in rows if row["name"] == "环比 / vs previous period"]
    assert change["value"] == "-20.0"


def test_a_notice_joins_suggestions_that_end_in_a_full_stop_without_doubling_it() -> None:
    notice = Notice(
        department="品质部",
        complaints=3,
        top_problems=["产品质量 · 电热水壶"],
        timely=Rate(numerator=2, denominator=3),
        satisfaction=Rate(numerator=1, denominator=2),
        suggestions=["加强来料检验。", "包装加固；"],
        due=date(2027, 1, 30),
    )
    review = Review(major_cases=[], clusters=[], rising=[], suggestions=[], notices=[notice])
    half_year = figures(kind=Kind.HALF_YEAR, period="2026-H2", review=review)

    for text in (render_markdown(half_year, TEMPLATES), render_html(half_year, TEMPLATES)):
        assert "改进建议：加强来料检验；包装加固。" in text
        assert "。。" not in text


def test_a_department_head_finds_their_row_the_overdue_steps_and_the_open_cases() -> None:
    month = figures(
        departments=[
            DepartmentRow(
                department="物流部",
                **standing(
                    volume=12, timely=(9, 12), satisfied=(7, 8), open_at_end=3, overdue_at_end=2
                ),
            )
        ],
        overdue_sources=[OverdueSource(step="核实 / Verify", department="物流部", count=4)],
        open_cases=[
            OpenCase(
                case_no="TS-20261028-0003",
                received_at=datetime(2026, 10, 28, 2, 0, tzinfo=UTC),
                category="物流配送",
                department="物流部",
                owner="物流-周敏",
                step="执行跟踪 / Execute and track",
                overdue_days=2.5,
            )
        ],
    )
    markdown = render_markdown(month, TEMPLATES)
    page = render_html(month, TEMPLATES)
    csv_text = render_csv(month)

    assert "| 物流部 | 12 | 75.0% | 87.5% | 3 | 2 |" in markdown
    assert "| 核实 / Verify | 物流部 | 4 |" in markdown
    assert "| TS-20261028-0003 | 2026-10-28 | 物流配送 | 物流部 | 物流-周敏 |" in markdown
    assert "TS-20261028-0003" in page and "物流-周敏" in page and "2.5" in page
    rows = csv_rows(csv_text)
    (opened,) = [r for r in rows if r["section"] == "期末未结 / open cases"]
    assert (opened["name"], opened["value"]) == ("TS-20261028-0003", "2.5")


def test_each_handler_finds_their_row_next_to_the_departments_in_every_format() -> None:
    owner = HandlerRow(
        handler="物流-周敏",
        handed_over=True,
        **standing(volume=8, timely=(6, 8), satisfied=(3, 4), open_at_end=2, overdue_at_end=1),
    )
    receiver = owner.model_copy(
        update={"handler": "客服-王芳", "handed_over": False, "volume": 2, "open_at_end": 2}
    )
    month = figures(handlers=[owner, receiver])

    markdown = render_markdown(month, TEMPLATES)
    english = render_markdown(month, TEMPLATES, language="en")
    page = render_html(month, TEMPLATES)
    rows = csv_rows(render_csv(month))

    assert "| 物流-周敏 | 8 | 75.0% | 75.0% | 2 | 1 |" in markdown
    assert "| 客服-王芳（受理人，未交办 / receiver, not handed over） | 2 |" in markdown
    assert markdown.index("按部门 / By department") < markdown.index("按处理人 / By handler")
    assert "| 物流-周敏 | 8 | 75.0% | 75.0% | 2 | 1 |" in english
    assert '<td>物流-周敏</td><td class="num">8</td>' in page
    assert "客服-王芳（受理人，未交办）" in page
    timely = next(
        r
        for r in rows
        if r["section"] == "处理人 / handler 物流-周敏" and r["name"].startswith("及时率")
    )
    assert (timely["value"], timely["numerator"], timely["denominator"]) == ("75.0", "6", "8")


def test_the_markdown_the_prefect_ui_shows_draws_its_charts_in_the_tables(
    october: dict[str, str],
) -> None:
    text = october["markdown"]
    # by category: 产品质量 holds 41.7 % of October's cases: four cells of ten
    (quality,) = [line for line in text.splitlines() if line.startswith("| 产品质量 |")]
    assert quality.endswith("| ████░░░░░░ |")
    # the 12-month trend: the busiest month fills its bar, each bar scaled to it
    trend = [line for line in text.splitlines() if re.match(r"\| 20\d\d-\d\d \|", line)]
    assert len(trend) == 12 and any("██████████" in line for line in trend)


def test_the_report_follows_the_six_parts_of_a_case_report_and_ends_with_recommendations(
    october: dict[str, str],
) -> None:
    parts = re.findall(r"^## (.+)$", october["markdown"], re.MULTILINE)
    assert parts == [
        "一、基本情况 / Basic information",
        "二、问题描述 / Problem description",
        "三、处理情况 / Handling",
        "四、处理结果 / Results",
        "五、改进措施 / Improvement measures",
        "六、总结与建议 / Summary and recommendations",
        "附录：指标口径 / Appendix: definitions",
    ]
    for heading in ("<h2>一、基本情况", "<h2>六、总结与建议"):
        assert heading in october["html"]
