"""Partner stories kept, replaced and removed: the database rows, their public index entries and
the collection entries that show them.

What is kept of a story is what its origin's read API gave as public, as plain text (pages escape
it; nothing is ever rendered as HTML), each text cut to a bounded length, and files only as
addresses on the origin. A story the origin withdrew is deleted, not marked: its row (SQLite's
``secure_delete`` overwrites it), its index entry (purged from the segments like any withdrawn
story's), and its place in collections, which then say it was withdrawn at its origin.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from nuevonorte import audit, database
from nuevonorte.extensions import db
from nuevonorte.models import CollectionEntry, Partner, PartnerStory, Place, Theme
from nuevonorte.models.base import utcnow
from nuevonorte.partners import address, shown
from nuevonorte.search import store
from nuevonorte.search.documents import partner_document

#: The longest text kept of each kind (characters).
LIMITS = {"title": 300, "summary": 4000, "credit": 300, "paragraph": 20_000, "cue": 2000, "label": 200}
MAX_PARAGRAPHS = 400
MAX_ITEMS = 100
MAX_CUES = 5000


class BadStory(ValueError):
    """A story whose shape is not the read API's: it is not kept (an older copy is removed)."""


def text(value: object, kind: str) -> str:
    """``value`` as plain text: a string, control characters dropped, cut to its limit."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadStory(kind)
    kept = "".join(c for c in value if c in "\n\t" or unicodedata.category(c)[0] != "C")
    return kept[: LIMITS[kind]]


def both(value: object, kind: str) -> tuple[str, str]:
    if value is None:
        return "", ""
    if not isinstance(value, dict):
        raise BadStory(kind)
    return text(value.get("es"), kind), text(value.get("en"), kind)


def items(value: object, limit: int = MAX_ITEMS) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadStory("list")
    return value[:limit]


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _terms(value: object, model: type[Theme] | type[Place]) -> list[dict[str, Any]]:
    terms = []
    for term in items(value):
        if not isinstance(term, dict):
            raise BadStory("term")
        name_es, name_en = both(term.get("name"), "label")
        given = term.get("slug")
        slugs = given if isinstance(given, dict) else {}
        slug = text(slugs.get("es") or term.get("id"), "label")
        local = db.session.scalar(
            select(model.slug).where(
                (model.slug == slug)
                | (db.func.lower(model.name_es) == name_es.lower())
                | (db.func.lower(model.name_en) == name_en.lower())
            )
        )
        terms.append({"slug": slug, "name": {"es": name_es, "en": name_en}, "local": local})
    return terms


def _images(value: object, base: str) -> list[dict[str, Any]]:
    images = []
    for image in items(value):
        if not isinstance(image, dict) or not isinstance(image.get("files"), dict):
            raise BadStory("image")
        alt_es, alt_en = both(image.get("alt"), "label")
        files = {
            v: address.on_partner(base, image["files"].get(v)) for v in ("thumbnail", "display", "original")
        }
        if any(files.values()):
            images.append({"alt": {"es": alt_es, "en": alt_en}, **files})
    return images


def _recordings(value: object, base: str) -> list[dict[str, Any]]:
    recordings = []
    for recording in items(value):
        if not isinstance(recording, dict):
            raise BadStory("recording")
        given = recording.get("transcript")
        transcript = given if isinstance(given, dict) else {}
        cues = []
        for cue in items(transcript.get("cues"), MAX_CUES):
            if cue is None:
                continue  # a passage withheld at the origin: nothing of it comes here
            if not isinstance(cue, dict) or not isinstance(cue.get("start_seconds"), int | float):
                raise BadStory("cue")
            cues.append(
                {
                    "start": float(cue["start_seconds"]),
                    "text": text(cue.get("text"), "cue"),
                    "translation": text(cue.get("translation"), "cue"),
                }
            )
        audio = address.on_partner(base, recording.get("audio"))
        if audio or cues:
            recordings.append({"audio": audio, "cues": cues})
    return recordings


def keep(partner: Partner, data: object) -> PartnerStory:
    """Insert or replace the partner story the origin's read API gave (in the caller's
    transaction). ``BadStory`` when it is not shaped as one."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise BadStory("story")
    remote_id = data["id"]
    if not address.REMOTE_ID.fullmatch(remote_id):
        raise BadStory("id")
    found = db.session.scalar(
        select(PartnerStory).where(PartnerStory.partner_id == partner.id, PartnerStory.remote_id == remote_id)
    )
    story = found or PartnerStory(partner_id=partner.id, remote_id=remote_id)
    story.url = address.on_partner(partner.url, data.get("url")) or address.endpoint(partner.url, "/")
    story.title_es, story.title_en = both(data.get("title"), "title")
    story.summary_es, story.summary_en = both(data.get("summary"), "summary")
    story.credit = text(data.get("credit"), "credit")
    story.language = "en" if data.get("language") == "en" else "es"
    story.published_on = _day(data.get("published"))
    given = data.get("text")
    body = given if isinstance(given, dict) else {}
    story.paragraphs = [
        None if p is None else text(p, "paragraph") for p in items(body.get("paragraphs"), MAX_PARAGRAPHS)
    ]
    given = data.get("translation")
    translation = given if isinstance(given, dict) else {}
    story.translation = [
        text(p.get("text"), "paragraph")
        for p in items(translation.get("paragraphs"), MAX_PARAGRAPHS)
        if isinstance(p, dict) and p.get("text")
    ]
    story.themes = _terms(data.get("themes"), Theme)
    story.places = _terms(data.get("places"), Place)
    story.images = _images(data.get("images"), partner.url)
    story.recordings = _recordings(data.get("recordings"), partner.url)
    story.content_warnings = [
        text(w, "label") for w in items(data.get("content_warnings")) if isinstance(w, str)
    ]
    story.in_collections = data.get("in_collections") is True
    story.stale = False
    story.fetched_at = utcnow()
    if found is None:
        db.session.add(story)
    else:  # the words it replaces leave the SQLite WAL too (a narrowing: a name, a passage)
        database.checkpoint_after_commit(db.session())
    db.session.flush()
    logged([story.id])
    return story


def remove(partner: Partner, remote_ids: Iterable[str]) -> list[int]:
    """Delete the partner's stories with these origin ids (in the caller's transaction); the
    collection entries that showed them keep the partner's name and say they were withdrawn at
    their origin. Returns the ids removed, for ``index``."""
    return _delete(partner, _held(partner, remote_ids))


def _held(partner: Partner, remote_ids: Iterable[str]) -> list[int]:
    """Our ids of the partner's stories with these origin ids."""
    wanted = [r for r in remote_ids if isinstance(r, str)]
    if not wanted:
        return []
    return list(
        db.session.scalars(
            select(PartnerStory.id).where(
                PartnerStory.partner_id == partner.id, PartnerStory.remote_id.in_(wanted)
            )
        )
    )


def hide(partner: Partner, remote_ids: Iterable[str]) -> list[int]:
    """Hide the partner's stories with these origin ids until they are read again (the origin
    said they changed: what it shows now may be narrower). Returns their ids, for ``index``."""
    ids = _held(partner, remote_ids)
    if ids:
        db.session.execute(update(PartnerStory).where(PartnerStory.id.in_(ids)).values(stale=True))
        audit.record("partner.stories_changed", "partner", str(partner.id))
    return logged(ids)


def remove_all_but(partner: Partner, remote_ids: set[str]) -> list[int]:
    """Delete every story of the partner whose id is not in ``remote_ids`` (after reading its
    whole feed again: what it no longer lists is not public there)."""
    held = db.session.execute(
        select(PartnerStory.id, PartnerStory.remote_id).where(PartnerStory.partner_id == partner.id)
    ).all()
    return _delete(partner, [i for i, remote in held if remote not in remote_ids])


def _delete(partner: Partner, ids: list[int]) -> list[int]:
    if not ids:
        return []
    # Through the ORM, so that each collection showing one is numbered as changed (its feed entry
    # and cached pages) in this transaction.
    for entry in db.session.scalars(select(CollectionEntry).where(CollectionEntry.partner_story_id.in_(ids))):
        entry.partner_story_id = None
        entry.partner_id = partner.id
    db.session.flush()
    db.session.execute(delete(PartnerStory).where(PartnerStory.id.in_(ids)))
    audit.record("partner.stories_removed", "partner", str(partner.id))
    database.checkpoint_after_commit(db.session())  # the old text leaves the SQLite WAL too
    return logged(ids)


def sid(story_id: int) -> str:
    """A partner story's key in the public index (a story's is its number alone)."""
    return f"p{story_id}"


def logged(ids: list[int]) -> list[int]:
    """Write a search-log entry for each of these partner stories in the caller's transaction
    (as a story's change does), so that every machine's index follows them whatever happens
    after the commit; returns ``ids``."""
    from nuevonorte.search import follow

    follow.write(db.session(), partner_stories=ids)
    return ids


def log_partner(partner_id: int) -> None:
    """Entries for every story of a partner (its stories were hidden or shown again as a whole)."""
    logged(list(db.session.scalars(select(PartnerStory.id).where(PartnerStory.partner_id == partner_id))))


def write_index(ids: Iterable[int], session: Session, root: Path | None = None) -> None:
    """Write these partner stories to the public index under ``root`` as they are now: a shown
    story's entry written, any other's deleted (and purged from the segments)."""
    wanted = sorted(set(ids))
    if not wanted or not store.has_files(store.PUBLIC, root):
        return
    now = utcnow()
    found = {s.id: s for s in session.scalars(select(PartnerStory).where(PartnerStory.id.in_(wanted)))}
    docs = [partner_document(found[i]) for i in wanted if i in found and shown.story_is_shown(found[i], now)]
    written = {d.fields["sid"] for d in docs}
    gone = [sid(i) for i in wanted if sid(i) not in written]
    with store.open_reader(store.PUBLIC, root) as reader:
        gone = [s for s in gone if ("sid", s) in reader]
    if docs or gone:
        store.write_public(docs, gone, root)


def out_of_step(partner_id: int | None = None) -> tuple[set[int], set[int]]:
    """Partner stories the public index holds but may not show (removed at their origin, hidden),
    and those it may show but lacks: of one partner, or of all (``nuevonorte check``, which also
    finds the entries of a partner since removed)."""
    with store.open_reader(store.PUBLIC) as reader:
        if partner_id is None:
            sids = {sid for sid in store.indexed_sids(store.PUBLIC) if sid.startswith("p")}
        else:
            term = ("source", f"p{partner_id}")
            docnums = reader.postings(*term).all_ids() if term in reader else []
            sids = {reader.stored_fields(n)["sid"] for n in docnums if not reader.is_deleted(n)}
    indexed = {int(sid[1:]) for sid in sids}
    query = shown.shown_stories().with_only_columns(PartnerStory.id)
    if partner_id is not None:
        query = query.where(PartnerStory.partner_id == partner_id)
    wanted = set(db.session.scalars(query))
    return indexed - wanted, wanted - indexed


def reconcile(partner_id: int) -> int:
    """Bring the public index in step with everything of one partner: what a process killed
    between a commit and its index write left (a removed story's words still in the index
    files, a new one missing from search). Run before each harvest; returns how many it fixed."""
    if not store.has_files(store.PUBLIC):
        return 0
    leaked, missing = out_of_step(partner_id)
    repair(leaked | missing)
    return len(leaked | missing)


def repair(ids: set[int]) -> None:
    """Write these partner stories to this machine's index as they are now (what ``out_of_step``
    found: the log was followed, but this index differs)."""
    from nuevonorte.search import sync

    if ids:
        with sync.own_session(write=False) as session:
            write_index(ids, session)


def forget_confirmations() -> None:
    """After a restore of our own older backup (in the caller's transaction): every partner's
    stories are hidden until its feed has been read again from the start (an empty cursor), and
    its subscription is asked for again."""
    db.session.execute(
        update(Partner).values(
            confirmed_at=None, cursor="", expired=True, last_attempt_at=None, subscribed_at=None
        )
    )
    logged(list(db.session.scalars(select(PartnerStory.id))))


def expire(partner: Partner) -> bool:
    """Hide the stories of a partner that has not confirmed them in time: their index entries
    are deleted now (pages and search already check the rule as they read). True when it did."""
    if partner.expired or shown.partner_is_fresh(partner):
        return False
    db.session.execute(update(Partner).where(Partner.id == partner.id).values(expired=True))
    audit.record("partner.expired", "partner", str(partner.id))
    log_partner(partner.id)
    return True
