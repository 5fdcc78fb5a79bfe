"""The two kinds of task the flows are made of.

- `ledger_task`: one unit of work on the ledger (or a delivery), keeping no result cache —
  every write is guarded by the ledger itself (audit keys, one message row per kind and
  cycle), so a cached result would only hide a re-read of the ledger.
- `case_step`: a ledger task that changes one case, named by its first parameter
  `case_no`; when it is done, the case's view in the Prefect UI (run name, tags, timeline,
  the open-cases table; tasks.views) is published again, so whoever watches the run sees
  the step's effect at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from prefect import Task, task
from prefect.cache_policies import NO_CACHE

from complaints.settings import get_settings
from tasks.views import publish_case

P = ParamSpec("P")
R = TypeVar("R")

DELIVERY_RETRIES: dict[str, Any] = {"retries": 3, "retry_delay_seconds": [10, 60, 300]}
"""A message to the customer that could not be delivered is tried again, then given up."""


def ledger_task(name: str, **options: Any) -> Callable[[Callable[P, R]], Task[P, R]]:
    return task(name=name, cache_policy=NO_CACHE, persist_result=False, **options)


def case_step(name: str, **options: Any) -> Callable[[Callable[P, R]], Task[P, R]]:
    def decorate(fn: Callable[P, R]) -> Task[P, R]:
        @functools.wraps(fn)
        def step(*args: P.args, **kwargs: P.kwargs) -> R:
            result = fn(*args, **kwargs)
            case_no = kwargs["case_no"] if "case_no" in kwargs else args[0]
            publish_case(get_settings(), str(case_no))
            return result

        return ledger_task(name, **options)(step)

    return decorate
