"""The steps of the process chart (those that wait for a person: rules.human_steps)."""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    """Process steps, in chart order. Values are the names used on the command line."""

    REGISTER = "register"
    ACKNOWLEDGE = "acknowledge"
    ANSWER_ON_SPOT = "answer_on_spot"
    VERIFY = "verify"
    EXPLAIN = "explain"
    GRADE = "grade"
    APPROVE_GRADE = "approve_grade"
    PLAN = "plan"
    APPROVE_PLAN = "approve_plan"
    EXECUTE = "execute"
    FEEDBACK = "feedback"
    CALLBACK = "callback"
    CLOSE = "close"
    REOPEN = "reopen"
    HOLD = "hold"  # the case waits on the customer: SLA clocks stop
    RELEASE = "release"  # the customer answered: SLA clocks run again
    ESCALATE = "escalate"
    CORRESPONDENCE = "correspondence"  # the customer wrote (a reply, evidence), any time
    REFUSED = "refused"  # someone the staff directory does not allow tried a step
    ERASE = "erase"  # the customer's personal data erased from the closed case (rules.retention)
    NOTIFY = "notify"  # staff told in writing: the case forwarded to its department (rules.notices)

    @property
    def label(self) -> str:
        return STEP_LABELS[self]

    @property
    def waits_for_person(self) -> bool:
        from rules.human_steps import HUMAN_STEPS  # the registry builds on this module

        return self in HUMAN_STEPS


STEP_LABELS: dict[Step, str] = {
    Step.REGISTER: "登记 / Register",
    Step.ACKNOWLEDGE: "即时响应 / Acknowledge",
    Step.ANSWER_ON_SPOT: "当场解答 / Answered on the spot",
    Step.VERIFY: "核实 / Verify",
    Step.EXPLAIN: "不属实说明 / Explain (not substantiated)",
    Step.GRADE: "分类定级 / Classify and grade",
    Step.APPROVE_GRADE: "定级审批 / Approve grading",
    Step.PLAN: "制定处理方案 / Plan the resolution",
    Step.APPROVE_PLAN: "方案审批 / Approve the plan",
    Step.EXECUTE: "执行跟踪 / Execute and track",
    Step.FEEDBACK: "结果反馈 / Feed the result back",
    Step.CALLBACK: "回访与满意度 / Callback and survey",
    Step.CLOSE: "关闭 / Close",
    Step.REOPEN: "重新处理 / Reopen",
    Step.HOLD: "等待客户 / Waiting on the customer",
    Step.RELEASE: "客户已回复 / Customer answered",
    Step.ESCALATE: "升级 / Escalation",
    Step.CORRESPONDENCE: "客户来信 / Customer wrote",
    Step.REFUSED: "无权办理 / Refused attempt",
    Step.ERASE: "个人信息删除 / Personal data erased",
    Step.NOTIFY: "书面通知 / Notice to staff",
}


def event_key(step: Step, cycle: int = 0, entry: int = 0) -> str:
    """The audit key of an automatic step (acknowledged, explained, reopened, closed...).

    Recorded once per plan cycle; the '@' keeps these apart from wait keys, which Prefect
    limits to lowercase letters, digits and dashes.
    """
    return f"{step.value}@c{cycle}" + (f"e{entry}" if entry else "")


def wait_key(step: Step, cycle: int, attempt: int = 0, entry: int = 0) -> str:
    """The suspend key of one wait: unique per step, plan cycle, retry and progress entry.

    Prefect returns the input already given when a resumed run suspends again with the
    same key, so every distinct wait needs a distinct key. Prefect allows only lowercase
    letters, digits and dashes in these keys.
    """
    key = f"{step.value.replace('_', '-')}-c{cycle}"
    if entry:
        key += f"-e{entry}"
    if attempt:
        key += f"-a{attempt}"
    return key
