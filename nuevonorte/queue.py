"""The review queue as a query: filters, sorting and counts over every story curators may see
listed (withdrawn stories are tombstones and never listed)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from nuevonorte import consent
from nuevonorte.extensions import db
from nuevonorte.models import (
    ConsentRecord,
    MediaFile,
    MediaKind,
    Place,
    Story,
    StoryStatus,
    Theme,
    Transcript,
)
from nuevonorte.safe_input import number

#: The bilingual fields the "needs translation" filter looks at: empty while the other is not.
TRANSLATABLE = {
    "title_es": (Story.title_es, Story.title_en),
    "title_en": (Story.title_en, Story.title_es),
    "summary_es": (Story.summary_es, Story.summary_en),
    "summary_en": (Story.summary_en, Story.summary_es),
}
SORTS = ("oldest", "newest", "title")
LISTED = set(StoryStatus) - {StoryStatus.WITHDRAWN}
#: How much of a story's text a queue row shows.
EXCERPT = 160


class BadFilter(Exception):
    """A filter value the queue cannot read (a date written otherwise); names the field."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@dataclass(frozen=True)
class Filters:
    """What the curator asked the queue for; empty strings mean "any"."""

    status: str = StoryStatus.SUBMITTED.value
    language: str = ""
    kind: str = ""
    theme: str = ""
    place: str = ""
    since: str = ""
    until: str = ""
    needs: str = ""  # a TRANSLATABLE field, or "any"
    transcript: str = ""  # "with" or "without"
    withheld: str = ""  # "yes": some paragraph or cue is withheld from the public
    consent: str = ""  # "changed": wider or narrower consent since a curator last decided
    assigned: str = ""  # "me", "nobody" or an account id
    sort: str = "oldest"

    @classmethod
    def read(cls, args: Any) -> Filters:
        """The filters in a request's query string; unknown values are treated as "any".
        The status defaults to "waiting for review"; "any" must be asked for."""
        raw = {f.name: str(args.get(f.name, f.default))[:40] for f in fields(cls)}
        if raw["status"] not in {s.value for s in LISTED}:
            raw["status"] = ""
        allowed = {
            "language": {"es", "en"},
            "kind": {k.value for k in MediaKind},
            "needs": {*TRANSLATABLE, "any"},
            "transcript": {"with", "without"},
            "withheld": {"yes"},
            "consent": {"changed"},
            "sort": set(SORTS),
        }
        for name, values in allowed.items():
            if raw[name] not in values:
                raw[name] = "oldest" if name == "sort" else ""
        if raw["assigned"] not in ("me", "nobody") and number(raw["assigned"]) is None:
            raw["assigned"] = ""
        return cls(**raw)

    def link_args(self) -> dict[str, str]:
        """The filters as query arguments for links to other pages of the same listing."""
        args = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}
        return args | {"status": self.status or "any"}


def _day(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadFilter(name) from None


def query(filters: Filters, me: int, locale: str) -> Select[Any]:
    """The stories ``filters`` ask for, in the order asked for."""
    q = select(Story).where(Story.status != StoryStatus.WITHDRAWN)
    q = q.options(selectinload(Story.media), selectinload(Story.consents), selectinload(Story.assigned_to))
    if filters.status:
        q = q.where(Story.status == filters.status)
    if filters.language:
        q = q.where(Story.original_language == filters.language)
    if filters.kind:
        q = q.where(Story.media.any(MediaFile.kind == filters.kind))
    if filters.theme:
        q = q.where(Story.themes.any(Theme.slug == filters.theme))
    if filters.place:
        q = q.where(Story.places.any(Place.slug == filters.place))
    since, until = _day(filters.since, "since"), _day(filters.until, "until")
    if since is not None:
        q = q.where(Story.submitted_on >= since)
    if until is not None:
        q = q.where(Story.submitted_on <= until)
    if filters.needs:
        wanted = TRANSLATABLE if filters.needs == "any" else {filters.needs: TRANSLATABLE[filters.needs]}
        q = q.where(or_(*((empty == "") & (other != "") for empty, other in wanted.values())))
    transcribed = Story.media.any((MediaFile.kind == MediaKind.AUDIO) & MediaFile.transcript.has())
    if filters.transcript == "with":
        q = q.where(transcribed)
    elif filters.transcript == "without":
        q = q.where(Story.media.any(MediaFile.kind == MediaKind.AUDIO), ~transcribed)
    if filters.withheld:
        withheld_cue = MediaFile.transcript.has(Transcript.cues.any(consent.cue_withheld_clause()))
        withheld = or_(
            Story.restricted_paragraphs != "", Story.withheld_words != "", Story.media.any(withheld_cue)
        )
        q = q.where(withheld)
    if filters.consent:
        newest = select(func.max(ConsentRecord.seq)).where(ConsentRecord.story_id == Story.id)
        q = q.where(
            Story.reviewed_consent_seq.is_not(None), newest.scalar_subquery() > Story.reviewed_consent_seq
        )
    if filters.assigned == "me":
        q = q.where(Story.assigned_to_id == me)
    elif filters.assigned == "nobody":
        q = q.where(Story.assigned_to_id.is_(None))
    elif filters.assigned:
        q = q.where(Story.assigned_to_id == int(filters.assigned))
    if filters.sort == "newest":
        return q.order_by(Story.submitted_on.desc(), Story.id.desc())
    if filters.sort == "title":
        return q.order_by(
            Story.id
        )  # ``by_title`` orders it: SQL cannot sort "Álamo" before "Zapata" everywhere
    return q.order_by(Story.submitted_on, Story.id)


def title_key(title: str) -> tuple[bool, str]:
    """How titles sort for a person: accents and case aside ("Álamo" before "barrio" before
    "Zapata"), untitled last."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", title) if not unicodedata.combining(c))
    return (not title, folded.casefold())


def by_title(q: Select[Any], locale: str) -> list[int]:
    """The ids of the stories ``q`` finds, by their title in ``locale`` (the other language when
    untranslated). Read as (id, titles) rows, which a queue of thousands fetches at once."""
    rows = db.session.execute(
        q.with_only_columns(Story.id, Story.title_es, Story.title_en).order_by(None)
    ).all()

    def key(row: Any) -> tuple[tuple[bool, str], int]:
        story_id, es, en = row
        return title_key((en or es) if locale == "en" else (es or en)), story_id

    return [row[0] for row in sorted(rows, key=key)]


def ordered_ids(filters: Filters, me: int, locale: str) -> list[int]:
    """The ids of the stories ``filters`` ask for, in their order (previous/next links)."""
    q = query(filters, me, locale)
    if filters.sort == "title":
        return by_title(q, locale)
    return list(db.session.scalars(q.with_only_columns(Story.id)))


def load(ids: list[int]) -> list[Story]:
    """The stories with ``ids``, in that order, with what a queue row shows."""
    q = select(Story).where(Story.id.in_(ids))
    q = q.options(selectinload(Story.media), selectinload(Story.consents), selectinload(Story.assigned_to))
    found = {s.id: s for s in db.session.scalars(q)}
    return [found[i] for i in ids if i in found]


def counts() -> dict[str, int]:
    """How many stories there are in each listed status, and in all."""
    rows = db.session.execute(
        select(Story.status, func.count()).where(Story.status != StoryStatus.WITHDRAWN).group_by(Story.status)
    ).all()
    found = {str(status): int(n) for status, n in rows}
    return {s.value: found.get(s.value, 0) for s in LISTED} | {"": sum(found.values())}


def excerpt(story: Story) -> str:
    """The beginning of a story's text for its row, cut at a word."""
    text = " ".join(story.body.split())
    if len(text) <= EXCERPT:
        return text
    return text[:EXCERPT].rsplit(" ", 1)[0] + "…"
