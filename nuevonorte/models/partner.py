"""Partner archives: other cities' archives whose public stories this one re-exhibits, and those
that subscribe to this one's withdrawal notices (decision 0025).

A partner story holds only the public text the origin's read API gives, never a file: its
pictures and recordings are addresses on the origin's ``/media/`` handler, so a withdrawal at
the origin silences them here at once. A partner story is deleted (not marked) when the origin
says it left public view; one the origin has not confirmed for ``partner_confirm_seconds`` is
hidden (``nuevonorte.partners.shown``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nuevonorte.models.base import Base, PublicIdMixin, UTCDateTime, localized, utcnow


class Partner(Base):
    """Another archive, known by its public address.

    ``harvested``: its stories are shown here (an admin added it). Either way it may subscribe to
    this archive's withdrawal notices: the key it gave then (``key_out``) signs what we push to it.
    ``key_in`` is the key we gave it when we subscribed: it signs what it pushes to us."""

    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Its public address, normalised (scheme, host, port, path; no trailing slash).
    url: Mapped[str] = mapped_column(String(300), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    #: "nuevonorte" (read API and change feed) or "oai" (OAI-PMH, oai_dc) for other software.
    protocol: Mapped[str] = mapped_column(String(16), default="nuevonorte")
    harvested: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Where the next harvest starts: a change-feed cursor, or an OAI-PMH ``from`` day.
    cursor: Mapped[str] = mapped_column(String(40), default="")
    #: The partner's change-feed epoch the cursor belongs to: a new one (the partner restored an
    #: older copy of its database) means the feed is read again from the start.
    epoch: Mapped[str] = mapped_column(String(40), default="")
    #: How many notices it sent that we applied: a harvest page fetched before a notice arrived is
    #: fetched again, so that it never brings back what the notice removed.
    notice_seq: Mapped[int] = mapped_column(Integer, default=0)
    key_in: Mapped[str] = mapped_column(String(64), default="")
    subscribed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: When it last accepted our subscription (asked again every day: it may have forgotten it).
    subscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    key_out: Mapped[str] = mapped_column(String(64), default="")
    #: The newest change of ours it was told of (withdrawal notices are sent from here on).
    pushed_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The last harvest that read the origin's feed to its end: every story still held was
    #: confirmed public then.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why the last harvest or push did not succeed (``partners.messages``), "" when it did.
    last_error: Mapped[str] = mapped_column(String(40), default="")
    #: Whether its stories were hidden for want of confirmation (the index then holds none).
    expired: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    stories: Mapped[list[PartnerStory]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", passive_deletes=True
    )


class PartnerStory(PublicIdMixin, Base):
    """A public story of a partner archive, as its read API gave it, re-exhibited here."""

    __tablename__ = "partner_story"
    __table_args__ = (UniqueConstraint("partner_id", "remote_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    #: Its id at the origin.
    remote_id: Mapped[str] = mapped_column(String(80))
    #: Its persistent address at the origin (the link "see it where it was told").
    url: Mapped[str] = mapped_column(String(500))
    title_es: Mapped[str] = mapped_column(String(300), default="")
    title_en: Mapped[str] = mapped_column(String(300), default="")
    summary_es: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    credit: Mapped[str] = mapped_column(String(300), default="")
    language: Mapped[str] = mapped_column(String(8), default="es")
    published_on: Mapped[date | None] = mapped_column(Date)
    #: The public paragraphs (None for one withheld at the origin), and their translation.
    paragraphs: Mapped[list[str | None]] = mapped_column(JSON, default=list)
    translation: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: [{"slug", "name": {"es", "en"}, "local": our slug or None}] for themes and places.
    themes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    places: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: Addresses on the origin: [{"alt": {"es", "en"}, "thumbnail", "display", "original"}].
    images: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: [{"audio": address or None, "cues": [{"start", "text", "translation"}]}].
    recordings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    content_warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Whether its narrator allows it in collections (the origin's read API says; no: not said).
    in_collections: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The origin said it changed (a narrower consent, a withheld passage): hidden until it is
    #: read again, so that nothing wider than the narrator now allows is shown meanwhile.
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    partner: Mapped[Partner] = relationship(back_populates="stories")

    def title(self, locale: str) -> str:
        return localized(self.title_es, self.title_en, locale)

    def summary(self, locale: str) -> str:
        return localized(self.summary_es, self.summary_en, locale)
