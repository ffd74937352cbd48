"""A visitor cannot reach any non-public story or media by any URL (A01, A02, A03, A07)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time

from nuevonorte import stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Story, StoryStatus, Visibility
from nuevonorte.storage import get_storage
from tests.public.media_factory import add_audio, add_image


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """These tests run with the public page cache on, as in production."""
    return {**app_config, "PUBLIC_PAGE_CACHE_SECONDS": 30}


VARIANTS = ("original", "display", "thumbnail")
#: A story's citation files, which answer as its page does.
CITATIONS = ("cite.bib", "cite.json")
MISSING = "AAAAAAAAAAAAAAAA"


def _comparable(response, requested: str = "") -> tuple[int, bytes, list[tuple[str, str]]]:
    """Status, body and headers but the date; the id the visitor typed is the only thing echoed."""
    body = response.get_data()
    if requested:
        body = body.replace(requested.encode(), MISSING.encode())
    headers = sorted((k, v) for k, v in response.headers.items() if k.lower() != "date")
    return response.status_code, body, headers


def _assert_like_missing(client: FlaskClient, path: str, missing_path: str) -> None:
    """The response for ``path`` is byte-for-byte the one for a missing id, for GET, HEAD and Range."""
    for method, headers in (("GET", {}), ("HEAD", {}), ("GET", {"Range": "bytes=0-9"})):
        got = client.open(path, method=method, headers=headers)
        expected = client.open(missing_path, method=method, headers=headers)
        assert got.status_code == 404, (path, method, headers)
        requested = next((part for part in path.split("/") if len(part) == len(MISSING)), "")
        assert _comparable(got, requested) == _comparable(expected), (path, method, headers)


def _status(client: FlaskClient, url: str) -> int:
    """The status of a GET, with the response closed (a streamed file must not be left open)."""
    response = client.get(url)
    response.close()
    return response.status_code


def _story_with_media(make_story: Callable[..., Story], status: StoryStatus, **choices) -> Story:
    story = make_story(
        status=status,
        choices=ConsentChoices(credit_name="Ana", voice_public=True, photos_public=True, **choices),
    )
    add_image(story)
    add_audio(story)
    db.session.commit()
    return story


STATES = {
    "submitted": dict(status=StoryStatus.SUBMITTED),
    "private": dict(status=StoryStatus.PRIVATE),
    "rejected": dict(status=StoryStatus.REJECTED),
    "curators-only": dict(status=StoryStatus.PUBLISHED, visibility=Visibility.CURATORS),
    "contributor-only": dict(status=StoryStatus.PUBLISHED, visibility=Visibility.CONTRIBUTOR),
    "embargoed": dict(status=StoryStatus.PUBLISHED, embargo_until=date(2030, 1, 1)),
}


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("lang", ["es", "en"])
def test_a01_a02_non_public_story_and_media_are_identical_404s(
    client: FlaskClient, make_story, state: str, lang: str
) -> None:
    """A01/A02: page and every media variant of a non-public story answer like a missing id."""
    spec = dict(STATES[state])
    story = _story_with_media(make_story, spec.pop("status"), **spec)
    _assert_like_missing(client, f"/{lang}/stories/{story.public_id}", f"/{lang}/stories/{MISSING}")
    for cite in CITATIONS:
        _assert_like_missing(
            client, f"/{lang}/stories/{story.public_id}/{cite}", f"/{lang}/stories/{MISSING}/{cite}"
        )
    for media in story.media:
        for variant in VARIANTS:
            _assert_like_missing(client, f"/media/{media.public_id}/{variant}", f"/media/{MISSING}/{variant}")


def test_a01_a02_withdrawn_story_and_its_former_media_are_identical_404s(
    client: FlaskClient, media_story: Story
) -> None:
    """A01/A02: after withdrawal the page and the former media URLs answer like missing ones."""
    page = f"/es/stories/{media_story.public_id}"
    media_urls = [f"/media/{m.public_id}/{v}" for m in media_story.media for v in VARIANTS]
    assert client.get(page).status_code == 200
    for cite in CITATIONS:  # cached by the page cache, as in production
        assert client.get(f"{page}/{cite}").status_code == 200
    stories.withdraw(media_story)
    db.session.commit()
    _assert_like_missing(client, page, f"/es/stories/{MISSING}")
    for cite in CITATIONS:
        _assert_like_missing(client, f"{page}/{cite}", f"/es/stories/{MISSING}/{cite}")
    for url in media_urls:
        _assert_like_missing(client, url, f"/media/{MISSING}/{url.rsplit('/', 1)[1]}")


def test_a01_embargo_lifts_on_its_day(client: FlaskClient, make_story) -> None:
    """A01: an embargoed story is a 404 the day before the embargo ends and public on the day."""
    story = _story_with_media(make_story, StoryStatus.PUBLISHED, embargo_until=date(2030, 1, 1))
    image = story.media[0]
    with freeze_time("2029-12-31"):
        assert client.get(f"/es/stories/{story.public_id}").status_code == 404
        assert _status(client, f"/media/{image.public_id}/display") == 404
    with freeze_time("2030-01-01"):
        assert client.get(f"/es/stories/{story.public_id}").status_code == 200
        assert _status(client, f"/media/{image.public_id}/display") == 200


@pytest.mark.parametrize(("public_flag", "kind"), [("voice_public", "audio"), ("photos_public", "image")])
def test_a02_media_not_allowed_by_consent_is_404_while_the_story_is_public(
    client: FlaskClient, make_story, public_flag: str, kind: str
) -> None:
    """A02: voice or photos kept private stay 404 on a public story, and the page doesn't link them."""
    flags = {"voice_public": True, "photos_public": True, public_flag: False}
    story = make_story(choices=ConsentChoices(credit_name="Ana", **flags))
    add_image(story)
    add_audio(story)
    db.session.commit()
    page = client.get(f"/es/stories/{story.public_id}").get_data(as_text=True)
    for media in story.media:
        urls = [f"/media/{media.public_id}/{v}" for v in VARIANTS if media.kind != "audio" or v == "original"]
        if media.kind == kind:
            assert media.public_id not in page
            for url in urls:
                _assert_like_missing(client, url, f"/media/{MISSING}/{url.rsplit('/', 1)[1]}")
        else:
            assert media.public_id in page
            assert _status(client, urls[0]) == 200
    if kind == "audio":
        # The transcript is still shown, without a player (PRODUCT: the words, not the voice).
        assert "Nadie nos esperaba." in page
        assert "<audio" not in page


def test_a07_public_media_headers(client: FlaskClient, media_story: Story) -> None:
    """A07: server-decided type, nosniff, sandboxing CSP, short public caching, no filename."""
    for media in media_story.media:
        for variant in VARIANTS if media.kind == "image" else ("original",):
            response = client.get(f"/media/{media.public_id}/{variant}")
            assert response.status_code == 200
            assert response.mimetype == ("image/jpeg" if media.kind == "image" else "audio/wav")
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
            assert response.cache_control.max_age == 300
            assert "Content-Disposition" not in response.headers
            # Partners show public files from here (read API, IIIF, embeds): another site may
            # load them, and a withdrawal still reaches them (C26).
            assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
            response.close()


def test_audio_streams_with_range_requests(client: FlaskClient, media_story: Story) -> None:
    """Seeking: a Range request gets 206 with exactly the bytes asked for."""
    audio = next(m for m in media_story.media if m.kind == "audio")
    full = client.get(f"/media/{audio.public_id}/original")
    whole = full.get_data()
    full.close()
    part = client.get(f"/media/{audio.public_id}/original", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.get_data() == whole[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(whole)}"
    part.close()
    head = client.head(f"/media/{audio.public_id}/original")
    assert head.status_code == 200 and head.get_data() == b""
    assert int(head.headers["Content-Length"]) == len(whole)
    head.close()


def test_a02_unknown_variant_and_missing_derivative_are_404(client: FlaskClient, media_story: Story) -> None:
    audio = next(m for m in media_story.media if m.kind == "audio")
    image = next(m for m in media_story.media if m.kind == "image")
    _assert_like_missing(client, f"/media/{image.public_id}/huge", f"/media/{MISSING}/huge")
    # Audio has no display or thumbnail derivative.
    _assert_like_missing(client, f"/media/{audio.public_id}/display", f"/media/{MISSING}/display")


@pytest.mark.parametrize(
    "path",
    [
        "/media/../instance/config.toml",
        "/media/%2e%2e/%2e%2e/etc/passwd",
        "/media/..%2f..%2fetc%2fpasswd/original",
        "/media//etc/passwd/original",
        "/media/%2Fetc%2Fpasswd/original",
        "/media/x/..%2f..%2fconfig.toml",
        "/media/ /original",
        "/static/../media",
        "/static/..%2f..%2fpyproject.toml",
        "/static/%2e%2e/nuevonorte/config.py",
        "/.git/HEAD",
        "/instance/",
        "/instance/config.toml",
        "/uploads/",
        "/media/",
        "/static/",
    ],
)
def test_a03_path_tricks_are_404(client: FlaskClient, media_story: Story, path: str) -> None:
    """A03: no path trick reaches a file outside what the handlers serve, nor lists a folder."""
    response = client.get(path)
    assert response.status_code in (404, 308)
    if response.status_code == 308:
        assert client.get(response.headers["Location"]).status_code == 404


def test_a03_symlink_planted_in_storage_is_never_followed(client: FlaskClient, media_story: Story) -> None:
    """A03: a stored file replaced by a symlink (to a secret outside storage) gives 404, not its bytes."""
    image = next(m for m in media_story.media if m.kind == "image")
    path = get_storage().path(image.display_key)
    secret = path.parent.parent.parent / "secret.txt"
    secret.write_text("not for the public")
    path.unlink()
    os.symlink(secret, path)
    response = client.get(f"/media/{image.public_id}/display")
    assert response.status_code == 404
    assert b"not for the public" not in response.get_data()


def test_a07_media_missing_on_disk_is_404_not_500(client: FlaskClient, media_story: Story) -> None:
    image = next(m for m in media_story.media if m.kind == "image")
    get_storage().path(image.thumbnail_key).unlink()
    assert client.get(f"/media/{image.public_id}/thumbnail").status_code == 404
