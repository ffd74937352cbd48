"""Describing stories: bilingual fields, vocabularies, alt text, restricted passages, concurrency."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from nuevonorte.extensions import db
from nuevonorte.models import AuditEvent, CuratorAccount, Place, PlaceLevel, Story, StoryStatus, Theme
from tests.curate_fixtures import add_image, post

MakeStory = Callable[..., Story]


def fresh(story: Story) -> Story:
    db.session.rollback()
    db.session.expire_all()
    found = db.session.get(Story, story.id)
    assert found is not None
    return found


def test_describe_saves_everything_and_lists_missing_translations(
    curator_client: FlaskClient, make_story: MakeStory, curator: CuratorAccount
) -> None:
    theme = Theme(slug="deportacion", name_es="Deportación", name_en="Deportation")
    place = Place(
        slug="tijuana", name_es="Tijuana", name_en="Tijuana", country_code="MX", level=PlaceLevel.CITY
    )
    db.session.add_all([theme, place])
    db.session.commit()
    story = make_story(StoryStatus.SUBMITTED, body="Uno.\n\nDos secreto.\n\nTres.", title="")
    image = add_image(story)
    url = f"/curate/stories/{story.public_id}/describe"
    page = curator_client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Title in Spanish" in page and "Image description (alt text) in English" in page
    data = {
        "revision": fresh(story).revision,
        "title_es": "La frontera",
        "summary_es": "Un resumen.",
        "themes": str(theme.id),
        "places": str(place.id),
        "period_start": "1998",
        "period_end": "2004",
        "warnings": ["detention", "family_separation"],
        f"alt_es_{image.public_id}": "Una calle.",
        "restricted": "1",
    }
    assert post(curator_client, url, data, page=url).status_code == 302
    s = fresh(story)
    assert (s.title_es, s.summary_es, s.period_start, s.period_end) == (
        "La frontera",
        "Un resumen.",
        1998,
        2004,
    )
    assert [t.slug for t in s.themes] == ["deportacion"] and [p.slug for p in s.places] == ["tijuana"]
    assert s.warning_codes() == ["detention", "family_separation"]
    assert s.restricted_indexes() == {1}
    assert s.media[0].alt_es == "Una calle." and s.media[0].alt_en == ""
    en = curator_client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    missing = en.split("<h2>Missing</h2>")[1].split("</section>")[0]
    assert "Title in English" in missing and "Summary in English" in missing
    assert "Image description (alt text) in English" in missing and "Title in Spanish" not in missing
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "story.described", AuditEvent.actor_id == curator.id)
    )


def test_restricted_paragraph_is_withheld_publicly_in_both_languages(
    curator_client: FlaskClient, make_story: MakeStory, client: FlaskClient
) -> None:
    story = make_story(StoryStatus.PUBLISHED, body="Público uno.\n\nNombre de mi primo.\n\nPúblico tres.")
    url = f"/curate/stories/{story.public_id}/describe"
    post(
        curator_client, url, {"revision": fresh(story).revision, "title_es": "T", "restricted": "1"}, page=url
    )
    anonymous = curator_client.application.test_client()
    for lang, marker in (("es", "[fragmento reservado]"), ("en", "[passage withheld]")):
        html = anonymous.get(f"/{lang}/stories/{story.public_id}").get_data(as_text=True)
        assert "Nombre de mi primo" not in html and marker in html and "Público tres" in html


def test_second_save_is_told_and_keeps_its_text(
    curator_client: FlaskClient, make_story: MakeStory, make_curator: Callable[..., CuratorAccount]
) -> None:
    """Two curators edit at once: the first save wins, the second is told and keeps what they typed."""
    from tests.curate_fixtures import sign_in

    story = make_story(StoryStatus.SUBMITTED, title="Original")
    other = curator_client.application.test_client()
    sign_in(other, make_curator().email)
    url = f"/curate/stories/{story.public_id}/describe"
    loaded_at = fresh(story).revision
    assert (
        post(curator_client, url, {"revision": loaded_at, "title_es": "Versión de Ana"}, page=url).status_code
        == 302
    )
    second = post(
        other,
        url,
        {"revision": loaded_at, "title_es": "Versión de Beto", "summary_en": "Beto's summary"},
        page=url,
        headers={"Accept-Language": "en"},
    )
    html = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "Someone else saved this story while you were editing." in html
    assert 'value="Versión de Beto"' in html and "Beto&#39;s summary" in html  # the form kept Beto's text
    assert "Versión de Ana" in html  # and shows what Ana saved
    assert fresh(story).title_es == "Versión de Ana"
    # Saving again, knowingly, replaces it.
    revision = fresh(story).revision
    assert (
        post(other, url, {"revision": revision, "title_es": "Versión de Beto"}, page=url).status_code == 302
    )
    assert fresh(story).title_es == "Versión de Beto"


def test_admin_extends_vocabularies(admin_client: FlaskClient) -> None:
    page = "/curate/admin/vocabularies"
    assert (
        post(
            admin_client,
            "/curate/admin/vocabularies/theme",
            {"slug": "retorno", "name_es": "Retorno", "name_en": "Return"},
            page=page,
        ).status_code
        == 302
    )
    assert (
        post(
            admin_client,
            "/curate/admin/vocabularies/place",
            {
                "slug": "sonora",
                "name_es": "Sonora",
                "name_en": "Sonora",
                "country_code": "mx",
                "level": "state",
            },
            page=page,
        ).status_code
        == 302
    )
    assert (
        post(
            admin_client,
            "/curate/admin/vocabularies/theme",
            {"slug": "retorno", "name_es": "Regreso", "name_en": "Return home"},
            page=page,
        ).status_code
        == 302
    )
    assert (
        post(
            admin_client,
            "/curate/admin/vocabularies/theme",
            {"slug": "Bad Slug!", "name_es": "x", "name_en": "x"},
            page=page,
        ).status_code
        == 400
    )
    theme = db.session.scalar(select(Theme).where(Theme.slug == "retorno"))
    assert theme is not None and theme.name_es == "Regreso"
    place = db.session.scalar(select(Place).where(Place.slug == "sonora"))
    assert place is not None and place.country_code == "MX"


def test_period_must_not_end_before_it_starts(curator_client: FlaskClient, make_story: MakeStory) -> None:
    story = make_story(StoryStatus.SUBMITTED, title="Periodo")
    url = f"/curate/stories/{story.public_id}/describe"
    data = {
        "revision": fresh(story).revision,
        "title_es": "Cambio",
        "period_start": "2005",
        "period_end": "1999",
    }
    response = post(curator_client, url, data, page=url, headers={"Accept-Language": "en"})
    assert response.status_code == 400 and "cannot end before it starts" in response.get_data(as_text=True)
    assert fresh(story).title_es == "Periodo"


def test_two_places_with_one_english_name_both_get_an_address(admin_client: FlaskClient) -> None:
    """Two places called "San Jose" in English: the second, with no English short id typed, gets
    its Spanish one instead of a clash; a short id typed by hand that clashes is refused."""
    page = "/curate/admin/vocabularies"
    for slug, country in (("san-jose-cr", "cr"), ("san-jose-ca", "us")):
        data = {
            "slug": slug,
            "name_es": "San José",
            "name_en": "San Jose",
            "country_code": country,
            "level": "city",
        }
        assert post(admin_client, "/curate/admin/vocabularies/place", data, page=page).status_code == 302
    first = db.session.scalar(select(Place).where(Place.slug == "san-jose-cr"))
    second = db.session.scalar(select(Place).where(Place.slug == "san-jose-ca"))
    assert first is not None and second is not None
    assert (first.slug_en, second.slug_en) == ("san-jose", "san-jose-ca")
    clash = {
        "slug": "san-jose-mx",
        "slug_en": "san-jose",
        "name_es": "San José",
        "name_en": "San Jose",
        "country_code": "mx",
        "level": "city",
    }
    response = post(admin_client, "/curate/admin/vocabularies/place", clash, page=page)
    assert response.status_code == 400
    assert db.session.scalar(select(Place).where(Place.slug == "san-jose-mx")) is None
