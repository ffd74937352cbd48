"""Curators building collections: text, cover, ordered entries, publishing."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_
from sqlalchemy.orm.attributes import flag_modified

from nuevonorte import audit, consent
from nuevonorte.extensions import db
from nuevonorte.i18n import current_locale
from nuevonorte.models import (
    Collection,
    CollectionEntry,
    CollectionStatus,
    CuratorAccount,
    EntryKind,
    MediaFile,
    MediaKind,
    PartnerStory,
    Story,
    StoryStatus,
)
from nuevonorte.models.base import today


class CollectionRefused(Exception):
    """A collection change the rules do not allow; nothing was changed."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = str(message)


class StaleOrder(CollectionRefused):
    """The order was chosen on a page older than the collection (someone changed it since)."""


COVER_NOT_PUBLIC = _l("The cover must be a public photo of one of the collection's stories.")
STORY_UNAVAILABLE = _l("That story does not exist or was withdrawn.")
STORY_SEALED = _l("That story is kept private by its narrator for now: it cannot join a collection.")
STALE_ORDER = _l(
    "Someone else changed this collection while you were ordering it. Nothing was changed: look at"
    " the order now and save yours again."
)


def _changed(collection: Collection) -> None:
    # Entries are rows of their own: a new revision of the collection says its order changed,
    # so an order chosen on an older page is refused (optimistic locking, like the text form).
    flag_modified(collection, "title_es")


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


def refusal(collection: Collection, story: Story) -> str | None:
    """Why ``story`` may not join ``collection``, in words, or None when it may: THE rule for
    adding. Its narrator's newest consent must allow collections; not a withdrawn story, and not
    one already there. (A story kept "nobody but me" is the curators' own rule: they cannot read
    it, so the workspace never offers it and refuses its id with ``STORY_SEALED``.)"""
    if story.status == StoryStatus.WITHDRAWN:
        return str(STORY_UNAVAILABLE)
    readable = consent.curators_may_read(story)
    title = (story.title(current_locale()) if readable else "") or _("Untitled story")
    newest = story.current_consent
    if newest is None or not newest.choices.in_collections:
        return str(_("The narrator of “%(title)s” did not allow it in collections.", title=title))
    if any(entry.story is story for entry in collection.entries):
        return str(_("“%(title)s” is already in this collection.", title=title))
    return None


def may_join(collection: Collection, story: Story) -> bool:
    """Whether ``story`` may be added to ``collection`` now (see ``refusal``)."""
    return refusal(collection, story) is None


def add_story(
    collection: Collection, story: Story, curator: CuratorAccount, note_es: str = "", note_en: str = ""
) -> CollectionEntry:
    """Append a story with an optional bilingual note, if ``refusal`` allows it."""
    refused = refusal(collection, story)
    if refused is not None:
        raise CollectionRefused(refused)
    entry = CollectionEntry(
        kind=EntryKind.STORY,
        story=story,
        text_es=note_es.strip(),
        text_en=note_en.strip(),
        position=len(collection.entries),
    )
    collection.entries.append(entry)
    _changed(collection)
    _audit("collection.entry_added", collection, curator)
    return entry


def add_partner_story(
    collection: Collection, story: PartnerStory, curator: CuratorAccount, note_es: str = "", note_en: str = ""
) -> CollectionEntry:
    """Append a partner archive's story (re-exhibited with its credit), if it is shown now and
    its narrator allows collections (its origin's read API says so)."""
    from nuevonorte.partners import shown

    title = story.title(current_locale()) or _("Untitled story")
    if not shown.story_is_shown(story):
        raise CollectionRefused(STORY_UNAVAILABLE)
    if not story.in_collections:
        raise CollectionRefused(
            _("The narrator of “%(title)s” did not allow it in collections.", title=title)
        )
    if any(entry.partner_story is story for entry in collection.entries):
        raise CollectionRefused(_("“%(title)s” is already in this collection.", title=title))
    entry = CollectionEntry(
        kind=EntryKind.PARTNER_STORY,
        partner_story=story,
        partner_id=story.partner_id,
        text_es=note_es.strip(),
        text_en=note_en.strip(),
        position=len(collection.entries),
    )
    collection.entries.append(entry)
    _changed(collection)
    _audit("collection.entry_added", collection, curator)
    return entry


def add_stories(collection: Collection, stories: Sequence[Story], curator: CuratorAccount) -> None:
    """Append several stories in the order given, all of them or none (the first refusal is
    raised; the caller rolls back)."""
    for story in stories:
        add_story(collection, story, curator)


def add_text(collection: Collection, curator: CuratorAccount, text_es: str, text_en: str) -> CollectionEntry:
    """Append a block of curatorial Markdown text."""
    entry = CollectionEntry(
        kind=EntryKind.TEXT,
        text_es=text_es.strip(),
        text_en=text_en.strip(),
        position=len(collection.entries),
    )
    collection.entries.append(entry)
    _changed(collection)
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
    _changed(entry.collection)
    _audit("collection.reordered", entry.collection, curator)


def reorder(
    collection: Collection, positions: dict[int, int], revision: int | None, curator: CuratorAccount
) -> None:
    """Put every entry at its new place in one go: ``positions`` maps each entry's id to its
    place (1, 2, ...), chosen on a page of the collection at ``revision``. Refused, with nothing
    changed, when the page was older (``StaleOrder``) or when the order is not exactly one place
    for each entry."""
    if revision != collection.revision:
        raise StaleOrder(STALE_ORDER)
    entries = {entry.id: entry for entry in collection.entries}
    if set(positions) - set(entries):
        raise StaleOrder(STALE_ORDER)  # an entry removed meanwhile, or one of another collection
    if set(entries) - set(positions):
        raise CollectionRefused(_("Give a place to every entry. Nothing was changed."))
    if sorted(positions.values()) != list(range(1, len(entries) + 1)):
        raise CollectionRefused(bad_order(collection))
    for entry_id, place in positions.items():
        entries[entry_id].position = place - 1
    collection.entries.sort(key=lambda entry: entry.position)
    _changed(collection)
    _audit("collection.reordered", collection, curator)


def bad_order(collection: Collection) -> str:
    """What an order of the entries must be, when the one sent was not."""
    return str(
        _(
            "Give each entry a different place from 1 to %(num)d. Nothing was changed.",
            num=len(collection.entries),
        )
    )


def remove(entry: CollectionEntry, curator: CuratorAccount) -> None:
    """Remove an entry and close the gap."""
    collection = entry.collection
    collection.entries.remove(entry)
    for position, e in enumerate(collection.entries):
        e.position = position
    _changed(collection)
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


def collections_showing(story: Story) -> list[Collection]:
    """The published collections that show ``story`` (its narrator allows collections), newest
    first: what its page and the read API list."""
    entries = and_(CollectionEntry.kind == EntryKind.STORY, CollectionEntry.story_id == story.id)
    found = db.session.scalars(
        consent.public_collections()
        .where(Collection.entries.any(entries))
        .order_by(Collection.published_on.desc(), Collection.id.desc())
    ).all()
    return [
        collection
        for collection in found
        if any(e.story_id == story.id and consent.entry_story_is_public(e) for e in collection.entries)
    ]
