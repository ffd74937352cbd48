"""Consent: the choices a contributor makes for one story (``ConsentChoices``, declared once
here) and the append-only history of them (``ConsentRecord``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column, relationship

from nuevonorte.models.base import Base, enum_type, today

if TYPE_CHECKING:
    from nuevonorte.models.story import Story


class Visibility(enum.StrEnum):
    """Who may see a story, widest first."""

    PUBLIC = "public"  # anyone, once a curator publishes it
    CURATORS = "curators"  # workshop curators only
    CONTRIBUTOR = "contributor"  # nobody but the contributor, for now


class Credit(enum.StrEnum):
    """How the contributor is credited, most identifying first."""

    NAME = "name"
    PSEUDONYM = "pseudonym"
    ANONYMOUS = "anonymous"


class GivenBy(enum.StrEnum):
    """Who recorded a consent record: the contributor, or a curator narrowing it."""

    CONTRIBUTOR = "contributor"
    CURATOR = "curator"


@dataclass(frozen=True)
class Permission:
    """What one yes/no consent choice is called wherever a person reads it. Declared once, on
    its ``ConsentChoices`` field: the contributors' form and the API, the curators' narrowing
    form and summaries, the import sheet's columns, the exports and the database column are all
    made from the declaration, so adding a choice is its field here, a migration and the words'
    translations."""

    ask: LazyString  # the contributor's checkbox (web form and API)
    curator: LazyString  # the curator's checkbox when narrowing consent
    granted: LazyString  # the curators' summary of a consent, when it is allowed ...
    refused: LazyString  # ... and when it is not
    widened: LazyString  # the curators' note when a narrator newly allows it
    rights: str  # in an export's rights statement, which is in English (Dublin Core)


_PERMISSION = "permission"


def _permission(default: bool, **words: Any) -> Any:
    """A yes/no choice of ``ConsentChoices`` with its words (see ``Permission``)."""
    return field(default=default, metadata={_PERMISSION: Permission(**words)})


@dataclass(frozen=True)
class ConsentChoices:
    """What a contributor allows for one story. Defaults are the safe ones (C14).

    The yes/no choices (``PERMISSIONS``) are the fields declared with ``_permission``; a new
    one is false for every story that consented before it existed (its migration says so).
    """

    visibility: Visibility = Visibility.PUBLIC
    credit: Credit = Credit.PSEUDONYM
    credit_name: str = ""
    voice_public: bool = _permission(
        False,
        ask=_l("My voice may be heard publicly (if not, only the written transcript)"),
        curator=_l("The voice may be heard"),
        granted=_l("voice may be heard"),
        refused=_l("voice may not be heard"),
        widened=_l("The narrator's voice may now be heard in the recordings."),
        rights="voice",
    )
    photos_public: bool = _permission(
        False,
        ask=_l("My photos may be shown publicly"),
        curator=_l("Photos may be shown"),
        granted=_l("photos may be shown"),
        refused=_l("photos may not be shown"),
        widened=_l("The photos may now be shown."),
        rights="photos",
    )
    in_collections: bool = _permission(
        True,
        ask=_l("My story may appear in the archive's collections"),
        curator=_l("May appear in collections"),
        granted=_l("may appear in collections"),
        refused=_l("not in collections"),
        widened=_l("The story may now appear in collections."),
        rights="in collections",
    )
    embeddable: bool = _permission(
        False,
        ask=_l("The archive's player may show my story inside other websites (withdrawn, it goes away)"),
        curator=_l("May be embedded on other websites"),
        granted=_l("may be embedded"),
        refused=_l("not embedded"),
        widened=_l("The story may now be embedded on other websites."),
        rights="embedding",
    )
    embargo_until: date | None = None

    @classmethod
    def of(cls, record: ConsentRecord) -> ConsentChoices:
        """The choices held by a consent record."""
        return cls(**{f.name: getattr(record, f.name) for f in fields(cls)})

    def allows(self, permission: str) -> bool:
        """Whether the yes/no choice named ``permission`` is allowed."""
        if permission not in PERMISSIONS:
            raise KeyError(permission)
        return bool(getattr(self, permission))

    def values(self) -> dict[str, Any]:
        """Every choice by name, as a ``ConsentRecord`` holds it."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: The yes/no choices, in the order the forms show them, with their words.
PERMISSION_WORDS: dict[str, Permission] = {
    f.name: f.metadata[_PERMISSION] for f in fields(ConsentChoices) if _PERMISSION in f.metadata
}
#: Their names.
PERMISSIONS: tuple[str, ...] = tuple(PERMISSION_WORDS)


class ConsentRecord(Base):
    """One consent decision. Never updated: a change appends a new record, the newest rules."""

    __tablename__ = "consent_record"
    __table_args__ = (
        UniqueConstraint("story_id", "seq"),
        # One story per paper form: two imports of the same sheet at once cannot both write it.
        Index(
            "uq_consent_record_paper_form_ref",
            "paper_form_ref",
            unique=True,
            sqlite_where=text("paper_form_ref != ''"),
            postgresql_where=text("paper_form_ref != ''"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("story.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    visibility: Mapped[Visibility] = mapped_column(enum_type(Visibility))
    credit: Mapped[Credit] = mapped_column(enum_type(Credit))
    # The name or pseudonym as the contributor wrote it; empty when anonymous.
    credit_name: Mapped[str] = mapped_column(String(120), default="")
    # One Boolean column per yes/no choice (``PERMISSIONS``) is added below the class.
    embargo_until: Mapped[date | None] = mapped_column(Date)
    # Which consent text the person was shown, and in which language.
    text_version: Mapped[str] = mapped_column(String(32))
    text_language: Mapped[str] = mapped_column(String(8))
    given_by: Mapped[GivenBy] = mapped_column(enum_type(GivenBy))
    # The reference of a paper consent form signed at a workshop (``nuevonorte import``).
    paper_form_ref: Mapped[str] = mapped_column(String(80), default="")
    recorded_on: Mapped[date] = mapped_column(Date, default=today)

    story: Mapped[Story] = relationship(back_populates="consents")

    @property
    def choices(self) -> ConsentChoices:
        """The choices this record holds."""
        return ConsentChoices.of(self)

    @classmethod
    def permission_column(cls, permission: str) -> InstrumentedAttribute[bool]:
        """The column of the yes/no choice named ``permission``, for queries."""
        if permission not in PERMISSIONS:
            raise KeyError(permission)
        return cast("InstrumentedAttribute[bool]", getattr(cls, permission))


# The columns of the yes/no choices, from their one declaration (``ConsentChoices``).
for _name in PERMISSIONS:
    # A record made without a choice allows nothing (never NULL, never more than was said).
    setattr(ConsentRecord, _name, mapped_column(Boolean, nullable=False, default=False))
