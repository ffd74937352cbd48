"""The declarative base shared by every model, and the column types they have in common."""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Enum, MetaData, String, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PUBLIC_ID_LENGTH = 16


def new_public_id() -> str:
    """A random, URL-safe identifier (96 bits) for anything that appears in a URL."""
    return secrets.token_urlsafe(12)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in UTC; stored dates are coarse on purpose (see docs/security.md M16)."""
    return utcnow().date()


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def localized(es: str, en: str, locale: str) -> str:
    """A bilingual text in ``locale``, or in the other language when not yet translated."""
    preferred, fallback = (en, es) if locale == "en" else (es, en)
    return preferred or fallback


def enum_type(enum_cls: type[enum.StrEnum]) -> Enum:
    """A portable enum column type that stores the members' values as short strings."""
    return Enum(
        enum_cls,
        native_enum=False,
        length=24,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    """Base of every model: shared metadata with a naming convention for constraints."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PublicIdMixin:
    """A random public identifier, the only id that may appear in a URL."""

    public_id: Mapped[str] = mapped_column(String(PUBLIC_ID_LENGTH), unique=True, default=new_public_id)
