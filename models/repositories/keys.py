"""The intake API's keys (complaints.channels.keys): only their digests are kept."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models.ledger import ApiKey


class ApiKeyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_name(self, name: str) -> ApiKey | None:
        return self.session.scalars(sa.select(ApiKey).where(ApiKey.name == name)).first()

    def by_digest(self, value: str) -> ApiKey | None:
        return self.session.scalars(sa.select(ApiKey).where(ApiKey.digest == value)).first()

    def all(self) -> list[ApiKey]:
        return list(self.session.scalars(sa.select(ApiKey).order_by(ApiKey.id)))

    def add(self, key: ApiKey) -> None:
        self.session.add(key)
        self.session.flush()
