"""Collections: text, entries, order, cover (public photos only), preview, publish, withdrawal."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from nuevonorte import stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import AuditEvent, Collection, CollectionStatus, Story, StoryStatus
from nuevonorte.rich_text import render_markdown
from tests.curate_fixtures import add_image, post

MakeStory = Callable[..., Story]


def new_collection(client: FlaskClient) -> Collection:
    response = post(client, "/curate/collections", page="/curate/collections")
    assert response.status_code == 302
    public_id = response.headers["Location"].rsplit("/", 1)[-1]
    found = db.session.scalar(select(Collection).where(Collection.public_id == public_id))
    assert found is not None
    return found


def fresh(collection: Collection) -> Collection:
    db.session.rollback()
    db.session.expire_all()
    found = db.session.get(Collection, collection.id)
    assert found is not None
    return found


def test_build_reorder_cover_preview_publish(
    curator_client: FlaskClient, make_story: MakeStory, client: FlaskClient
) -> None:
    with_photos = make_story(
        StoryStatus.PUBLISHED,
        title="Con fotos",
        choices=ConsentChoices(credit_name="Ana", photos_public=True),
    )
    public_photo = add_image(with_photos, alt=True)
    private = make_story(StoryStatus.PUBLISHED, title="Sin fotos públicas")
    private_photo = add_image(private, alt=True)
    c = new_collection(curator_client)
    url = f"/curate/collections/{c.public_id}"
    post(
        curator_client,
        url,
        {
            "revision": fresh(c).revision,
            "title_es": "Cruces",
            "title_en": "Crossings",
            "intro_es": "Intro",
            "intro_en": "Intro EN",
        },
        page=url,
    )
    post(
        curator_client,
        url + "/entries",
        {"story_id": with_photos.public_id, "text_es": "Nota", "text_en": "Note"},
        page=url,
    )
    post(
        curator_client,
        url + "/entries",
        {"text_es": "## Entre relatos", "text_en": "## Between stories"},
        page=url,
    )
    post(curator_client, url + "/entries", {"story_id": private.public_id}, page=url)
    assert [e.kind.value for e in fresh(c).entries] == ["story", "text", "story"]
    text_entry = fresh(c).entries[1]
    assert post(curator_client, f"{url}/entries/{text_entry.id}/up", page=url).status_code == 302
    assert [e.kind.value for e in fresh(c).entries] == ["text", "story", "story"]
    post(curator_client, f"{url}/entries/{text_entry.id}/down", page=url)
    post(curator_client, f"{url}/entries/{text_entry.id}/down", page=url)
    assert [e.kind.value for e in fresh(c).entries] == ["story", "story", "text"]
    post(
        curator_client,
        f"{url}/entries/{text_entry.id}/edit",
        {"text_es": "Otro", "text_en": "Other"},
        page=url,
    )
    assert (fresh(c).entries[2].text_es, fresh(c).entries[2].text_en) == ("Otro", "Other")
    extra = post(curator_client, url + "/entries", {"text_es": "Quitar"}, page=url)
    assert extra.status_code == 302 and len(fresh(c).entries) == 4
    post(curator_client, f"{url}/entries/{fresh(c).entries[3].id}/remove", page=url)
    assert [e.position for e in fresh(c).entries] == [0, 1, 2]
    # The cover must be a public photo of one of its stories.
    refused = post(curator_client, url + "/cover", {"media": private_photo.public_id}, page=url)
    assert refused.status_code == 409 and fresh(c).cover_media_id is None
    assert (
        post(curator_client, url + "/cover", {"media": public_photo.public_id}, page=url).status_code == 302
    )
    assert fresh(c).cover_media_id == public_photo.id
    # The completeness panel is empty once translations and alt text exist... except story titles in English.
    panel = curator_client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Story title in English" in panel
    # Preview renders the public template in each language, before publishing.
    for lang, title in (("es", "Cruces"), ("en", "Crossings")):
        preview = curator_client.get(f"{url}/preview/{lang}")
        assert preview.status_code == 200 and title in preview.get_data(as_text=True)
    assert client.get(f"/es/collections/{c.public_id}").status_code == 404
    assert post(curator_client, url + "/publish", page=url).status_code == 302
    assert fresh(c).status == CollectionStatus.PUBLISHED
    assert client.get(f"/es/collections/{c.public_id}").status_code == 200
    post(curator_client, url + "/unpublish", page=url)
    assert client.get(f"/es/collections/{c.public_id}").status_code == 404
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == c.public_id)))
    assert {
        "collection.created",
        "collection.published",
        "collection.unpublished",
        "collection.reordered",
        "collection.cover_changed",
    } <= actions


def test_withdrawn_story_leaves_a_note_in_a_published_collection(
    curator_client: FlaskClient, make_story: MakeStory, client: FlaskClient
) -> None:
    story = make_story(StoryStatus.PUBLISHED, title="Se irá")
    c = new_collection(curator_client)
    url = f"/curate/collections/{c.public_id}"
    post(
        curator_client,
        url,
        {"revision": fresh(c).revision, "title_es": "Colección", "title_en": "Collection"},
        page=url,
    )
    post(curator_client, url + "/entries", {"story_id": story.public_id}, page=url)
    post(curator_client, url + "/publish", page=url)
    stories.withdraw(db.session.get(Story, story.id))
    db.session.commit()
    public = client.get(f"/en/collections/{c.public_id}")
    assert public.status_code == 200 and "Se irá" not in public.get_data(as_text=True)
    assert "no longer available" in public.get_data(as_text=True)
    workspace = curator_client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "This story was withdrawn by its narrator." in workspace
    # A withdrawn story cannot be added again.
    assert post(curator_client, url + "/entries", {"story_id": story.public_id}, page=url).status_code == 409


def test_markdown_is_sanitized() -> None:
    html = str(
        render_markdown(
            "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)> **bien**"
        )
    )
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "<strong>bien</strong>" in html


def test_second_collection_save_is_told(curator_client: FlaskClient) -> None:
    c = new_collection(curator_client)
    url = f"/curate/collections/{c.public_id}"
    loaded = fresh(c).revision
    post(curator_client, url, {"revision": loaded, "title_es": "Primera"}, page=url)
    second = post(curator_client, url, {"revision": loaded, "title_es": "Segunda"}, page=url)
    assert second.status_code == 409 and 'value="Segunda"' in second.get_data(as_text=True)
    assert fresh(c).title_es == "Primera"
