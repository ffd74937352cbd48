"""How many public stories each theme and place names, kept as the stories change, so the public
lists of themes and places read a few rows whatever the archive's size (``nuevonorte.term_counts``).

Both tables hold numbers only: which story names which term, from which day, and how many. A
story that leaves view (narrowed, unpublished, withdrawn) loses its rows in the same transaction.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from nuevonorte.models.base import Base

#: The kinds of term counted, as stored.
THEME = "theme"
PLACE = "place"


class CountedTerm(Base):
    """One term of one story whose current state shows it (now, or once its embargo ends), and
    the day it is counted from: what the story added to ``TermCount``, so that its next change
    takes away exactly that; and, in the order of its day of publication, the term's page."""

    __tablename__ = "counted_term"

    story_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    term_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: ``date.min`` for a story shown already when it was counted; its embargo's end otherwise.
    day: Mapped[date] = mapped_column(Date)
    #: The story's day of publication: a term's page lists its stories newest first from here.
    published_on: Mapped[date] = mapped_column(Date)

    __table_args__ = (
        # A term's page: its rows in page order, read a page at a time (``page_of_stories``).
        Index("ix_counted_term_page", "kind", "term_id", "published_on", "story_id"),
    )


class TermCount(Base):
    """How many stories name a term from a day on: a term's count on day D is the sum of its rows
    up to D. One row per term, and one more per embargo end still to come when counted."""

    __tablename__ = "term_count"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    term_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    stories: Mapped[int] = mapped_column(Integer, default=0)
