"""One repository per aggregate of the ledger: cases (with their audit trail, messages,
clocks and report), escalations (with their Slack messages), corrective actions — which
`Ledger` gives over one session — and, each in its own module, the staff directory
(`staff`), the intake API's keys (`keys`) and what erasure needs beyond a case's rows
(`retention`).

`Ledger` gives the first three over one session, so one use case can be one transaction:
services take an optional session (models.db.transaction) and join the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from models.repositories.actions import ActionRepository
from models.repositories.cases import CaseRepository
from models.repositories.escalations import EscalationRepository


@dataclass
class Ledger:
    session: Session
    cases: CaseRepository = field(init=False)
    escalations: EscalationRepository = field(init=False)
    actions: ActionRepository = field(init=False)

    def __post_init__(self) -> None:
        self.cases = CaseRepository(self.session)
        self.escalations = EscalationRepository(self.session)
        self.actions = ActionRepository(self.session)


__all__ = ["ActionRepository", "CaseRepository", "EscalationRepository", "Ledger"]
