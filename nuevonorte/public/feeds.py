"""Atom feeds, one per language (``/es/feed.atom``, ``/en/feed.atom``): stories and collections
as they are published or change, and an RFC 6721 ``deleted-entry`` for each that leaves public
view, so that a feed reader or a partner's aggregator removes its copy.

The feed is the newest part of the change feed (``nuevonorte.changes``): an entry's ``id`` is
the persistent address (``public.persistent``), its ``updated`` the day of its last change
(midnight UTC: the archive keeps days, not times). Titles and summaries are in the feed's
language where they were written in it, else in the other language with ``xml:lang``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from xml.etree import ElementTree as ET

from flask import Blueprint, Response
from flask_babel import gettext as _

from nuevonorte import changes, consent
from nuevonorte.content_warnings import labels
from nuevonorte.i18n import current_locale, prefix_language
from nuevonorte.models.base import today
from nuevonorte.public.address import absolute_url
from nuevonorte.public.content import shown
from nuevonorte.public.media import MAX_AGE  # one limit for everything handed out
from nuevonorte.public.persistent import collection_url, story_url

bp = Blueprint("feeds", __name__, url_prefix="/<lang>")
prefix_language(bp)

ATOM = "http://www.w3.org/2005/Atom"
TOMBSTONES = "http://purl.org/atompub/tombstones/1.0"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ET.register_namespace("", ATOM)
ET.register_namespace("at", TOMBSTONES)
#: Entries per feed: readers poll often; the change feed (``/api/v1/changes``) has everything.
ENTRIES = 50


@bp.get("/feed.atom")
def feed() -> Response:
    changes.announce_due()
    lang = current_locale()
    entries = changes.latest(ENTRIES)
    root = ET.Element(f"{{{ATOM}}}feed")
    root.set(XML_LANG, lang)
    _add(root, "id", absolute_url("feeds.feed", lang=lang))
    _add(root, "title", _("Nuevo Norte — new in the archive"))
    _add(root, "subtitle", _("Stories and collections as they are published, and those that leave view."))
    _add(root, "updated", _when(entries[0].day if entries else None))
    ET.SubElement(root, f"{{{ATOM}}}link", rel="self", href=absolute_url("feeds.feed", lang=lang))
    ET.SubElement(root, f"{{{ATOM}}}link", rel="alternate", href=absolute_url("public.home", lang=lang))
    author = ET.SubElement(root, f"{{{ATOM}}}author")
    _add(author, "name", "Taller Nuevo Norte")
    for entry in entries:
        if entry.change is changes.Change.REMOVED:
            _tombstone(root, entry)
        else:
            _entry(root, entry)
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    response = Response(body, content_type="application/atom+xml; charset=utf-8")
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    return response


def _entry(root: ET.Element, entry: changes.Entry) -> None:
    item = ET.SubElement(root, f"{{{ATOM}}}entry")
    if entry.story is not None:
        story = entry.story
        address = story_url(story.public_id)
        page = absolute_url("public.story", lang=current_locale(), story_id=story.public_id)
        title = shown(story.title_es, story.title_en)
        summary = shown(story.summary_es, story.summary_en)
        who = consent.credit_line(story) or _("Anonymous")
        published = story.published_on
        untitled = _("Untitled story")
        warnings = labels(story.warning_codes())
    else:
        assert entry.collection is not None  # a change that is not a removal has its item
        collection = entry.collection
        address = collection_url(collection.public_id)
        page = absolute_url("public.collection", lang=current_locale(), collection_id=collection.public_id)
        title = shown(collection.title_es, collection.title_en)
        summary = shown("", "")
        who = "Taller Nuevo Norte"
        published = collection.published_on
        untitled = _("Untitled collection")
        warnings = []
    _add(item, "id", address)
    _add(item, "title", title.text or untitled, title.lang)
    _add(item, "updated", _when(entry.day, entry.seq))
    if published is not None:
        _add(item, "published", _when(published))
    ET.SubElement(item, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=page)
    author = ET.SubElement(item, f"{{{ATOM}}}author")
    _add(author, "name", who)
    if summary.text:
        _add(item, "summary", summary.text, summary.lang)
    for label in warnings:  # the content warnings, as the public cards show them beside the summary
        ET.SubElement(
            item, f"{{{ATOM}}}category", term=label, label=_("Content warning: %(what)s", what=label)
        )


def _tombstone(root: ET.Element, entry: changes.Entry) -> None:
    story = entry.kind is changes.Kind.STORY
    address = story_url(entry.public_id) if story else collection_url(entry.public_id)
    gone = ET.SubElement(root, f"{{{TOMBSTONES}}}deleted-entry", ref=address, when=_when(entry.day))
    comment = ET.SubElement(gone, f"{{{TOMBSTONES}}}comment")
    comment.text = _("No longer public. Please remove your copy.")


def _add(parent: ET.Element, name: str, text: str, lang: str | None = None) -> None:
    element = ET.SubElement(parent, f"{{{ATOM}}}{name}")
    element.text = text
    if lang:
        element.set(XML_LANG, lang)


def _when(day: date | None, seq: int = 0) -> str:
    """A day as Atom's date-time. With ``seq`` (the change's number), the seconds after midnight
    count changes, not time, so that a second change on one day is newer to a feed reader
    (which refreshes an entry only when ``updated`` grows): the archive keeps days, never times."""
    return (datetime.combine(day or today(), time(), UTC) + timedelta(seconds=seq % 86_400)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
