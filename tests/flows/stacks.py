"""Which end-to-end tests share a stack, and how the suite is spread over processes.

`make test` runs on several processes (pytest-xdist). The modules of one group below run
one after another in one process, on the one stack that process starts for them (the
session's `product`, or the module's own); the groups run at the same time as each other
and as the unit and integration tiers, whose tests go one by one to whichever process is
free. So the end-to-end tier takes as long as its longest group, not the sum of all.

- `embedded-restarts`: the tests that kill workers or restart the server, and the deadline
  watch's timing; a restart in the middle of another test's case would fail that test.
- `embedded`: every other test on the embedded stack.
- `production`, `locked`: modules with a stack of their own (PostgreSQL with two stock
  workers; a server behind basic auth).

The grouping is done by the scheduler (`StackScheduling`), from this table, rather than by
xdist's `xdist_group` marks: `--dist loadgroup` renames each test's node id to carry its
group, which pytest 9.2 no longer lets a plugin do (pytest-xdist issue 1386), and the
groups are then silently ignored.
"""

from __future__ import annotations

from typing import Any

STACKS = {
    "tests/flows/test_bounded_work.py": "embedded-restarts",
    "tests/flows/test_escalation.py": "embedded-restarts",
    "tests/flows/test_resilience.py": "embedded-restarts",
    "tests/flows/test_browser.py": "embedded",
    "tests/flows/test_case_lifecycle.py": "embedded",
    "tests/flows/test_customer_pages.py": "embedded",
    "tests/flows/test_hostile_actions.py": "embedded",
    "tests/flows/test_notices.py": "embedded",
    "tests/flows/test_privacy.py": "embedded",
    "tests/flows/test_reports.py": "embedded",
    "tests/flows/test_staff_directory.py": "embedded",
    "tests/flows/test_production_topology.py": "production",
    "tests/flows/test_locked_server.py": "locked",
}


def stack_of(nodeid: str) -> str | None:
    """The group of an end-to-end test's node id; None for a test that needs no stack."""
    return STACKS.get(nodeid.split("::", 1)[0])


def scheduler(config: Any, log: Any) -> Any:
    """xdist's scope scheduler with a stack's modules as one scope and every other test as
    a scope of its own (the largest scopes are handed out first)."""
    from xdist.scheduler import LoadScopeScheduling

    class StackScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return stack_of(nodeid) or nodeid

    return StackScheduling(config, log)
