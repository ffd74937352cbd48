"""The public page cache never outlives a consent change and never shares anything personal."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from nuevonorte import stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Credit, Visibility


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """These tests run with the public page cache on, as in production."""
    return {**app_config, "PUBLIC_PAGE_CACHE_SECONDS": 30}


def test_cached_page_is_reused_until_the_archive_changes(client: FlaskClient, make_story) -> None:
    story = make_story(title="Primero")
    url = f"/es/stories/{story.public_id}"
    assert "Primero" in client.get(url).get_data(as_text=True)
    # A direct edit that records no audit event is not seen while the cached copy is fresh...
    story.title_es = "Cambiado"
    db.session.commit()
    assert "Primero" in client.get(url).get_data(as_text=True)
    # ...but any recorded change (here a narrower credit) is seen at once.
    stories.change_consent(story, ConsentChoices(credit=Credit.ANONYMOUS), language="es")
    db.session.commit()
    assert "Cambiado" in client.get(url).get_data(as_text=True)


def test_a01_withdrawal_and_narrowed_consent_take_effect_at_once(client: FlaskClient, make_story) -> None:
    kept = make_story(title="Se queda privado")
    gone = make_story(title="Se retira")
    for story in (kept, gone):
        assert client.get(f"/es/stories/{story.public_id}").status_code == 200
    assert "Se retira" in client.get("/es/").get_data(as_text=True)
    stories.change_consent(
        kept, ConsentChoices(visibility=Visibility.CURATORS, credit_name="Ana"), language="es"
    )
    stories.withdraw(gone)
    db.session.commit()
    assert client.get(f"/es/stories/{kept.public_id}").status_code == 404
    assert client.get(f"/es/stories/{gone.public_id}").status_code == 404
    home = client.get("/es/").get_data(as_text=True)
    assert "Se retira" not in home and "Se queda privado" not in home


def test_requests_with_cookies_are_never_served_from_the_cache(app, client: FlaskClient, make_story) -> None:
    story = make_story(title="Primero")
    url = f"/es/stories/{story.public_id}"
    client.get(url)
    story.title_es = "Cambiado"
    db.session.commit()
    client.set_cookie("session", "x")
    assert "Cambiado" in client.get(url).get_data(as_text=True)


def test_cache_is_on_by_default_and_can_be_turned_off(app, app_config) -> None:
    from nuevonorte import create_app

    assert app.extensions["nuevonorte.page_cache"].seconds == 30
    off = create_app({**app_config, "PUBLIC_PAGE_CACHE_SECONDS": 0})
    assert off.extensions["nuevonorte.page_cache"].seconds == 0
    production_like = create_app(
        {k: v for k, v in app_config.items() if k not in ("TESTING", "PUBLIC_PAGE_CACHE_SECONDS")}
    )
    assert production_like.extensions["nuevonorte.page_cache"].seconds == 30
