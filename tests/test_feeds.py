"""Atom feeds per language (issue 17): what is published, read back by a real feed reader
(feedparser), and an RFC 6721 deleted-entry when a story or a collection leaves public view."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time

import feedparser
import pytest
from flask.testing import FlaskClient
from lxml import etree

from nuevonorte import collections, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Credit, CuratorAccount, Story, Visibility

MakeStory = Callable[..., Story]
ATOM = "http://www.w3.org/2005/Atom"
TOMBSTONES = "http://purl.org/atompub/tombstones/1.0"


def read_feed(client: FlaskClient, lang: str) -> tuple[feedparser.FeedParserDict, etree._Element]:
    response = client.get(f"/{lang}/feed.atom")
    db.session.rollback()
    assert response.status_code == 200
    assert response.content_type == "application/atom+xml; charset=utf-8"
    assert response.cache_control.max_age == 300
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed, etree.fromstring(response.data)


def tombstones(root: etree._Element) -> dict[str, str]:
    return {e.get("ref"): e.get("when") for e in root.iter(f"{{{TOMBSTONES}}}deleted-entry")}


def test_each_language_has_its_feed_of_what_is_published(client: FlaskClient, make_story: MakeStory) -> None:
    story = make_story(
        title="La noche que llegamos", title_en="The night we arrived", summary_es="Un regreso."
    )
    spanish, _ = read_feed(client, "es")
    english, _ = read_feed(client, "en")
    assert spanish.feed.language == "es" and english.feed.language == "en"
    assert spanish.feed.title == "Nuevo Norte — lo nuevo en el archivo"
    (es_entry,) = spanish.entries
    (en_entry,) = english.entries
    assert es_entry.id == en_entry.id == f"http://localhost/s/{story.public_id}"
    assert (es_entry.title, en_entry.title) == ("La noche que llegamos", "The night we arrived")
    assert es_entry.link == f"http://localhost/es/stories/{story.public_id}"
    assert en_entry.link == f"http://localhost/en/stories/{story.public_id}"
    assert en_entry.summary == "Un regreso." and en_entry.summary_detail.language == "es"
    assert es_entry.author == "Ana"
    page = client.get("/en/").get_data(as_text=True)
    assert 'type="application/atom+xml"' in page and 'href="http://localhost/en/feed.atom"' in page


def test_a_story_that_leaves_view_becomes_a_tombstone_and_one_never_public_is_never_named(
    client: FlaskClient, make_story: MakeStory
) -> None:
    leaving = make_story(title="Se va")
    narrowed = make_story(title="Se estrecha")
    never = make_story(choices=ConsentChoices(visibility=Visibility.CURATORS), title="NUNCA_PUBLICA")
    stories.withdraw(leaving)
    stories.change_consent(narrowed, ConsentChoices(visibility=Visibility.CURATORS), language="es")
    db.session.commit()
    parsed, root = read_feed(client, "en")
    assert parsed.entries == []
    gone = tombstones(root)
    assert set(gone) == {f"http://localhost/s/{s.public_id}" for s in (leaving, narrowed)}
    # A day, never a time: midnight UTC.
    assert {datetime.fromisoformat(when).timetz() for when in gone.values()} == {time(tzinfo=UTC)}
    text = etree.tostring(root, encoding="unicode")
    assert never.public_id not in text and "NUNCA_PUBLICA" not in text and "Se va" not in text
    comment = root.find(f"{{{TOMBSTONES}}}deleted-entry/{{{TOMBSTONES}}}comment")
    assert comment is not None and comment.text == "No longer public. Please remove your copy."


def test_a_collection_is_an_entry_while_published_then_a_tombstone(
    client: FlaskClient, make_curator: Callable[..., CuratorAccount]
) -> None:
    curator = make_curator()
    collection = collections.create(curator, title_es="Regresos", title_en="Returns")
    db.session.commit()
    assert read_feed(client, "es")[0].entries == []  # a draft is nobody's business
    collections.publish(collection, curator)
    db.session.commit()
    (entry,) = read_feed(client, "en")[0].entries
    assert (entry.id, entry.title) == (f"http://localhost/c/{collection.public_id}", "Returns")
    collections.unpublish(collection, curator)
    db.session.commit()
    parsed, root = read_feed(client, "en")
    assert parsed.entries == [] and set(tombstones(root)) == {f"http://localhost/c/{collection.public_id}"}


@pytest.mark.parametrize("path", ["/xx/feed.atom", "/es/feed.rss"])
def test_other_feed_addresses_are_404(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_a_second_change_the_same_day_is_newer_to_a_feed_reader(
    client: FlaskClient, make_story: MakeStory
) -> None:
    """A reader refreshes an entry only when its updated grows: a narrator who becomes
    anonymous an hour after publishing must not stay named in readers until tomorrow."""
    story = make_story(title="Un relato", content_warnings="detention")
    (before,) = read_feed(client, "en")[0].entries
    assert before.author == "Ana"
    assert [t.label for t in before.tags] == ["Content warning: Detention"]
    stories.change_consent(story, ConsentChoices(credit=Credit.ANONYMOUS), language="es")
    db.session.commit()
    (after,) = read_feed(client, "en")[0].entries
    assert after.author == "Anonymous" and after.updated_parsed > before.updated_parsed
    assert after.updated[:10] == before.updated[:10]  # the same day: days, never times
