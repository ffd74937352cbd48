"""Embeds, opt-in (issue 17): the consent choice "may be shown on other websites" (no by
default), the player page other websites may frame, and oEmbed. Any other page refuses to be
framed; a withdrawal or a narrowed consent empties every frame. The framing is checked in
Chromium from a page of another origin."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from nuevonorte import stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Story, Visibility
from tests.public.media_factory import add_audio, add_image

MakeStory = Callable[..., Story]
EMBEDDABLE = ConsentChoices(credit_name="Rosa", voice_public=True, photos_public=True, embeddable=True)


def oembed(client: FlaskClient, url: str, **args: str) -> Any:
    return client.get("/oembed", query_string={"url": url, **args})


@pytest.fixture
def shown(make_story: MakeStory) -> Story:
    story = make_story(choices=EMBEDDABLE, title="La noche que llegamos", title_en="The night we arrived")
    add_image(story)
    add_audio(story)
    db.session.commit()
    return story


def test_nobody_is_embedded_unless_they_chose_it(client: FlaskClient, make_story: MakeStory) -> None:
    story = make_story(choices=ConsentChoices(credit_name="Ana", voice_public=True, photos_public=True))
    assert client.get(f"/es/embed/{story.public_id}").status_code == 404
    assert oembed(client, f"http://localhost/s/{story.public_id}").status_code == 404
    page = client.get(f"/es/stories/{story.public_id}").get_data(as_text=True)
    assert "json+oembed" not in page and "/embed/" not in page


def test_the_player_may_be_framed_by_any_site_and_no_other_page_may(
    client: FlaskClient, shown: Story
) -> None:
    player = client.get(f"/en/embed/{shown.public_id}")
    db.session.rollback()
    assert player.status_code == 200
    assert "frame-ancestors *" in player.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in player.headers
    assert player.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert player.cache_control.max_age == 300 and "Set-Cookie" not in player.headers
    text = player.get_data(as_text=True)
    assert "The night we arrived" in text and 'target="_blank"' in text
    assert f"/media/{shown.media[1].public_id}/original" in text  # the voice, from this archive
    page = client.get(f"/en/stories/{shown.public_id}")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_oembed_hands_out_the_player_for_any_of_the_story_s_addresses(
    client: FlaskClient, shown: Story
) -> None:
    for url in (
        f"http://localhost/s/{shown.public_id}",
        f"http://localhost/en/stories/{shown.public_id}",
        f"http://localhost/en/embed/{shown.public_id}",
    ):
        response = oembed(client, url, maxwidth="400")
        assert response.status_code == 200, url
        body = response.get_json()
        assert body["version"] == "1.0" and body["type"] == "rich"
        assert body["width"] == 400 and body["height"] <= 520
        assert "title" not in body and "author_name" not in body  # nothing of the story to keep
        assert "La noche" not in body["html"] and "Rosa" not in body["html"]
        assert (
            f'src="http://localhost/{"en" if "/en/" in url else "es"}/embed/{shown.public_id}"'
            in body["html"]
        )
    page = client.get(f"/en/stories/{shown.public_id}").get_data(as_text=True)
    found = re.search(r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)"', page)
    assert found is not None  # discovery: a consumer finds the endpoint from the page
    discovered = client.get(html.unescape(found[1]).removeprefix("http://localhost"))
    assert discovered.status_code == 200 and discovered.get_json()["type"] == "rich"
    assert "&lt;iframe src=&#34;http://localhost/en/embed/" in page  # the code to copy


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("http://elsewhere.example/s/{id}", 404),
        ("https://localhost/s/{id}", 404),
        ("http://localhost/en/about", 404),
        ("not a url", 404),
        ("", 404),
        ("http://[::1/s/{id}", 404),
        ("http://localhost/xx/stories/{id}", 404),
        ("http://localhost/s/{id}/../../en/about", 404),
    ],
)
def test_oembed_refuses_other_addresses(client: FlaskClient, shown: Story, url: str, status: int) -> None:
    assert oembed(client, url.format(id=shown.public_id)).status_code == status


def test_oembed_reads_the_host_as_a_host_and_sizes_as_ascii_numbers(
    client: FlaskClient, shown: Story
) -> None:
    assert oembed(client, f"http://LOCALHOST/s/{shown.public_id}").status_code == 200
    for asked in ("²", "١٢٣", "-5", "0", "9" * 40):
        response = oembed(client, f"http://localhost/s/{shown.public_id}", maxwidth=asked)
        assert response.status_code == 200 and response.get_json()["width"] == 560, asked
    small = oembed(client, f"http://localhost/s/{shown.public_id}", maxwidth="200", maxheight="150")
    assert (small.get_json()["width"], small.get_json()["height"]) == (200, 150)


def test_oembed_speaks_only_json(client: FlaskClient, shown: Story) -> None:
    response = oembed(client, f"http://localhost/s/{shown.public_id}", format="xml")
    assert response.status_code == 501


@pytest.mark.parametrize("change", ["withdrawn", "narrowed", "no longer embeddable"])
def test_a_story_that_leaves_empties_every_frame(client: FlaskClient, shown: Story, change: str) -> None:
    if change == "withdrawn":
        stories.withdraw(shown)
    elif change == "narrowed":
        stories.change_consent(shown, ConsentChoices(visibility=Visibility.CURATORS), language="es")
    else:
        stories.change_consent(shown, ConsentChoices(credit_name="Rosa", voice_public=True), language="es")
    db.session.commit()
    never = client.get("/en/embed/nobodyeverhere00")
    gone = client.get(f"/en/embed/{shown.public_id}")
    assert gone.status_code == never.status_code == 404
    same = gone.get_data(as_text=True).replace(shown.public_id, "nobodyeverhere00")
    assert same == never.get_data(as_text=True)
    assert oembed(client, f"http://localhost/s/{shown.public_id}").status_code == 404


def test_a_content_warning_holds_the_player_back(client: FlaskClient, make_story: MakeStory) -> None:
    story = make_story(choices=EMBEDDABLE, content_warnings="violence")
    add_image(story)
    db.session.commit()
    held = client.get(f"/es/embed/{story.public_id}").get_data(as_text=True)
    assert "<img" not in held and "show=1" in held
    assert "<img" not in client.get(f"/es/embed/{story.public_id}?show=1").get_data(as_text=True)


@pytest.fixture
def partner_site() -> Iterator[Callable[[str], str]]:
    """Another origin (another port): serves one page whose body is what the test sets."""
    pages: dict[str, str] = {"body": ""}

    def app(_environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [f"<!doctype html><html><body>{pages['body']}</body></html>".encode()]

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve(body: str) -> str:
        pages["body"] = body
        return f"http://127.0.0.1:{server.server_port}/"

    yield serve
    server.shutdown()
    thread.join(timeout=5)


@pytest.mark.browser
def test_a_partner_page_shows_the_player_and_cannot_frame_the_story_page(
    app: Flask, live_server: str, page: Any, partner_site: Callable[[str], str], shown: Story
) -> None:
    with app.test_request_context(base_url=live_server):
        from nuevonorte.public.embed import code as embed_code

        snippet = embed_code(shown, "es")
    story_page = f'<iframe id="page" src="{live_server}/es/stories/{shown.public_id}"></iframe>'
    page.goto(partner_site(snippet + story_page))
    player = page.frame_locator("iframe[title]")
    assert player.locator("h1").inner_text() == "La noche que llegamos"
    assert player.locator("audio").count() == 1
    framed = page.frame_locator("#page")
    assert "La noche" not in framed.locator("body").inner_text()  # refused: X-Frame-Options, CSP
    stories.withdraw(shown)
    db.session.commit()
    # The next visitor of the partner's page (a browser that kept the frame may show it for up
    # to its five minutes of cache, as with the media files).
    visitor = page.context.browser.new_page()
    visitor.goto(partner_site(snippet))
    assert "La noche" not in visitor.frame_locator("iframe[title]").locator("body").inner_text()
    visitor.context.close()
