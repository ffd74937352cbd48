"""What an export holds, written into its payload folder (``data/`` of the bag).

    dublin-core.csv                          one row per story (Dublin Core elements)
    stories/<id>/story.json                  the story in both languages, with its media list
                                             (a recording's parts: start, title, keywords, synopsis)
    stories/<id>/<media id>.<ext>            its media files
    stories/<id>/<media id>.transcript.<lang>.vtt    a recording's transcript (WebVTT; speakers
                                                     as voice spans, ``<v Name>``)
    stories/<id>/<media id>.translation.<lang>.vtt   and its translation
    collections/<id>.json                    collections, with their entries and texts
    vocabularies/themes.json, places.json    the terms the exported stories use (all, when full)
    withdrawn.json                           full export only: tombstones (public id and day)

The public export reads everything through ``nuevonorte.consent`` (and the media variant the
public gets through ``nuevonorte.public.media.public_key``; speakers and parts through
``transcripts.public_speakers`` and ``transcripts.public_segments``): what the public site shows
and nothing else. The full export is the workshop's preservation copy: every story not withdrawn,
original media, withheld paragraphs and cues marked as withheld, and every consent record.
"""

from __future__ import annotations

import csv
import html
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload
from webvtt import Caption, WebVTT

from nuevonorte import consent, transcripts, withheld_words
from nuevonorte.content_warnings import WARNINGS
from nuevonorte.extensions import db
from nuevonorte.models import (
    PERMISSION_WORDS,
    PERMISSIONS,
    Collection,
    CollectionEntry,
    ConsentRecord,
    EntryKind,
    MediaFile,
    MediaKind,
    Place,
    Story,
    StoryStatus,
    Theme,
    Transcript,
    TranscriptSegment,
)
from nuevonorte.models.media import DCMI_TYPE
from nuevonorte.public.content import language_code
from nuevonorte.public.media import public_key
from nuevonorte.storage import get_storage

#: Stories loaded at a time, so memory stays flat however large the archive.
BATCH = 200
#: Bytes copied at a time: a media file is streamed, never read whole.
CHUNK = 1 << 20
#: Which variant of each kind the public export holds (what the public pages show: photos
#: without metadata at display size; the recording the public hears). A missing kind: nothing.
PUBLIC_VARIANT = {MediaKind.IMAGE: "display", MediaKind.AUDIO: "original"}
DC_COLUMNS = [
    "dc:identifier",
    "dc:title@es",
    "dc:title@en",
    "dc:description@es",
    "dc:description@en",
    "dc:subject@es",
    "dc:subject@en",
    "dc:coverage@es",
    "dc:coverage@en",
    "dc:date",
    "dc:language",
    "dc:rights",
    "dc:type",
]
WITHHELD_NOTE = "withheld from the public"


@dataclass
class Counts:
    """What an export wrote."""

    stories: int = 0
    media: int = 0
    collections: int = 0
    withdrawn: int = 0
    themes: set[int] = field(default_factory=set)
    places: set[int] = field(default_factory=set)


def write_payload(root: Path, *, public: bool) -> Counts:
    """Write every part of the payload into ``root`` (an empty folder)."""
    counts = Counts()
    stories_root = root / "stories"
    stories_root.mkdir()
    with (root / "dublin-core.csv").open("w", newline="", encoding="utf-8") as f:
        manifest = csv.writer(f)
        manifest.writerow(DC_COLUMNS)
        for story in _stories(public):
            record = _write_story(stories_root / story.public_id, story, public, counts)
            manifest.writerow(_dublin_core(story, record, public))
            counts.stories += 1
    _write_collections(root / "collections", public, counts)
    _write_vocabularies(root / "vocabularies", public, counts)
    if not public:
        counts.withdrawn = _write_tombstones(root / "withdrawn.json")
    return counts


# --- stories --------------------------------------------------------------------------------


def _stories(public: bool) -> Iterator[Story]:
    """Every story the mode exports, in batches by id; for the public one, asked of the rule
    twice (its SQL to select, its Python predicate for each story loaded)."""
    # The full export is the workshop's copy: what curators may read, never a story its narrator
    # keeps to themselves ("nobody but me, for now").
    query: Select[Story] = consent.public_stories() if public else consent.curator_readable_stories()
    query = query.order_by(Story.id).limit(BATCH)
    query = query.options(
        selectinload(Story.consents),
        selectinload(Story.themes),
        selectinload(Story.places),
        selectinload(Story.media).selectinload(MediaFile.transcript).selectinload(Transcript.cues),
        selectinload(Story.media).selectinload(MediaFile.transcript).selectinload(Transcript.segments),
    )
    last = 0
    while True:
        batch = db.session.scalars(query.where(Story.id > last)).all()
        for story in batch:
            if consent.story_is_public(story) if public else consent.curators_may_read(story):
                yield story
        if len(batch) < BATCH:
            return
        last = batch[-1].id


def _write_story(folder: Path, story: Story, public: bool, counts: Counts) -> dict[str, Any]:
    folder.mkdir()
    record: dict[str, Any] = {
        "id": story.public_id,
        "url": _story_url(story),
        "language": story.original_language,
        "title": {"es": story.title_es, "en": story.title_en},
        "summary": {"es": story.summary_es, "en": story.summary_en},
        "body": _body(story, public),
        "themes": [_term(t) for t in story.themes],
        "places": [{**_term(p), "country": p.country_code, "level": str(p.level)} for p in story.places],
        "period": {"start": story.period_start, "end": story.period_end},
        "published": _day(story.published_on),
        "credit": consent.credit_line(story),
        "content_warnings": [
            {"code": code, "label": _both(lambda c=code: str(WARNINGS[c]))}
            for code in story.warning_codes()
            if code in WARNINGS
        ],
        "media": [_write_media(folder, m, public) for m in story.media],
    }
    record["media"] = [m for m in record["media"] if m is not None]
    if not public:
        record.update(
            status=str(story.status),
            submitted=_day(story.submitted_on),
            consent_history=[_consent(c) for c in story.consents],
        )
    counts.media += sum(1 for m in record["media"] if m["file"])
    counts.themes.update(t.id for t in story.themes)
    counts.places.update(p.id for p in story.places)
    _write_json(folder / "story.json", record)
    return record


def _body(story: Story, public: bool) -> list[Any]:
    """The paragraphs: in public, withheld ones left out; in full, each marked."""
    if public:
        return [text for text in consent.public_paragraphs(story) if text is not None]
    withheld = story.restricted_indexes()
    told = story.told_paragraphs()
    return [
        {
            "text": text,
            "withheld": i in withheld,
            "withheld_words": withheld_words.withheld(story, withheld_words.TOLD, i),
        }
        | ({"as_told": told[i]} if story.corrected and i < len(told) and told[i] != text else {})
        for i, text in enumerate(story.paragraphs())
    ]


def _write_media(folder: Path, media: MediaFile, public: bool) -> dict[str, Any] | None:
    """Copy one media file (the variant the mode allows) and its transcripts; its entry in the
    story's media list, or None when the public export holds nothing of it."""
    if public:
        variant = PUBLIC_VARIANT.get(media.kind)
        key = public_key(media, variant) if variant else None
        lines = _public_lines(media) if _has_public_transcript(media) else []
        if key is None and not lines:
            return None
    else:
        key = media.storage_key
        lines = _all_lines(media)
    entry: dict[str, Any] = {"id": media.public_id, "kind": str(media.kind), "file": None}
    if key is not None:
        name = f"{media.public_id}.{key.rsplit('.', 1)[1]}"
        _copy_stored(key, folder / name)
        entry["file"] = name
    if media.kind == MediaKind.IMAGE:
        entry["alt"] = {"es": media.alt_es, "en": media.alt_en}
    if media.duration_seconds is not None:
        entry["duration_seconds"] = media.duration_seconds
    if media.transcript is not None and lines:
        entry["transcript"] = _write_transcripts(folder, media, media.transcript, lines, public)
    parts = (
        transcripts.public_segments(media)
        if public
        else (media.transcript.segments if media.transcript else [])
    )
    if parts:
        entry["parts"] = [_part(segment) for segment in parts]
    return entry


@dataclass(frozen=True)
class _Line:
    """One transcript passage as the mode exports it."""

    start_ms: int
    end_ms: int
    text: str
    translation: str
    speaker: str  # "" for none
    withheld: bool = False  # full export only: withheld from the public, whole
    words: withheld_words.CueWords | None = withheld_words.NO_WORDS  # full export: withheld inside


def _public_lines(media: MediaFile) -> list[_Line]:
    """The passages as the public reads them (withheld words as markers), with the speaker
    labels the public sees (``transcripts.public_speakers``)."""
    cues = consent.public_cues(media)
    labels = transcripts.public_speakers(media) or [""] * len(cues)
    return [
        _Line(cue.start_ms, cue.end_ms, cue.text, cue.translation, label)
        for cue, label in zip(cues, labels, strict=True)
        if cue is not None
    ]


def _all_lines(media: MediaFile) -> list[_Line]:
    """Every passage as written, with its speaker and what is withheld of it marked."""
    cues = media.transcript.cues if media.transcript else []
    return [
        _Line(c.start_ms, c.end_ms, c.text, c.translation, c.speaker, c.restricted, withheld_words.of_cue(c))
        for c in cues
    ]


def _part(segment: TranscriptSegment) -> dict[str, Any]:
    return {
        "start_ms": segment.start_ms,
        "start": _clock(segment.start_ms),
        "title": {"es": segment.title_es, "en": segment.title_en},
        "keywords": {"es": segment.keywords_es, "en": segment.keywords_en},
        "synopsis": {"es": segment.synopsis_es, "en": segment.synopsis_en},
    }


def _has_public_transcript(media: MediaFile) -> bool:
    return media.transcript is not None and consent.transcript_is_public(media)


def _write_transcripts(
    folder: Path, media: MediaFile, transcript: Transcript, lines: list[_Line], public: bool
) -> dict[str, Any]:
    lang = language_code(transcript.language)
    name = f"{media.public_id}.transcript.{lang}.vtt"
    (folder / name).write_text(_vtt(lines, "text", marked=not public), encoding="utf-8")
    described: dict[str, Any] = {"language": transcript.language, "file": name}
    if not public:
        # Made by speech recognition and not reviewed yet: not the narrator's words as checked.
        described["machine_draft"] = transcript.machine_draft
        described["withheld_cues"] = [n for n, line in enumerate(lines) if line.withheld]
        # Words withheld inside a passage, by passage number (None: stored value unreadable).
        described["withheld_words"] = {
            str(n): _words(line.words) for n, line in enumerate(lines) if line.words is None or line.words
        }
    if transcript.translation_language and any(line.translation.strip() for line in lines):
        tlang = language_code(transcript.translation_language)
        tname = f"{media.public_id}.translation.{tlang}.vtt"
        (folder / tname).write_text(_vtt(lines, "translation", marked=not public), encoding="utf-8")
        described["translation"] = {"language": transcript.translation_language, "file": tname}
    return described


def _words(words: withheld_words.CueWords | None) -> dict[str, Any] | None:
    """The words withheld in a passage's text and translation; None when they cannot be read
    (then the public gets none of the passage)."""
    return None if words is None else {"text": list(words.text), "translation": list(words.translation)}


def _vtt(lines: list[_Line], attribute: str, *, marked: bool) -> str:
    """Passages as a WebVTT file, each speaker as a voice span (``<v Name>``); ``marked``: a
    withheld passage carries a NOTE and a telling id."""
    captions = []
    for n, line in enumerate(lines):
        texts = [html.escape(t.strip(), quote=False) for t in getattr(line, attribute).splitlines()]
        texts = [t for t in texts if t]
        if not texts:
            continue
        speaker = " ".join(line.speaker.split())
        if speaker:
            texts[0] = f"<v {html.escape(speaker, quote=False)}>{texts[0]}"
        caption = Caption(_clock(line.start_ms), _clock(line.end_ms), texts)
        if marked and line.withheld:
            caption.identifier = f"withheld-{n}"
            caption.comments = [WITHHELD_NOTE]
        captions.append(caption)
    content: str = WebVTT(captions=captions).content
    return content


def _clock(ms: int) -> str:
    seconds, millis = divmod(max(ms, 0), 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _copy_stored(key: str, target: Path) -> None:
    """Stream a stored file into the package."""
    with get_storage().open(key) as source, target.open("xb") as out:
        shutil.copyfileobj(source, out, CHUNK)


def _consent(record: ConsentRecord) -> dict[str, Any]:
    return {
        "seq": record.seq,
        "recorded": _day(record.recorded_on),
        "given_by": str(record.given_by),
        "visibility": str(record.visibility),
        "credit": str(record.credit),
        "credit_name": record.credit_name,
        **{name: record.choices.allows(name) for name in PERMISSIONS},
        "embargo_until": _day(record.embargo_until),
        "text_version": record.text_version,
        "text_language": record.text_language,
    }


# --- Dublin Core ------------------------------------------------------------------------------


def _dublin_core(story: Story, record: dict[str, Any], public: bool) -> list[str]:
    """One row of the manifest; every cell made safe to open in a spreadsheet."""
    kinds = {MediaKind(m["kind"]) for m in record["media"] if m["file"]}
    row = [
        record["url"] or story.public_id,
        story.title_es,
        story.title_en,
        story.summary_es,
        story.summary_en,
        "; ".join(t.name("es") for t in story.themes),
        "; ".join(t.name("en") for t in story.themes),
        _coverage(story, "es"),
        _coverage(story, "en"),
        _day(story.published_on) or ("" if public else _day(story.submitted_on) or ""),
        story.original_language,
        _rights(story, public),
        "; ".join(["Text", *sorted(DCMI_TYPE[k] for k in kinds if k in DCMI_TYPE)]),
    ]
    return [_spreadsheet_safe(cell) for cell in row]


def _coverage(story: Story, lang: str) -> str:
    """Where (the story's places) and when (its period, "1998–2003")."""
    years = [str(y) for y in dict.fromkeys((story.period_start, story.period_end)) if y is not None]
    return "; ".join([*(p.name(lang) for p in story.places), *(["–".join(years)] if years else [])])


def _rights(story: Story, public: bool) -> str:
    """The credit line and what the narrator's consent allows."""
    credit = consent.credit_line(story)
    line = f"Credited to {credit}" if credit else "Told anonymously"
    current = story.current_consent
    if current is None:
        return f"{line}; no consent recorded."
    granted = [name for name in PERMISSIONS if current.choices.allows(name)]
    if public:  # what is published: the text, and the kinds of file their choice allows
        media = set(consent.MEDIA_CHOICE.values())
        shown = ["text", *(PERMISSION_WORDS[name].rights for name in granted if name in media)]
        return f"{line}; published with the narrator's consent ({', '.join(shown)})."
    allowed = ["text", *(PERMISSION_WORDS[name].rights for name in granted)]
    summary = f"{line}; consent: visible to {current.visibility}; allowed: {', '.join(allowed)}"
    if current.embargo_until:
        summary += f"; embargoed until {current.embargo_until.isoformat()}"
    return summary + "."


def _spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection): such a first character
    gets an apostrophe before it, which spreadsheets hide."""
    return f"'{cell}" if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


# --- collections, vocabularies, tombstones ------------------------------------------------------


def _write_collections(folder: Path, public: bool, counts: Counts) -> None:
    folder.mkdir()
    query = consent.public_collections() if public else select(Collection)
    query = query.order_by(Collection.id).options(
        selectinload(Collection.entries).selectinload(CollectionEntry.story).selectinload(Story.consents)
    )
    for collection in db.session.scalars(query):
        record: dict[str, Any] = {
            "id": collection.public_id,
            "title": {"es": collection.title_es, "en": collection.title_en},
            "introduction": {"es": collection.intro_es, "en": collection.intro_en},
            "published": _day(collection.published_on),
            "cover": _cover(collection, public),
            "entries": [e for e in (_entry(entry, public) for entry in collection.entries) if e is not None],
        }
        if not public:
            record["status"] = str(collection.status)
        _write_json(folder / f"{collection.public_id}.json", record)
        counts.collections += 1


def _cover(collection: Collection, public: bool) -> dict[str, str] | None:
    cover = collection.cover
    if cover is None or (public and not consent.media_is_public(cover)):
        return None
    if not public and cover.story.status == StoryStatus.WITHDRAWN:
        return None
    return {"story": cover.story.public_id, "media": cover.public_id}


def _entry(entry: CollectionEntry, public: bool) -> dict[str, Any] | None:
    text = {"es": entry.text_es, "en": entry.text_en}
    if entry.kind == EntryKind.TEXT:
        return {"kind": "text", "text": text}
    if public and not consent.entry_story_is_public(entry):
        return None
    if entry.story is None:
        return None
    described: dict[str, Any] = {"kind": "story", "story": entry.story.public_id, "note": text}
    if not public and entry.story.status == StoryStatus.WITHDRAWN:
        described = {"kind": "story", "story": entry.story.public_id, "withdrawn": True}
    return described


def _write_vocabularies(folder: Path, public: bool, counts: Counts) -> None:
    """Themes and places: in public only the terms an exported story uses."""
    folder.mkdir()
    themes = db.session.scalars(select(Theme).order_by(Theme.slug)).all()
    places = db.session.scalars(select(Place).order_by(Place.slug)).all()
    if public:
        themes = [t for t in themes if t.id in counts.themes]
        places = [p for p in places if p.id in counts.places]
    _write_json(folder / "themes.json", [_term(t) for t in themes])
    _write_json(
        folder / "places.json",
        [{**_term(p), "country": p.country_code, "level": str(p.level)} for p in places],
    )


def _write_tombstones(path: Path) -> int:
    """Withdrawn stories: their public id and the day, nothing else."""
    rows = db.session.execute(
        select(Story.public_id, Story.withdrawn_on)
        .where(Story.status == StoryStatus.WITHDRAWN)
        .order_by(Story.id)
    ).all()
    _write_json(path, [{"id": public_id, "withdrawn": _day(day)} for public_id, day in rows])
    return len(rows)


# --- small helpers ----------------------------------------------------------------------------


def _term(term: Theme | Place) -> dict[str, Any]:
    return {
        "id": term.slug,
        "slug": {"es": term.slug, "en": term.slug_en},
        "name": {"es": term.name_es, "en": term.name_en},
    }


def _both(text: Any) -> dict[str, str]:
    """A translated label in both languages (``text`` is called under each locale)."""
    labels = {}
    for lang in ("es", "en"):
        with force_locale(lang):
            labels[lang] = text()
    return labels


def _story_url(story: Story) -> str | None:
    """The story's public address, when it is public and the archive has one (``public_url``)."""
    base: str = current_app.config["PUBLIC_URL"]
    if not base or not consent.story_is_public(story):
        return None
    path = current_app.url_map.bind("localhost").build(
        "public.story", {"lang": "es", "story_id": story.public_id}
    )
    return base + path


def _day(day: Any) -> str | None:
    return day.isoformat() if day is not None else None


def _write_json(path: Path, value: Any) -> None:
    with path.open("x", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, indent=2)
        f.write("\n")
