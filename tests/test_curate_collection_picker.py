"""Issue 16, collections at volume: the story picker (the staff index, checked against the
database), adding several stories at once, and the whole order saved at once.

Real SQLite, a real Whoosh index, real requests. Only stories whose narrator's newest consent
allows collections can be added (the domain refuses the others, also when the consent narrowed
after the page was loaded); stories kept "nobody but me" or withdrawn are never offered (C02);
an order chosen on an older page is a 409 and changes nothing (C21).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from nuevonorte import collections, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import (
    AuditEvent,
    Collection,
    CollectionEntry,
    CuratorAccount,
    Story,
    StoryStatus,
    Visibility,
)
from tests.curate_fixtures import add_image, csrf

MakeStory = Callable[..., Story]
pytestmark = pytest.mark.usefixtures("index")

ALLOWED = ConsentChoices(credit_name="Ana")
NOT_ALLOWED = ConsentChoices(credit_name="Ana", in_collections=False)


def collection_of(curator: CuratorAccount, *members: Story, text: str = "") -> Collection:
    """A committed draft collection holding ``members`` (and a block of ``text``, if given)."""
    collection = collections.create(curator, "Caminos", "Roads")
    for story in members:
        collections.add_story(collection, story, curator)
    if text:
        collections.add_text(collection, curator, text, text)
    db.session.commit()
    return collection


def fresh(collection: Collection) -> Collection:
    db.session.rollback()
    db.session.expire_all()
    found = db.session.get(Collection, collection.id)
    assert found is not None
    return found


def in_english(client: FlaskClient) -> FlaskClient:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def picker(client: FlaskClient, collection: Collection, q: str) -> tuple[str, dict[str, str]]:
    """The collection page after searching ``q``, and each offered story's part of it by id."""
    response = client.get(f"/curate/collections/{collection.public_id}", query_string={"q": q})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    found = re.search(r'<ul class="picker">(.*?)</ul>\s*<p><button', page, re.DOTALL)
    items = found.group(1).split("<li>")[1:] if found else []
    offered = {}
    for item in items:
        m = re.search(r'name="story" value="([^"]+)"', item)
        assert m
        offered[m.group(1)] = item
    return page, offered


def post(client: FlaskClient, collection: Collection, path: str, data: list[tuple[str, Any]]) -> Any:
    """POST to the collection's ``path`` with a real CSRF token, as a browser sends a form."""
    url = f"/curate/collections/{collection.public_id}"
    response = client.post(url + path, data=MultiDict([("csrf_token", csrf(client, url)), *data]))
    db.session.rollback()
    return response


def entry_stories(collection: Collection) -> list[str | None]:
    return [e.story.public_id if e.story else e.text_es for e in fresh(collection).entries]


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_the_picker_shows_what_curators_need_and_never_a_sealed_or_withdrawn_story(
    curator_client: FlaskClient, curator: CuratorAccount, make_story: MakeStory
) -> None:
    client = in_english(curator_client)
    public = make_story(StoryStatus.PUBLISHED, title="Frontera pública", choices=ALLOWED)
    refused = make_story(StoryStatus.PUBLISHED, title="Frontera sin colecciones", choices=NOT_ALLOWED)
    waiting = make_story(StoryStatus.SUBMITTED, title="", body="Llegamos a la frontera de noche.")
    with_photo = make_story(StoryStatus.SUBMITTED, title="Frontera con foto", choices=ALLOWED)
    photo = add_image(with_photo)
    present = make_story(StoryStatus.PUBLISHED, title="Frontera ya incluida", choices=ALLOWED)
    sealed = make_story(
        StoryStatus.PUBLISHED,
        title="Frontera sellada",
        choices=replace(ALLOWED, visibility=Visibility.CONTRIBUTOR),
    )
    withdrawn = make_story(StoryStatus.PUBLISHED, title="Frontera retirada", choices=ALLOWED)
    stories.withdraw(withdrawn)
    db.session.commit()
    collection = collection_of(curator, present)

    page, offered = picker(client, collection, "frontera")
    assert set(offered) == {s.public_id for s in (public, refused, waiting, with_photo, present)}
    assert "sellada" not in page and "retirada" not in page
    assert sealed.public_id not in page and withdrawn.public_id not in page

    def badges(story: Story) -> str:
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", offered[story.public_id]))

    def tickable(story: Story) -> bool:
        tag = re.search(r"<input [^>]*>", offered[story.public_id])
        assert tag
        return " disabled" not in tag.group(0)

    assert "Public now" in badges(public) and "Allowed in collections" in badges(public)
    assert tickable(public)
    assert "Public now" in badges(refused) and "Not allowed in collections" in badges(refused)
    assert not tickable(refused)
    assert "Not public now" in badges(waiting) and "Allowed in collections" in badges(waiting)
    assert tickable(waiting)
    assert "Untitled story" in badges(waiting)
    assert "Already in this collection" in badges(present) and not tickable(present)
    # A thumbnail only through the curators' media route, never the public /media/.
    assert f'src="/curate/media/{photo.public_id}/thumbnail"' in offered[with_photo.public_id]
    assert 'src="/media/' not in page
    assert client.get(f"/curate/media/{photo.public_id}/thumbnail", buffered=True).status_code == 200
    # An excerpt: the words met, or the beginning of the story.
    assert "frontera" in badges(waiting).lower()

    # Before any search: the newest stories curators may read, marked the same way.
    page, newest = picker(client, collection, "")
    assert set(newest) == set(offered) and "The newest stories." in page
    assert sealed.public_id not in page and withdrawn.public_id not in page
    assert newest[refused.public_id] == offered[refused.public_id]

    # The narrator narrows: the story leaves the picker at once (the staff index and the check).
    stories.change_consent(public, replace(ALLOWED, visibility=Visibility.CONTRIBUTOR), language="es")
    db.session.commit()
    page, offered = picker(client, collection, "frontera")
    assert public.public_id not in offered and "Frontera pública" not in page


def test_several_stories_are_added_at_once(
    curator_client: FlaskClient, curator: CuratorAccount, make_story: MakeStory, client: FlaskClient
) -> None:
    first = make_story(StoryStatus.PUBLISHED, title="Camino uno", choices=ALLOWED)
    second = make_story(StoryStatus.SUBMITTED, title="Camino dos", choices=ALLOWED)
    collection = collection_of(curator)
    _page, offered = picker(in_english(curator_client), collection, "camino")
    assert set(offered) == {first.public_id, second.public_id}

    before = fresh(collection).revision
    added = post(
        curator_client,
        collection,
        "/stories",
        [("q", "camino"), ("story", second.public_id), ("story", first.public_id)],
    )
    assert added.status_code == 302
    assert added.headers["Location"].endswith(f"/curate/collections/{collection.public_id}?q=camino#order")
    assert entry_stories(collection) == [second.public_id, first.public_id]
    assert fresh(collection).revision > before
    assert "2 stories added." in curator_client.get(added.headers["Location"]).get_data(as_text=True)
    trail = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id == collection.public_id)
    ).all()
    assert trail.count("collection.entry_added") == 2
    # Both are now marked, and cannot be ticked again.
    _page, offered = picker(curator_client, collection, "camino")
    assert all("Already in this collection" in item for item in offered.values())


def test_a_story_not_allowed_in_collections_is_refused_and_nothing_is_added(
    curator_client: FlaskClient, curator: CuratorAccount, make_story: MakeStory
) -> None:
    client = in_english(curator_client)
    allowed = make_story(StoryStatus.PUBLISHED, title="Se puede", choices=ALLOWED)
    refused = make_story(StoryStatus.PUBLISHED, title="No se puede", choices=NOT_ALLOWED)
    collection = collection_of(curator)
    entries = count(CollectionEntry)

    both = [("story", allowed.public_id), ("story", refused.public_id)]
    answer = post(client, collection, "/stories", [("q", "puede"), *both])
    assert answer.status_code == 409
    text = answer.get_data(as_text=True)
    assert "Nothing was added." in text and "did not allow it in collections" in text
    assert "No se puede" in text  # named, and the search is still there to correct the ticks
    assert count(CollectionEntry) == entries
    # The old way, by id, asks the same rule.
    by_id = post(client, collection, "/entries", [("story_id", refused.public_id)])
    assert by_id.status_code == 409 and count(CollectionEntry) == entries
    with pytest.raises(collections.CollectionRefused):
        collections.add_story(fresh(collection), db.session.get(Story, refused.id), curator)
    db.session.rollback()


def test_consent_narrowed_after_the_page_was_loaded_is_refused(
    curator_client: FlaskClient, curator: CuratorAccount, make_story: MakeStory
) -> None:
    client = in_english(curator_client)
    story = make_story(StoryStatus.PUBLISHED, title="Cambio de opinión", choices=ALLOWED)
    collection = collection_of(curator)
    _page, offered = picker(client, collection, "opinión")
    assert " disabled" not in offered[story.public_id].split(">")[0]  # tickable when loaded
    # Meanwhile the narrator says no to collections (narrowing takes effect at once).
    stories.change_consent(story, NOT_ALLOWED, language="es")
    db.session.commit()
    answer = post(client, collection, "/stories", [("story", story.public_id)])
    assert answer.status_code == 409 and "did not allow it in collections" in answer.get_data(as_text=True)
    assert fresh(collection).entries == []


def test_unknown_sealed_withdrawn_and_too_many_stories_change_nothing(
    curator_client: FlaskClient, curator: CuratorAccount, make_story: MakeStory
) -> None:
    client = in_english(curator_client)
    good = make_story(StoryStatus.PUBLISHED, title="Buena", choices=ALLOWED)
    sealed = make_story(
        StoryStatus.SUBMITTED, title="Sellada", choices=replace(ALLOWED, visibility=Visibility.CONTRIBUTOR)
    )
    gone = make_story(StoryStatus.PUBLISHED, title="Retirada", choices=ALLOWED)
    stories.withdraw(gone)
    db.session.commit()
    collection = collection_of(curator)
    revision = fresh(collection).revision
    cases: list[tuple[list[tuple[str, Any]], int, str]] = [
        ([("story", good.public_id), ("story", "x" * 16)], 409, "does not exist or was withdrawn"),
        ([("story", good.public_id), ("story", "y" * 5000)], 409, "does not exist or was withdrawn"),
        ([("story", sealed.public_id)], 409, "kept private by its narrator"),
        ([("story", gone.public_id)], 409, "does not exist or was withdrawn"),
        ([("story", good.public_id), ("story", good.public_id)], 409, "already in this collection"),
        ([("story", good.public_id)] * 51, 400, "At most 50 stories"),
        ([], 400, "Tick the stories to add."),
    ]
    for data, status, message in cases:
        answer = post(client, collection, "/stories", data)
        assert answer.status_code == status, (data[:2], answer.status_code)
        assert message in answer.get_data(as_text=True), data[:2]
        assert "Sellada" not in answer.get_data(as_text=True)
        assert fresh(collection).entries == [] and fresh(collection).revision == revision


def order_page(client: FlaskClient, collection: Collection) -> tuple[str, list[int]]:
    """The revision the order form carries and the entry ids in the order shown."""
    page = client.get(f"/curate/collections/{collection.public_id}").get_data(as_text=True)
    form = re.search(r'<form method="post" action="[^"]*/order".*?</form>', page, re.DOTALL)
    assert form
    revision = re.search(r'name="revision" type="hidden" value="(\d+)"', form.group(0))
    assert revision
    return revision.group(1), [int(i) for i in re.findall(r'name="position-(\d+)"', form.group(0))]


def test_the_whole_order_is_saved_at_once(
    curator_client: FlaskClient, curator: CuratorAccount, make_story: MakeStory, client: FlaskClient
) -> None:
    a = make_story(StoryStatus.PUBLISHED, title="Primera historia", choices=ALLOWED)
    b = make_story(StoryStatus.PUBLISHED, title="Segunda historia", choices=ALLOWED)
    collection = collection_of(curator, a, b, text="Entre historias")
    revision, ids = order_page(curator_client, collection)
    assert len(ids) == 3
    new = [(f"position-{ids[0]}", "3"), (f"position-{ids[1]}", "1"), (f"position-{ids[2]}", "2")]
    saved = post(curator_client, collection, "/order", [("revision", revision), *new])
    assert saved.status_code == 302 and saved.headers["Location"].endswith("#order")
    assert entry_stories(collection) == [b.public_id, "Entre historias", a.public_id]
    assert [e.position for e in fresh(collection).entries] == [0, 1, 2]
    assert str(fresh(collection).revision) != revision
    trail = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id == collection.public_id)
    ).all()
    assert trail.count("collection.reordered") == 1

    # The same form again, from the older page: a 409 that says so, and nothing changes.
    stale = post(
        in_english(curator_client),
        collection,
        "/order",
        [
            ("revision", revision),
            (f"position-{ids[0]}", "1"),
            (f"position-{ids[1]}", "2"),
            (f"position-{ids[2]}", "3"),
        ],
    )
    assert stale.status_code == 409
    assert "Someone else changed this collection while you were ordering it" in stale.get_data(as_text=True)
    assert entry_stories(collection) == [b.public_id, "Entre historias", a.public_id]

    # The public page, once published, shows the new order.
    collections.update_text(fresh(collection), curator, intro_es="Intro", intro_en="Intro")
    collections.publish(fresh(collection), curator)
    db.session.commit()
    public = client.get(f"/en/collections/{collection.public_id}").get_data(as_text=True)
    assert (
        public.index("Segunda historia") < public.index("Entre historias") < public.index("Primera historia")
    )


def test_an_entry_added_meanwhile_makes_the_order_stale(
    curator_client: FlaskClient, curator: CuratorAccount, make_story: MakeStory
) -> None:
    a = make_story(StoryStatus.PUBLISHED, title="Una", choices=ALLOWED)
    b = make_story(StoryStatus.PUBLISHED, title="Otra", choices=ALLOWED)
    collection = collection_of(curator, a)
    revision, ids = order_page(curator_client, collection)
    collections.add_story(fresh(collection), db.session.get(Story, b.id), curator)
    db.session.commit()
    stale = post(curator_client, collection, "/order", [("revision", revision), (f"position-{ids[0]}", "1")])
    assert stale.status_code == 409
    assert entry_stories(collection) == [a.public_id, b.public_id]


@pytest.mark.parametrize(
    "places",
    [
        ["1", "1", "2"],  # a duplicated place
        ["1", "2"],  # a missing entry
        ["1", "2", "4"],  # a place past the end
        ["1", "2", "x"],  # not a number
        ["1", "2", "²"],  # not an ASCII number
        ["1", "2", "9" * 5000],  # a huge number
        ["0", "1", "2"],
        ["-1", "1", "2"],
    ],
)
def test_a_bad_order_is_refused_clearly_and_changes_nothing(
    curator_client: FlaskClient, curator: CuratorAccount, make_story: MakeStory, places: list[str]
) -> None:
    a = make_story(StoryStatus.PUBLISHED, title="Una", choices=ALLOWED)
    b = make_story(StoryStatus.PUBLISHED, title="Otra", choices=ALLOWED)
    collection = collection_of(curator, a, b, text="Texto")
    revision, ids = order_page(curator_client, collection)
    before = entry_stories(collection)
    sent = [(f"position-{i}", p) for i, p in zip(ids, places, strict=False)]
    answer = post(in_english(curator_client), collection, "/order", [("revision", revision), *sent])
    assert answer.status_code == 400, places
    text = answer.get_data(as_text=True)
    assert "Nothing was changed." in text
    assert entry_stories(collection) == before and str(fresh(collection).revision) == revision


def test_an_order_with_unknown_or_too_many_entries_changes_nothing(
    curator_client: FlaskClient, curator: CuratorAccount, make_story: MakeStory
) -> None:
    a = make_story(StoryStatus.PUBLISHED, title="Una", choices=ALLOWED)
    b = make_story(StoryStatus.PUBLISHED, title="Otra", choices=ALLOWED)
    collection = collection_of(curator, a, b)
    other = collection_of(curator, a)
    revision, ids = order_page(curator_client, collection)
    before = entry_stories(collection)
    foreign = fresh(other).entries[0].id
    swap = [(f"position-{ids[0]}", "2"), (f"position-{ids[1]}", "1")]
    cases: list[tuple[list[tuple[str, str]], int]] = [
        ([("revision", revision), (f"position-{ids[0]}", "1"), (f"position-{foreign}", "2")], 409),
        ([("revision", revision), *swap, (f"position-{ids[1]}", "3")], 400),  # an entry twice
        ([("revision", revision), *((f"position-{n}", str(n)) for n in range(1, 5001))], 400),  # huge
        ([("revision", revision), (f"position-{ids[0]}", "1"), ("position-9999999999999", "2")], 400),
        (swap, 409),  # no revision
        ([("revision", "9" * 5000), *swap], 409),
        ([("revision", "abc"), *swap], 409),
    ]
    for data, status in cases:
        answer = post(in_english(curator_client), collection, "/order", data)
        assert answer.status_code == status, data[:3]
        assert "Nothing was changed" in answer.get_data(as_text=True)
        assert entry_stories(collection) == before and str(fresh(collection).revision) == revision


def test_the_public_collection_never_shows_a_story_no_longer_allowed(
    curator: CuratorAccount, make_story: MakeStory, client: FlaskClient
) -> None:
    story = make_story(StoryStatus.PUBLISHED, title="Ahora sí", choices=ALLOWED)
    collection = collection_of(curator, story, text="Nota curatorial")
    collections.publish(collection, curator)
    db.session.commit()
    url = f"/es/collections/{collection.public_id}"
    assert "Ahora sí" in client.get(url).get_data(as_text=True)
    stories.change_consent(story, NOT_ALLOWED, language="es")
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "Ahora sí" not in page and "Nota curatorial" in page


def test_names_in_the_order_form_are_escaped_once(
    curator_client: FlaskClient, curator: CuratorAccount, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.PUBLISHED, title="Pan & <sal>", choices=ALLOWED)
    collection = collection_of(curator, story)
    page = (
        in_english(curator_client).get(f"/curate/collections/{collection.public_id}").get_data(as_text=True)
    )
    assert "Move “Pan &amp; &lt;sal&gt;”" in page and 'data-name="Pan &amp; &lt;sal&gt;"' in page
    assert "&amp;amp;" not in page and "<sal>" not in page
