"""The search log: every change the indexes must follow, numbered in the order it is applied.

Each machine keeps its own index folder and its own position in this log (a file in the index
build, ``search.follow``), so several web machines over one database stay right: each applies
the entries past its position. One machine is the same log with one reader.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from nuevonorte.models.base import Base, UTCDateTime, utcnow


class SearchLogEntry(Base):
    """One story (or partner story) to re-index from the database as it is then.

    Written in the same transaction as the change, without a number; numbered after it
    committed (``search.follow.number``), so a number is only ever given to a committed entry and
    numbers are given in order: a machine that applied number N has seen every entry up to N."""

    __tablename__ = "search_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int | None] = mapped_column(Integer, unique=True, index=True)
    # No foreign keys: the story may be deleted, and its index entries must still go.
    story_id: Mapped[int | None] = mapped_column(Integer, index=True)
    partner_story_id: Mapped[int | None] = mapped_column(Integer, index=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchLogState(Base):
    """One row: the last number given, and the highest number pruned from the log (a machine
    whose position is below it missed entries and must rebuild its index)."""

    __tablename__ = "search_log_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    numbered: Mapped[int] = mapped_column(Integer, default=0)
    pruned_below: Mapped[int] = mapped_column(Integer, default=0)
