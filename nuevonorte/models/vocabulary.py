"""Bilingual controlled vocabularies: themes and places."""

from __future__ import annotations

import enum

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from nuevonorte.models.base import Base, enum_type


class PlaceLevel(enum.StrEnum):
    """How precise a place is. There is deliberately nothing finer than a city."""

    COUNTRY = "country"
    STATE = "state"
    CITY = "city"


class Theme(Base):
    """A theme with a Spanish and an English name."""

    __tablename__ = "theme"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_es: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))

    def name(self, locale: str) -> str:
        """The theme's name in ``locale``."""
        return self.name_en if locale == "en" else self.name_es


class Place(Base):
    """A named place (country, state or city) — never coordinates."""

    __tablename__ = "place"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_es: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    country_code: Mapped[str] = mapped_column(String(2))
    level: Mapped[PlaceLevel] = mapped_column(enum_type(PlaceLevel))

    def name(self, locale: str) -> str:
        """The place's name in ``locale``."""
        return self.name_en if locale == "en" else self.name_es


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
