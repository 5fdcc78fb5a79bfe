"""Waiting on the customer: stop a case's SLA clocks, and start them again.

Run the `customer-wait` deployment from the Prefect UI (Run → Custom run) with the case
number, whether the case now waits on the customer, and why; the case's own run shows the
tag 等待客户 while its clocks stand still. `complaints hold` / `release` do the same.
"""

from __future__ import annotations

from prefect import flow

from rules.inputs import WaitOnCustomer
from tasks.case_steps import record_customer_wait


@flow(name="customer-wait", flow_run_name="{request.case_no}", log_prints=True)
def customer_wait(request: WaitOnCustomer) -> str:
    """等待客户（计时暂停）或客户已回复（恢复计时）/ hold or release a case's SLA clocks."""
    record_customer_wait(request.case_no, request)
    state = "waits on the customer: SLA clocks stopped" if request.waiting else "clocks running"
    print(f"{request.case_no} {state}")
    return request.case_no
