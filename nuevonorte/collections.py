"""Curators building collections: text, cover, ordered entries, publishing."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from nuevonorte import audit, consent
from nuevonorte.extensions import db
from nuevonorte.models import (
    Collection,
    CollectionEntry,
    CollectionStatus,
    CuratorAccount,
    EntryKind,
    MediaFile,
    MediaKind,
    Story,
    StoryStatus,
)
from nuevonorte.models.base import today


class CollectionRefused(Exception):
    """A collection change the rules do not allow; nothing was changed."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = str(message)


COVER_NOT_PUBLIC = _l("The cover must be a public photo of one of the collection's stories.")
STORY_UNAVAILABLE = _l("That story does not exist or was withdrawn.")


def _audit(action: str, collection: Collection, curator: CuratorAccount) -> None:
    db.session.flush()
    audit.record(action, "collection", collection.public_id, actor=curator)


def create(curator: CuratorAccount, title_es: str = "", title_en: str = "") -> Collection:
    """A new draft collection."""
    collection = Collection(title_es=title_es.strip(), title_en=title_en.strip())
    db.session.add(collection)
    _audit("collection.created", collection, curator)
    return collection


def update_text(collection: Collection, curator: CuratorAccount, **texts: str) -> None:
    """Set the bilingual title and introduction."""
    for name in ("title_es", "title_en", "intro_es", "intro_en"):
        if name in texts:
            setattr(collection, name, texts[name].strip())
    _audit("collection.edited", collection, curator)


def cover_candidates(collection: Collection) -> list[MediaFile]:
    """Images of the collection's stories that the public may see: the only possible covers."""
    return [
        media
        for entry in collection.entries
        if entry.story is not None and consent.entry_story_is_public(entry)
        for media in entry.story.media
        if media.kind == MediaKind.IMAGE and consent.media_is_public(media)
    ]


def set_cover(collection: Collection, media: MediaFile | None, curator: CuratorAccount) -> None:
    """Choose the cover among ``cover_candidates`` (or none)."""
    if media is not None and media not in cover_candidates(collection):
        raise CollectionRefused(COVER_NOT_PUBLIC)
    collection.cover = media
    _audit("collection.cover_changed", collection, curator)


def add_story(
    collection: Collection, story: Story, curator: CuratorAccount, note_es: str = "", note_en: str = ""
) -> CollectionEntry:
    """Append a story with an optional bilingual note."""
    if story.status == StoryStatus.WITHDRAWN:
        raise CollectionRefused(STORY_UNAVAILABLE)
    entry = CollectionEntry(
        kind=EntryKind.STORY,
        story=story,
        text_es=note_es.strip(),
        text_en=note_en.strip(),
        position=len(collection.entries),
    )
    collection.entries.append(entry)
    _audit("collection.entry_added", collection, curator)
    return entry


def add_text(collection: Collection, curator: CuratorAccount, text_es: str, text_en: str) -> CollectionEntry:
    """Append a block of curatorial Markdown text."""
    entry = CollectionEntry(
        kind=EntryKind.TEXT,
        text_es=text_es.strip(),
        text_en=text_en.strip(),
        position=len(collection.entries),
    )
    collection.entries.append(entry)
    _audit("collection.entry_added", collection, curator)
    return entry


def edit_entry(entry: CollectionEntry, curator: CuratorAccount, text_es: str, text_en: str) -> None:
    """Change an entry's note or text."""
    entry.text_es, entry.text_en = text_es.strip(), text_en.strip()
    _audit("collection.entry_edited", entry.collection, curator)


def move(entry: CollectionEntry, step: int, curator: CuratorAccount) -> None:
    """Move an entry one place up (-1) or down (+1)."""
    entries = list(entry.collection.entries)
    i = entries.index(entry)
    j = i + step
    if not 0 <= j < len(entries):
        return
    entries[i], entries[j] = entries[j], entries[i]
    for position, e in enumerate(entries):
        e.position = position
    _audit("collection.reordered", entry.collection, curator)


def remove(entry: CollectionEntry, curator: CuratorAccount) -> None:
    """Remove an entry and close the gap."""
    collection = entry.collection
    collection.entries.remove(entry)
    for position, e in enumerate(collection.entries):
        e.position = position
    _audit("collection.entry_removed", collection, curator)


def completeness(collection: Collection) -> list[str]:
    """Codes of what is missing before publishing: translations and alt text."""
    gaps = [
        f"{name}_{lang}"
        for name in ("title", "intro")
        for lang in ("es", "en")
        if not getattr(collection, f"{name}_{lang}")
    ]
    if not collection.entries:
        gaps.append("entries")
    for n, entry in enumerate(collection.entries, start=1):
        if entry.kind == EntryKind.TEXT:
            gaps += [f"entry_{lang}:{n}" for lang in ("es", "en") if not getattr(entry, f"text_{lang}")]
        elif entry.story is not None:
            if entry.story.status == StoryStatus.WITHDRAWN or not consent.entry_story_is_public(entry):
                gaps.append(f"story_not_public:{n}")
            if (entry.text_es or entry.text_en) and not (entry.text_es and entry.text_en):
                gaps.append(f"note:{n}")
            for lang in ("es", "en"):
                if not getattr(entry.story, f"title_{lang}"):
                    gaps.append(f"story_title_{lang}:{n}")
            for media in entry.story.media:
                if media.kind == MediaKind.IMAGE and consent.media_is_public(media):
                    gaps += [f"alt_{lang}:{n}" for lang in ("es", "en") if not getattr(media, f"alt_{lang}")]
    return gaps


def publish(collection: Collection, curator: CuratorAccount) -> None:
    """Publish the collection; its stories stay subject to their own consent, one by one."""
    collection.status = CollectionStatus.PUBLISHED
    collection.published_on = collection.published_on or today()
    _audit("collection.published", collection, curator)


def unpublish(collection: Collection, curator: CuratorAccount) -> None:
    """Take the collection off the public site."""
    collection.status = CollectionStatus.DRAFT
    _audit("collection.unpublished", collection, curator)
