"""THE rule for what is public. Every public surface asks this module and nothing else.

A story is publicly visible on a given day when all of these hold:

- a curator published it (status ``published``; a withdrawn story is a tombstone),
- its newest consent record says ``public``,
- the consent's embargo date, if any, has come.

Within a visible story, images follow ``photos_public`` and audio ``voice_public``; the
transcript of a recording is shown even when the voice may not be heard. While passages of a
recording are withheld, the public hears only a copy with their seconds silent. A story appears in a
collection only when it is visible and its consent allows collections.

The rule exists twice — as Python predicates for objects already loaded, and as SQL for
listings — side by side here, and ``tests/test_consent_rule.py`` checks that the two agree
on every combination of status, consent and embargo.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from nuevonorte import withheld_words
from nuevonorte.models import (
    PERMISSIONS,
    Collection,
    CollectionEntry,
    CollectionStatus,
    ConsentRecord,
    Credit,
    Cue,
    EntryKind,
    MediaFile,
    MediaKind,
    Story,
    StoryStatus,
    Visibility,
)
from nuevonorte.models.base import today
from nuevonorte.models.consent import ConsentChoices as ConsentChoices  # declared with its record

#: The version of the consent text shown to contributors; recorded with every choice.
CONSENT_TEXT_VERSION = "2026-12-b"


#: Which consent choice governs each kind of media. A kind missing here is never public: the
#: Python predicate and the SQL twin both read this table, so a new kind fails closed.
MEDIA_CHOICE: dict[MediaKind, str] = {
    MediaKind.IMAGE: "photos_public",
    MediaKind.AUDIO: "voice_public",
}

_VISIBILITY_ORDER = [Visibility.CONTRIBUTOR, Visibility.CURATORS, Visibility.PUBLIC]
_CREDIT_ORDER = [Credit.ANONYMOUS, Credit.PSEUDONYM, Credit.NAME]


def widenings(old: ConsentChoices, new: ConsentChoices) -> list[str]:
    """The names of the choices in which ``new`` exposes more than ``old``.

    An empty list means ``new`` is the same or narrower in every respect, which is all a
    curator may do. Changing the credited name itself (not only its kind) counts as widening:
    only the contributor decides how they are named.
    """
    wider = []
    if _VISIBILITY_ORDER.index(new.visibility) > _VISIBILITY_ORDER.index(old.visibility):
        wider.append("visibility")
    if _CREDIT_ORDER.index(new.credit) > _CREDIT_ORDER.index(old.credit) or (
        new.credit != Credit.ANONYMOUS and new.credit_name != old.credit_name
    ):
        wider.append("credit")
    wider += [name for name in PERMISSIONS if new.allows(name) and not old.allows(name)]
    if old.embargo_until is not None and (new.embargo_until is None or new.embargo_until < old.embargo_until):
        wider.append("embargo_until")
    return wider


# --- objects already loaded ---------------------------------------------------------------


class Standing(enum.StrEnum):
    """Why a story is, or is not, public on a given day (what ``story_is_public`` decides)."""

    PUBLIC = "public"
    NOT_PUBLISHED = "not-published"  # not published by a curator (or withdrawn)
    NO_CONSENT = "no-consent"
    CURATORS_ONLY = "curators-only"  # the newest consent narrowed it to curators
    CONTRIBUTOR_ONLY = "contributor-only"  # ... or to the contributor alone
    EMBARGOED = "embargoed"  # public consent whose embargo date has not come


def standing(story: Story, on: date | None = None) -> Standing:
    """The rule itself: whether ``story`` is public on day ``on`` (today by default), and if
    not, the first reason why. ``story_is_public`` and the curators' wording both read this."""
    consent = story.current_consent
    if story.status != StoryStatus.PUBLISHED:
        return Standing.NOT_PUBLISHED
    if consent is None:
        return Standing.NO_CONSENT
    if consent.visibility == Visibility.CURATORS:
        return Standing.CURATORS_ONLY
    if consent.visibility != Visibility.PUBLIC:
        return Standing.CONTRIBUTOR_ONLY
    if consent.embargo_until is not None and consent.embargo_until > (on or today()):
        return Standing.EMBARGOED
    return Standing.PUBLIC


def public_from(story: Story) -> date | None:
    """The day ``story``'s current state makes it public (its embargo's end, or the day it was
    published), or None when the current state keeps it out of view whatever the day: what
    harvesters are told of it (``nuevonorte.publication``)."""
    if standing(story, date.max) is not Standing.PUBLIC:
        return None
    current = story.current_consent
    assert current is not None  # a public standing has a consent
    published = story.published_on or today()
    return max(published, current.embargo_until) if current.embargo_until else published


def story_is_public(story: Story, on: date | None = None) -> bool:
    """Whether anyone may see ``story`` on day ``on`` (today by default)."""
    return standing(story, on) is Standing.PUBLIC


def story_is_embeddable(story: Story, on: date | None = None) -> bool:
    """Whether ``story`` may be shown inside another website (the embedded player, oEmbed):
    while it is public, and only if its narrator's newest consent says so."""
    current = story.current_consent
    return story_is_public(story, on) and current is not None and current.choices.embeddable


def curators_may_read(story: Story) -> bool:
    """Whether curators may read ``story``'s words and see its media.

    Not for a tombstone, and not while its contributor keeps it to themselves ("nobody but me,
    for now"): curators then know only that it exists, its day and status (hole 7 of issue 10).
    """
    consent = story.current_consent
    return story.status != StoryStatus.WITHDRAWN and (
        consent is None or consent.visibility != Visibility.CONTRIBUTOR
    )


def media_is_public(media: MediaFile, on: date | None = None) -> bool:
    """Whether ``media`` (and its derivatives) may be served to anyone."""
    return story_is_public(media.story, on) and media_choice_allows(media)


def media_choice_allows(media: MediaFile) -> bool:
    """Whether the narrator's newest consent lets this kind of file be public (their photos,
    their voice) once the story is; an unknown kind never. The curators' preview reads this."""
    consent = media.story.current_consent
    choice = MEDIA_CHOICE.get(media.kind)
    return consent is not None and choice is not None and consent.choices.allows(choice)


def transcript_is_public(media: MediaFile, on: date | None = None) -> bool:
    """Whether the transcript of an audio file may be shown (even if its voice may not): never
    while it is a machine draft no curator has reviewed."""
    return media.kind == MediaKind.AUDIO and not is_machine_draft(media) and story_is_public(media.story, on)


def is_machine_draft(media: MediaFile) -> bool:
    """Whether the recording's transcript came from speech recognition and no curator has
    reviewed it yet: then none of it is public (``transcript_is_public``, ``public_cues``)."""
    return media.transcript is not None and media.transcript.machine_draft


def collection_is_public(collection: Collection) -> bool:
    """Whether a collection's page may be shown. Its stories are judged one by one."""
    return collection.status == CollectionStatus.PUBLISHED


def entry_story_is_public(entry: CollectionEntry, on: date | None = None) -> bool:
    """Whether the story of a collection entry may be shown inside the collection."""
    if entry.kind != EntryKind.STORY or entry.story is None:
        return False
    if not story_is_public(entry.story, on):
        return False
    consent = entry.story.current_consent
    return consent is not None and consent.choices.in_collections


def public_paragraphs(story: Story) -> list[str | None]:
    """The story's paragraphs as the public may see them: None marks a withheld paragraph, and
    words withheld inside one are ``withheld_words.MARK`` (the one rule for the body)."""
    withheld = story.restricted_indexes()
    words = withheld_words.of(story)
    return [
        None if i in withheld else withheld_words.public_told(story, i, text, words)
        for i, text in enumerate(story.paragraphs())
    ]


@dataclass(frozen=True)
class PublicCue:
    """A transcript cue as the public may read it: withheld words are ``withheld_words.MARK``,
    and ``translation`` is "" where it may not be shown. No speaker: that is
    ``transcripts.public_speakers``."""

    id: int
    position: int
    start_ms: int
    end_ms: int
    text: str
    translation: str


def public_cues(media: MediaFile) -> list[PublicCue | None]:
    """The transcript cues of ``media`` as the public may see them, in order; None marks a
    cue withheld whole, or one whose withheld words cannot be applied (the one rule for cues).
    A machine draft no curator has reviewed has no public cues."""
    return [] if is_machine_draft(media) else cues_once_reviewed(media)


def cues_once_reviewed(media: MediaFile) -> list[PublicCue | None]:
    """``public_cues`` as they will be once a machine draft is reviewed: what the sensitive-passage
    assistant reads, so that a draft's words are flagged before anyone can make them public."""
    if media.transcript is None:
        return []
    shown: list[PublicCue | None] = []
    for cue in media.transcript.cues:
        words = None if cue.restricted else withheld_words.of_cue(cue)
        readable = withheld_words.public_cue(cue.text, cue.translation, words)
        shown.append(
            None if readable is None else PublicCue(cue.id, cue.position, cue.start_ms, cue.end_ms, *readable)
        )
    return shown


def cue_withheld(cue: Cue) -> bool:
    """Whether a curator withheld ``cue`` whole or in part: then none of its seconds may be
    heard (where in the cue the words are spoken is not known), and a translator may change
    only its translation (``curate.transcripts``)."""
    return cue.restricted or bool(cue.withheld_words)


def cue_withheld_clause() -> ColumnElement[bool]:
    """``cue_withheld`` in SQL, for queries over many cues (the curators' queue filter)."""
    return or_(Cue.restricted.is_(True), Cue.withheld_words != "")


def withheld_ranges(media: MediaFile) -> tuple[tuple[int, int], ...] | None:
    """The seconds of a recording's withheld passages, as merged (start, end) milliseconds in
    order; None when a withheld passage has no times (then no second of it may be heard). A
    passage with withheld words is silent whole."""
    if media.transcript is None:
        return ()
    spans = sorted((cue.start_ms, cue.end_ms) for cue in media.transcript.cues if cue_withheld(cue))
    if any(end <= start for start, end in spans):
        return None
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def ranges_digest(ranges: tuple[tuple[int, int], ...]) -> str:
    """A short fingerprint of withheld ranges: which ranges a silenced copy was made for."""
    text = ",".join(f"{start}-{end}" for start, end in ranges)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def public_audio_key(media: MediaFile, on: date | None = None) -> str | None:
    """The stored file the public may hear for a recording, or None (T05).

    The original when no passage is withheld; while some are, only the copy whose silenced
    ranges are exactly today's withheld ranges; none while that copy is being made, or when a
    withheld passage has no times.
    """
    if media.kind != MediaKind.AUDIO or not media_is_public(media, on):
        return None
    ranges = withheld_ranges(media)
    if ranges is None:
        return None
    if not ranges:
        return media.storage_key
    if media.public_audio_key and media.public_audio_for == ranges_digest(ranges):
        return media.public_audio_key
    return None


def credit_line(story: Story) -> str | None:
    """The name to credit publicly, or None for anonymous (callers show "Anonymous")."""
    consent = story.current_consent
    if consent is None or consent.credit == Credit.ANONYMOUS or not consent.credit_name:
        return None
    return consent.credit_name


# --- the same rule as SQL, for listings ---------------------------------------------------


def newest_consent_id() -> ColumnElement[int]:
    """A correlated subquery: the id of the newest consent record of ``Story``."""
    return (
        select(ConsentRecord.id)
        .where(ConsentRecord.story_id == Story.id)
        .order_by(ConsentRecord.seq.desc())
        .limit(1)
        .correlate(Story)
        .scalar_subquery()
    )


def _story_visible_clause(on: date) -> ColumnElement[bool]:
    return and_(
        Story.status == StoryStatus.PUBLISHED,
        ConsentRecord.visibility == Visibility.PUBLIC,
        or_(ConsentRecord.embargo_until.is_(None), ConsentRecord.embargo_until <= on),
    )


def public_stories(on: date | None = None) -> Select[Story]:
    """A query for every story visible on day ``on``; add ordering and filters to it."""
    return (
        select(Story)
        .join(ConsentRecord, ConsentRecord.id == newest_consent_id())
        .where(_story_visible_clause(on or today()))
    )


def curator_readable_stories() -> Select[Story]:
    """A query for every story curators may read (the SQL twin of ``curators_may_read``)."""
    return (
        select(Story)
        .outerjoin(ConsentRecord, ConsentRecord.id == newest_consent_id())
        .where(
            Story.status != StoryStatus.WITHDRAWN,
            or_(ConsentRecord.id.is_(None), ConsentRecord.visibility != Visibility.CONTRIBUTOR),
        )
    )


def public_media(on: date | None = None) -> Select[MediaFile]:
    """A query for every media file that may be served on day ``on``."""
    return (
        select(MediaFile)
        .join(Story, MediaFile.story_id == Story.id)
        .join(ConsentRecord, ConsentRecord.id == newest_consent_id())
        .where(
            _story_visible_clause(on or today()),
            or_(
                *(
                    and_(MediaFile.kind == kind, ConsentRecord.permission_column(choice).is_(True))
                    for kind, choice in MEDIA_CHOICE.items()
                )
            ),
        )
    )


def public_collections() -> Select[Collection]:
    """A query for every published collection."""
    return select(Collection).where(Collection.status == CollectionStatus.PUBLISHED)
