"""Which entries of the withdrawal ledger this database holds (``nuevonorte.ledger``)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from nuevonorte.models.base import Base


class LedgerEntry(Base):
    """One ledger entry whose change this database holds: written in the same transaction as
    the change itself (or by its replay), so an entry of the file missing here is a change the
    database does not hold — a restored older backup, or a transaction that never committed."""

    __tablename__ = "ledger_entry"

    entry_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    applied_on: Mapped[date] = mapped_column(Date)
