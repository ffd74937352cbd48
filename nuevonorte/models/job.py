"""Background jobs: long media work done by ``nuevonorte worker``, outside any request.

The queue engine (Huey) carries only a job's id; this table is what the archive knows about a
job: what it is for, its state, its progress and, when it failed, a reason code. It holds no
contributor text: the work's result goes where it belongs (a draft transcript), never here.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from nuevonorte.models.base import Base, UTCDateTime, enum_type, utcnow


class JobKind(enum.StrEnum):
    """What a job does."""

    DRAFT_TRANSCRIPT = "draft_transcript"
    #: The public copy of a recording with its withheld seconds silent (decision 0005).
    SILENCED_COPY = "silenced_copy"
    #: Read a partner archive's changes (decision 0025).
    PARTNER_HARVEST = "partner_harvest"
    #: Tell a subscribed partner which of our stories left public view.
    PARTNER_NOTICE = "partner_notice"


class JobState(enum.StrEnum):
    """Where a job is. ``queued`` and ``running`` are active; the others are final."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_STATES = (JobState.QUEUED, JobState.RUNNING)


class Job(Base):
    """One piece of background work on one recording, or with one partner archive."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[JobKind] = mapped_column(enum_type(JobKind))
    state: Mapped[JobState] = mapped_column(enum_type(JobState), default=JobState.QUEUED, index=True)
    #: The recording; NULL once it is withdrawn or deleted (the job then says so, nothing more).
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media_file.id", ondelete="SET NULL"), index=True)
    #: The partner archive of a partner job; NULL for media work.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    #: The language asked for ("es", "en"), or "" to detect it.
    language: Mapped[str] = mapped_column(String(8), default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("curator_account.id", ondelete="SET NULL"))
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    #: Who holds the job while it runs, and until when: a worker killed mid-job stops renewing
    #: its lease, and the job is queued again once the lease has passed.
    claim: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why it failed or was cancelled, or what it met (``jobs.messages.REASONS``); "" when done.
    reason: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


class ArchiveSetting(Base):
    """A setting an admin changes in the archive's pages (not in the configuration file)."""

    __tablename__ = "archive_setting"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), default="")
