"""On "my story" a person sees their own text, photos and recordings next to each delete
control, served to them alone (docs/security.md A04, A07, A17, T05).

Stories are sent through the real contribution form, so the files are the ones the sandbox
cleaned and stored; every response that streams a file is closed (``fetched``).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from nuevonorte import stories
from nuevonorte.extensions import db
from nuevonorte.jobs import worker
from nuevonorte.models import MediaFile, MediaKind, Story, StoryStatus
from nuevonorte.storage import content_type, get_storage
from tests import media_samples
from tests.contribute_fixtures import contribute, csrf_token, receipt_code, sent, upload
from tests.curate_fixtures import post
from tests.curate_fixtures import sign_in as curator_sign_in
from tests.media_samples import LOUD, SILENT, fetched, loudness

MISSING = "AAAAAAAAAAAAAAAA"
HOSTILE_TITLE = '<img src=x onerror="alert(1)"> Mi cruce'
HOSTILE_BODY = (
    "Salí de Oaxaca <script>alert('x')</script> en marzo.\nCon mi hermana.\n\n**Llegué** a Tijuana."
)


def _send(client: FlaskClient, lang: str = "en", **fields) -> tuple[str, Story]:
    """Send a story with a photo and a recording through the form; its code and its row."""
    photo = media_samples.jpeg(media_samples.picture(1200, 900), dirty=True)
    fields.setdefault("photos", [upload(photo, "IMG_2026.jpg")])
    fields.setdefault("audio", [upload(media_samples.wav(seconds=2.0), "Grabación casa Juárez.wav")])
    response = contribute(client, lang, **fields)
    assert sent(response), response.get_data(as_text=True)[:2000]
    story = db.session.scalars(select(Story).order_by(Story.id.desc())).first()
    assert story is not None and story.media
    db.session.commit()  # end the test's read snapshot (the objects reload when next used)
    return receipt_code(response), story


def _signed_in(app: Flask, code: str, lang: str = "en") -> FlaskClient:
    """A new device (its own cookies) signed in with ``code``."""
    device = app.test_client()
    token = csrf_token(device, f"/{lang}/my-stories")
    assert device.post(f"/{lang}/my-stories", data={"csrf_token": token, "code": code}).status_code == 303
    return device


class _Media(HTMLParser):
    """The <img> and <audio> elements of a page, with their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("img", "audio"):
            self.found.append((tag, dict(attrs)))


def _media_on(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Media()
    parser.feed(html)
    return parser.found


def _page(client: FlaskClient, story: Story, lang: str = "en") -> str:
    response = client.get(f"/{lang}/my-stories/{story.public_id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def _url(media: MediaFile) -> str:
    variant = "thumbnail" if media.kind == MediaKind.IMAGE else "recording"
    return f"/my-stories/media/{media.public_id}/{variant}"


def _stored(key: str | None) -> bytes:
    assert key
    return get_storage().path(key).read_bytes()


def _comparable(response, requested: str) -> tuple[int, bytes, list[tuple[str, str]]]:
    """Status, body and headers but the date and the (re-signed) session cookie; the id asked
    for is the only thing echoed."""
    body = response.get_data().replace(requested.encode(), MISSING.encode())
    headers = sorted((k, v) for k, v in response.headers.items() if k.lower() not in ("date", "set-cookie"))
    return response.status_code, body, headers


def _assert_like_missing(client: FlaskClient, url: str) -> None:
    """``url`` answers exactly as a file that never existed, for GET, HEAD and Range: 404, no bytes."""
    requested = url.split("/")[3]
    missing = url.replace(requested, MISSING)
    for method, headers in (("GET", {}), ("HEAD", {}), ("GET", {"Range": "bytes=0-9"})):
        got = client.open(url, method=method, headers=headers)
        expected = client.open(missing, method=method, headers=headers)
        try:
            assert got.status_code == 404, (url, method, headers)
            assert got.headers["Cache-Control"] == "no-store"
            assert _comparable(got, requested) == _comparable(expected, MISSING), (url, method, headers)
        finally:
            got.close()
            expected.close()


@pytest.mark.parametrize("lang", ["es", "en"])
def test_owner_sees_their_text_escaped_a_thumbnail_and_a_player_A17(app: Flask, client, lang: str) -> None:
    code, story = _send(client, lang, title=HOSTILE_TITLE, body=HOSTILE_BODY, language=lang)
    owner = _signed_in(app, code, lang)
    html = _page(owner, story, lang)
    # Their words as sent, escaped: never markup, never Markdown.
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; Mi cruce" in html
    assert "Salí de Oaxaca &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; en marzo.\nCon mi hermana." in html
    assert "**Llegué** a Tijuana." in html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert re.search(rf'<div class="card sent" lang="{lang}">', html)

    image = next(m for m in story.media if m.kind == MediaKind.IMAGE)
    audio = next(m for m in story.media if m.kind == MediaKind.AUDIO)
    shown = {tag: attrs for tag, attrs in _media_on(html)}
    assert len(_media_on(html)) == 2
    assert shown["img"]["src"] == _url(image) and shown["audio"]["src"] == _url(audio)
    assert "controls" in shown["audio"]
    # Each file sits next to its own delete control, not just "Photo 1".
    for media in (image, audio):
        card = re.search(
            rf'<li class="card">(?:(?!</li>).)*{re.escape(_url(media))}(?:(?!</li>).)*</li>', html, re.S
        )
        assert card and f"/media/{media.public_id}/withdraw" in card.group(0)
    # The original file names never reach the page.
    assert "IMG_2026" not in html and "Juárez" not in html


def test_owner_fetches_the_stored_files_uncached_and_can_seek_A07(app: Flask, client) -> None:
    code, story = _send(client)
    owner = _signed_in(app, code)
    image = next(m for m in story.media if m.kind == MediaKind.IMAGE)
    audio = next(m for m in story.media if m.kind == MediaKind.AUDIO)
    for media, key in ((image, image.thumbnail_key), (audio, audio.storage_key)):
        response = owner.get(_url(media))
        try:
            assert response.status_code == 200
            assert response.get_data() == _stored(key)
            assert response.mimetype == content_type(key or "")
            assert response.headers["Cache-Control"] == "no-store"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
            for header in ("Content-Disposition", "ETag", "Last-Modified", "Expires"):
                assert header not in response.headers, header
        finally:
            response.close()
    assert image.thumbnail_key != image.storage_key  # the thumbnail, not the full photo
    whole = _stored(audio.storage_key)
    assert content_type(audio.storage_key) == "audio/wav"
    part = owner.get(_url(audio), headers={"Range": "bytes=100-199"})
    try:
        assert part.status_code == 206
        assert part.get_data() == whole[100:200]
        assert part.headers["Content-Range"] == f"bytes 100-199/{len(whole)}"
        assert part.headers["Cache-Control"] == "no-store"
    finally:
        part.close()
    head = owner.head(_url(audio))
    head.close()
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == len(whole)
    assert head.headers["Accept-Ranges"] == "bytes"


def test_a_private_story_shows_its_files_to_its_owner(app: Flask, client) -> None:
    """Whatever the consent and status: kept to themselves, then kept private by a curator."""
    code, story = _send(client, visibility="contributor", credit="anonymous")
    stories.keep_private(story, None)
    db.session.commit()
    owner = _signed_in(app, code)
    html = _page(owner, story)
    for media in story.media:
        assert _url(media) in html
        assert fetched(owner, _url(media))[0] == 200
        # The public handler still says no.
        assert fetched(client, f"/media/{media.public_id}/original")[0] == 404


def test_everyone_else_gets_the_same_404_A04(app: Flask, client, curator) -> None:
    code, story = _send(client)
    other_code, _other = _send(client)
    stories.publish(story, None)  # public or not, only the owner may fetch these addresses
    db.session.commit()
    urls = [_url(m) for m in story.media]
    owner = _signed_in(app, code)
    assert all(fetched(owner, url)[0] == 200 for url in urls)

    nobody = app.test_client()
    someone_else = _signed_in(app, other_code)
    a_curator = app.test_client()
    assert curator_sign_in(a_curator, curator.email).status_code == 302
    for device in (nobody, someone_else, a_curator):
        for url in urls:
            _assert_like_missing(device, url)
    # The wrong kind of file for an address is no way in either.
    image = next(m for m in story.media if m.kind == MediaKind.IMAGE)
    audio = next(m for m in story.media if m.kind == MediaKind.AUDIO)
    for url in (
        f"/my-stories/media/{image.public_id}/recording",
        f"/my-stories/media/{image.public_id}/original",
        f"/my-stories/media/{audio.public_id}/thumbnail",
    ):
        _assert_like_missing(owner, url)
    # Forgotten on this device: the same 404.
    owner.post("/en/my-stories/forget", data={"csrf_token": csrf_token(owner, "/en/my-stories")})
    for url in urls:
        _assert_like_missing(owner, url)


def test_send_view_withdraw_a_file_then_the_story_C11_C04(app: Flask, client) -> None:
    """A withdrawn file, then a withdrawn story: their addresses are 404 and their bytes gone."""
    code, story = _send(client)
    owner = _signed_in(app, code)
    image = next(m for m in story.media if m.kind == MediaKind.IMAGE)
    audio = next(m for m in story.media if m.kind == MediaKind.AUDIO)
    media_dir = Path(app.config["MEDIA_DIR"])
    audio_files = [media_dir / k[:2] / k for k in audio.storage_keys()]
    image_files = [media_dir / k[:2] / k for k in image.storage_keys()]
    assert all(p.is_file() for p in audio_files + image_files)
    heard = _stored(audio.storage_key)
    image_url, audio_url = _url(image), _url(audio)
    audio_id = audio.public_id

    html = _page(owner, story)
    assert image_url in html and audio_url in html
    assert fetched(owner, audio_url) == (200, heard)

    token = csrf_token(owner, f"/en/my-stories/{story.public_id}")
    response = owner.post(
        f"/en/my-stories/{story.public_id}/media/{audio_id}/withdraw",
        data={"csrf_token": token, "confirm": "y"},
    )
    assert response.status_code == 303
    _assert_like_missing(owner, audio_url)
    assert not any(p.exists() for p in audio_files)
    assert not any(heard in p.read_bytes() for p in media_dir.rglob("*") if p.is_file())
    html = _page(owner, story)
    assert audio_id not in html and "<audio" not in html
    assert fetched(owner, image_url)[0] == 200

    response = owner.post(
        f"/en/my-stories/{story.public_id}/withdraw", data={"csrf_token": token, "confirm": "y"}
    )
    assert response.status_code == 303
    db.session.commit()  # end the test's read snapshot
    assert story.status == StoryStatus.WITHDRAWN
    _assert_like_missing(owner, image_url)
    assert not any(p.exists() for p in image_files)
    assert [p for p in media_dir.rglob("*") if p.is_file() and "." in p.name] == []


def test_the_owner_hears_their_whole_recording_while_passages_are_withheld_T05(
    app: Flask, client, curator_client
) -> None:
    """The public hears the withheld seconds silent; the person who recorded them hears them."""
    contributor_device = app.test_client()
    code, story = _send(
        contributor_device,
        photos=[],
        audio=[upload(media_samples.encoded("wav", seconds=5.0), "v.wav")],
        voice_public="y",
    )
    stories.publish(story, None)
    db.session.commit()
    media = story.media[0]
    url = f"/curate/stories/{story.public_id}/media/{media.public_id}/transcript"
    withhold_second = {
        "rows": "2",
        "start_0": "0:00",
        "end_0": "0:02",
        "text_0": "Llegamos de noche.",
        "start_1": "0:02",
        "end_1": "0:04",
        "text_1": "Mi tía vive en la calle Juárez.",
        "restricted_1": "1",
    }
    assert post(curator_client, url, withhold_second, page=url).status_code == 302
    worker.drain(app)  # the worker makes the public copy
    db.session.refresh(media)
    assert media.public_audio_key and media.public_audio_key != media.storage_key

    status, public = fetched(app.test_client(), f"/media/{media.public_id}/original")
    assert status == 200 and loudness(public, 2.05, 3.95) < SILENT
    owner = _signed_in(app, code)
    status, own = fetched(owner, _url(media))
    assert status == 200 and own == _stored(media.storage_key)
    assert loudness(own, 2.1, 3.9) > LOUD
