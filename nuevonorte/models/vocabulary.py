"""Bilingual controlled vocabularies: themes and places.

Each term has a short id per language for its public address: ``slug`` (Spanish, also the
term's stable key in the search index, the API and curators' filters) and ``slug_en``
(English URLs). ``nuevonorte.vocabulary`` turns either into the term and the visitor's one.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from typing import Any

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from nuevonorte.models.base import Base, enum_type

SLUG_LENGTH = 80


class PlaceLevel(enum.StrEnum):
    """How precise a place is. There is deliberately nothing finer than a city."""

    COUNTRY = "country"
    STATE = "state"
    CITY = "city"


def slugify(text: str) -> str:
    """A short id from a name: lowercase ASCII letters and digits joined by dashes
    ("Ciudad de México" -> "ciudad-de-mexico"); empty when the name has none."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:SLUG_LENGTH].rstrip("-")


def _english_slug(context: Any) -> str:
    """Default English short id for a new term: from its English name, else its Spanish id."""
    values = context.get_current_parameters()
    return slugify(values.get("name_en") or "") or str(values["slug"])


class Term:
    """What themes and places share: names and short ids in both languages."""

    slug: Mapped[str]
    slug_en: Mapped[str]
    name_es: Mapped[str]
    name_en: Mapped[str]

    def name(self, locale: str) -> str:
        """The term's name in ``locale``."""
        return self.name_en if locale == "en" else self.name_es

    def slug_for(self, locale: str) -> str:
        """The term's short id in URLs of ``locale``."""
        return self.slug_en if locale == "en" else self.slug


class Theme(Term, Base):
    """A theme with a Spanish and an English name."""

    __tablename__ = "theme"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(SLUG_LENGTH), unique=True)
    slug_en: Mapped[str] = mapped_column(String(SLUG_LENGTH), unique=True, default=_english_slug)
    name_es: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))


class Place(Term, Base):
    """A named place (country, state or city) — never coordinates."""

    __tablename__ = "place"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(SLUG_LENGTH), unique=True)
    slug_en: Mapped[str] = mapped_column(String(SLUG_LENGTH), unique=True, default=_english_slug)
    name_es: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    country_code: Mapped[str] = mapped_column(String(2))
    level: Mapped[PlaceLevel] = mapped_column(enum_type(PlaceLevel))


story_theme = Table(
    "story_theme",
    Base.metadata,
    Column("story_id", ForeignKey("story.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", ForeignKey("theme.id", ondelete="CASCADE"), primary_key=True),
)

story_place = Table(
    "story_place",
    Base.metadata,
    Column("story_id", ForeignKey("story.id", ondelete="CASCADE"), primary_key=True),
    Column("place_id", ForeignKey("place.id", ondelete="CASCADE"), primary_key=True),
)
