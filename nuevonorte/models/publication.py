"""What other archives may learn of a story's public life: whether it was ever public, from
which day the current state shows it, and when that last changed (OAI-PMH, the change feed)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from nuevonorte.models.base import PUBLIC_ID_LENGTH, Base


class PublicRecord(Base):
    """One story that was, is, or is due to become public (an embargo). Written in the same
    transaction as any change to the story (``nuevonorte.publication``); never deleted, so a
    story that leaves public view is announced as deleted for as long as the archive runs, and a
    story that was never public has no row a harvester could see."""

    __tablename__ = "public_record"

    #: The harvest order: assigned once, when the story first heads for public view.
    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: a deleted story's record must still say it is gone.
    story_id: Mapped[int] = mapped_column(Integer, unique=True)
    public_id: Mapped[str] = mapped_column(String(PUBLIC_ID_LENGTH), unique=True)
    #: The day the current state makes the story public (its embargo's end, or the day it was
    #: published), or None when the current state keeps it out of view.
    visible_from: Mapped[date | None] = mapped_column(Date)
    #: Whether anyone could ever see it: only then is its leaving announced.
    was_public: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The day its public record last changed (published, changed while public, or gone). The
    #: OAI datestamp is this day, or ``visible_from`` once a later one has come (``oai``). A
    #: day, never a time: what people do is kept to the day (docs/security.md).
    datestamp: Mapped[date] = mapped_column(Date, index=True)
    #: Its place in the change feed: the number of its last public change (addition, update,
    #: removal), taken in commit order from ``ChangeCounter``; None while nothing was announced.
    change_seq: Mapped[int | None] = mapped_column(Integer, unique=True)
    #: The number of the change that last made it public: a client that read the feed past it
    #: already knows the story, so a later change is an update, not an addition.
    public_since_seq: Mapped[int | None] = mapped_column(Integer)
    #: Whether its last change announced it public: an embargo that ends without a write is
    #: announced by ``publication.announce_due`` (the feed takes a number for it then).
    listed_public: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        # What ``publication.announce_due`` looks for on every read of the feed: few rows, found
        # without reading the table (SQLite uses it only for the query's own ``IS 0``).
        Index(
            "ix_public_record_due",
            "visible_from",
            sqlite_where=text("listed_public IS 0"),
            postgresql_where=text("listed_public IS false"),
        ),
    )


class CollectionRecord(Base):
    """One collection that was ever published: its place in the change feed and the feeds, and,
    once unpublished or deleted, that it left. A draft never published has no row."""

    __tablename__ = "collection_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(Integer, unique=True)
    public_id: Mapped[str] = mapped_column(String(PUBLIC_ID_LENGTH), unique=True)
    #: Whether its last change left it published.
    listed_public: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The day of its last public change.
    datestamp: Mapped[date] = mapped_column(Date)
    change_seq: Mapped[int] = mapped_column(Integer, unique=True)
    public_since_seq: Mapped[int | None] = mapped_column(Integer)


class ChangeCounter(Base):
    """The change feed's last number: one row, updated in the committing transaction, so that
    on PostgreSQL a second writer waits for the first to commit and numbers follow commit order
    (a client that has read number N has every change up to N)."""

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
