"""The written part of a report: the summary a manager reads first and the recommendations
that close it, made by plain rules over the figures (no model, no network).

Each sentence comes in Chinese and English (`Sentence`); the templates choose.
"""

from __future__ import annotations

from rules.analysis import Figures, KpiTargets, OpenCase, Sentence


def _quoted(text: str) -> str:
    """Free text quoted inside a sentence: its own closing punctuation dropped."""
    return text.strip().rstrip("。；;，,.!！ ")


def _whose(case: OpenCase) -> tuple[str, str]:
    """An open case's department and owner, each named once: the plan's owner, or the
    first receiver who still owns a case with no plan (首问责任制)."""
    if not case.handed_over:
        return (
            f"{case.department}，受理人 {case.owner}，尚未交办",
            f"{case.department}, still with its receiver {case.owner}",
        )
    if case.owner.strip() in {"", case.department}:
        return case.department, case.department
    return f"{case.department}，{case.owner}", f"{case.department}, {case.owner}"


def summary(figures: Figures, targets: KpiTargets) -> list[Sentence]:
    """The summary a manager reads first, written by plain rules over the figures: what
    rose or fell, which targets were missed and by which departments, the main problem and
    cause, and what was left open."""
    if figures.volume == 0:
        return [Sentence(zh="本期无投诉。", en="No complaints in this period.")]
    said: list[Sentence] = []
    change = figures.volume_mom.ratio
    if change is None:
        said.append(
            Sentence(
                zh=f"本期受理投诉 {figures.volume} 件，上期无投诉。",
                en=f"{figures.volume} complaints this period; none the period before.",
            )
        )
    else:
        zh_way = "上升" if change > 0 else "下降" if change < 0 else "持平"
        en_way = "up" if change > 0 else "down" if change < 0 else "level"
        said.append(
            Sentence(
                zh=f"本期受理投诉 {figures.volume} 件，较上期（{figures.volume_mom.previous} 件）"
                f"{zh_way}{'' if change == 0 else f' {abs(change):.1%}'}。",
                en=f"{figures.volume} complaints, {en_way}"
                f"{'' if change == 0 else f' {abs(change):.1%}'} on the period before"
                f" ({figures.volume_mom.previous}).",
            )
        )
    missed = [k for k in figures.kpis if k.met is False]
    if missed:
        said.append(
            Sentence(
                zh="未达标："
                + "；".join(
                    f"{k.name.split(' / ')[0]} {k.actual}（目标 {k.target}）" for k in missed
                )
                + "。",
                en="Targets missed: "
                + "; ".join(
                    f"{k.name.split(' / ')[-1]} {k.actual} (target {k.target})" for k in missed
                )
                + ".",
            )
        )
    elif figures.kpis:
        said.append(Sentence(zh="各项目标均已达成。", en="Every target was met."))
    lagging = [
        d
        for d in figures.departments
        if d.timely.value is not None and d.timely.value < targets.timely_rate
    ]
    if lagging:
        zh = "、".join(
            f"{d.department} {d.timely.value:.1%}" for d in lagging if d.timely.value is not None
        )
        en = ", ".join(
            f"{d.department} {d.timely.value:.1%}" for d in lagging if d.timely.value is not None
        )
        said.append(
            Sentence(
                zh=f"及时率低于目标（{targets.timely_rate:.0%}）的部门：{zh}。",
                en=f"Departments below the timely-rate target ({targets.timely_rate:.0%}): {en}.",
            )
        )
    if figures.top_problems:
        top = max(figures.top_problems, key=lambda row: row.count)
        said.append(
            Sentence(
                zh=f"最多的问题是“{top.label}”，{top.count} 件，占 {top.share:.1%}。",
                en=f"The most frequent problem: {top.label}, {top.count} cases ({top.share:.1%}).",
            )
        )
    if figures.causes:
        cause = figures.causes[0]
        said.append(
            Sentence(
                zh=f"最常见的原因是“{_quoted(cause.label)}”（{cause.count} 件）。",
                en=f"The most common root cause: {_quoted(cause.label)} ({cause.count} cases).",
            )
        )
    overdue = [o for o in figures.open_cases if o.overdue_days is not None]
    if overdue:
        worst = overdue[0]
        zh_who, en_who = _whose(worst)
        said.append(
            Sentence(
                zh=f"期末有 {len(overdue)} 件案件逾期未结，最久的 {worst.case_no} 已逾期 "
                f"{worst.overdue_days:.1f} 天（{zh_who}）。",
                en=f"{len(overdue)} open cases were overdue at the end; the longest,"
                f" {worst.case_no}, by {worst.overdue_days:.1f} days ({en_who}).",
            )
        )
    if figures.callbacks_owed:
        said.append(
            Sentence(
                zh=f"期末仍有 {figures.callbacks_owed} 次回访未完成。",
                en=f"{figures.callbacks_owed} callbacks were still owed at the end.",
            )
        )
    said.extend(_summaries_in(figures))
    return said


def _summaries_in(figures: Figures) -> list[Sentence]:
    """How many departments sent their own summary by the 5th, and who did not."""
    inputs = figures.department_inputs
    if not inputs:
        return []
    on_time = [d for d in inputs if d.on_time]
    missing = [d.department for d in inputs if d.sent_at is None]
    late = [d.department for d in inputs if d.on_time is False]
    zh = f"部门小结：{len(inputs)} 个部门中 {len(on_time)} 个于 {inputs[0].due} 前报送"
    en = f"Departments' summaries: {len(on_time)} of {len(inputs)} sent by {inputs[0].due}"
    if missing:
        zh += f"；未报送：{'、'.join(missing)}"
        en += f"; not sent: {', '.join(missing)}"
    if late:
        zh += f"；逾期报送：{'、'.join(late)}"
        en += f"; sent late: {', '.join(late)}"
    return [Sentence(zh=zh + "。", en=en + ".")]


def recommend(figures: Figures, targets: KpiTargets) -> list[Sentence]:
    """What the figures ask of whom, by plain rules: each department below the timely
    target and the step where its deadlines were missed most, the leading root cause, the
    most raised suggestion, the callbacks still owed and the overdue open cases."""
    said: list[Sentence] = []
    missed = [k.name for k in figures.kpis if k.met is False]
    if missed:
        said.append(
            Sentence(
                zh=f"未达标的目标（{'、'.join(n.split(' / ')[0] for n in missed)}）：各责任部门在下月 5 日前的"
                "部门小结中说明原因与改进措施。",
                en=f"Targets missed ({', '.join(n.split(' / ')[-1] for n in missed)}): each"
                " responsible department explains the causes and its measures in its summary due"
                " by the 5th.",
            )
        )
    for d in figures.departments:
        if d.timely.value is None or d.timely.value >= targets.timely_rate:
            continue
        worst = next((s for s in figures.overdue_sources if s.department == d.department), None)
        where_zh = (
            f"，逾期最多的环节是“{worst.step.split(' / ')[0]}”（{worst.count} 次）" if worst else ""
        )
        where_en = (
            f"; most missed at {worst.step.split(' / ')[-1]} ({worst.count})" if worst else ""
        )
        said.append(
            Sentence(
                zh=f"{d.department}：及时率 {d.timely.value:.1%}，低于目标 {targets.timely_rate:.0%}"
                f"{where_zh}，请复盘并提出改进计划。",
                en=f"{d.department}: timely rate {d.timely.value:.1%}, below the"
                f" {targets.timely_rate:.0%} target{where_en}; review it and plan the fix.",
            )
        )
    if figures.causes:
        cause = figures.causes[0]
        said.append(
            Sentence(
                zh=f"针对最常见的原因“{_quoted(cause.label)}”（{cause.count} 件）制定纠正和预防措施。",
                en=f"Act on the leading root cause, {cause.label} ({cause.count} cases), with a"
                " corrective and preventive action.",
            )
        )
    if figures.ranked_suggestions:
        top = figures.ranked_suggestions[0]
        said.append(
            Sentence(
                zh=f"评估并推广被 {top.cases} 件案件提出的改进建议：“{_quoted(top.text)}”"
                f"（{'、'.join(top.departments)}）。",
                en=f"Weigh and spread the suggestion raised by {top.cases} cases: {top.text}"
                f" ({', '.join(top.departments)}).",
            )
        )
    if figures.callbacks_owed:
        said.append(
            Sentence(
                zh=f"补做期末未完成的 {figures.callbacks_owed} 次回访。",
                en=f"Make the {figures.callbacks_owed} callbacks still owed.",
            )
        )
    unsent = [d.department for d in figures.department_inputs if not d.on_time]
    if unsent:
        said.append(
            Sentence(
                zh=f"未按时报送部门小结的部门（{'、'.join(unsent)}）：补报小结，说明本月原因与措施。",
                en=f"Departments whose summary was not sent on time ({', '.join(unsent)}):"
                " send it, with the month's causes and measures.",
            )
        )
    overdue = [o for o in figures.open_cases if o.overdue_days is not None]
    if overdue:
        said.append(
            Sentence(
                zh=f"督办期末逾期未结的 {len(overdue)} 件案件（见“期末未结案件”）。",
                en=f"Chase the {len(overdue)} open cases overdue at the end (see the open cases).",
            )
        )
    return said
