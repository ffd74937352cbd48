"""U20: daily upload quotas per contributor (browser session) and for the whole archive.

Through the real form and API, on the real database and media folder: the refused request
stores nothing (no row, no file, no temporary file), earlier uploads stay intact, the form
comes back filled in with a localized message, and the cookie holds only counters.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from nuevonorte import quota, ratelimit
from nuevonorte.extensions import db
from nuevonorte.models import MediaFile, RateWindow, Story
from nuevonorte.storage import get_storage
from tests import media_samples
from tests.contribute_fixtures import csrf_token, receipt_code, sent, story_form, upload

MESSAGES = {
    "files": {
        "en": "You can send up to 3 files a day; today you can still send 1.",
        "es": "3 archivos al día",
    },
    "bytes": {"en": "up to 1 MB of files a day", "es": "hasta 1 MB de archivos al día"},
    "archive": {"en": "all the files it can take today", "es": "todos los archivos que puede guardar"},
}
KEPT = {"en": "your text is still here", "es": "tu texto sigue aquí"}


@pytest.fixture
def small_quota(app_config):
    app_config.update(contributor_daily_files=3, contributor_daily_megabytes=1)
    return app_config


@pytest.fixture
def one_file_quota(app_config):
    app_config.update(contributor_daily_files=1)
    return app_config


def stored() -> tuple[int, int, list[Path]]:
    """Stories, media rows and every file under the media folder (temporary ones included)."""
    db.session.rollback()
    root = get_storage().root
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
    stories = db.session.scalar(select(func.count()).select_from(Story)) or 0
    media = db.session.scalar(select(func.count()).select_from(MediaFile)) or 0
    return stories, media, files


def contribute(client, lang: str = "es", **fields):
    """The form, posted as bytes encoded here: the test client's own spooled body file for
    bodies over 500 kB would otherwise stay open (a ResourceWarning, an error under pytest)."""
    data = story_form(csrf_token=csrf_token(client, f"/{lang}/contribute"), **fields)
    for name in ("audio", "photos"):
        if name in data:
            data[name] = [FileStorage(stream, filename) for stream, filename in data[name]]
    boundary, body = encode_multipart(data)
    return client.post(
        f"/{lang}/contribute",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        follow_redirects=True,
    )


def photos(count: int, start: int = 0) -> list:
    return [
        upload(media_samples.png(media_samples.picture(8 + start + i, 8)), f"{i}.png") for i in range(count)
    ]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_files_over_the_daily_quota_are_429_and_earlier_uploads_intact_U20(small_quota, app, client, lang):
    """The 4th file of the day is refused: 429, localized, form filled in, nothing new stored."""
    assert sent(contribute(client, lang, photos=photos(2)))
    before = stored()
    assert before[:2] == (1, 2)
    response = contribute(client, lang, body="Lo que escribí hoy", photos=photos(2, start=5))
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert MESSAGES["files"][lang] in html and KEPT[lang] in html
    assert "Lo que escribí hoy" in html
    assert 1 <= int(response.headers["Retry-After"]) <= 86_400
    assert stored() == before
    assert all(get_storage().verify(p.name) for p in before[2])
    # Exactly up to the quota is still accepted; a text-only story is never counted.
    assert sent(contribute(client, lang, photos=photos(1, start=9)))
    assert sent(contribute(client, lang))
    assert contribute(client, lang, photos=photos(1, start=11)).status_code == 429


@pytest.mark.parametrize(
    ("lang", "says"),
    [
        ("es", "Puedes enviar hasta 1 archivo al día; hoy todavía puedes enviar 0."),
        ("en", "You can send up to 1 file a day; today you can still send 0."),
    ],
)
def test_a_quota_of_one_file_is_said_in_the_singular(one_file_quota, app, client, lang, says):
    """The message follows the language's plural rules: "1 archivo", never "1 archivos"."""
    assert sent(contribute(client, lang, photos=photos(1)))
    response = contribute(client, lang, photos=photos(1, start=3))
    assert response.status_code == 429
    assert says in response.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_bytes_over_the_daily_quota_are_413_U20(small_quota, app, client, lang):
    """More than M bytes of files in a day: 413, localized, the first recording intact."""
    first = media_samples.wav(seconds=20)  # 640 kB
    assert len(first) < 1024 * 1024
    assert sent(contribute(client, lang, audio=[upload(first, "a.wav")]))
    before = stored()
    response = contribute(
        client, lang, body="Mi segunda parte", audio=[upload(media_samples.wav(seconds=21), "b.wav")]
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert MESSAGES["bytes"][lang] in html and "Mi segunda parte" in html
    assert stored() == before
    # One small photo still fits in what is left.
    assert sent(contribute(client, lang, photos=photos(1)))


def test_the_cookie_holds_only_todays_counters_U20(small_quota, app, client):
    """The session keeps {day, files, bytes} and nothing else about the upload."""
    data = media_samples.png()
    response = contribute(client, "en", photos=[upload(data, "mi nombre.png")])
    assert sent(response)
    code = receipt_code(response)
    cookie = client.get_cookie("session")
    assert cookie is not None
    session = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    # "receipt" is the sent form's random token (which receipt this device may show), never the code.
    assert set(session) <= {"csrf_token", "upload_quota", "receipt"}
    # Nothing in it is the code or any of its words: the only free strings are random tokens
    # (the receipt's vocabulary of media kinds and removed fields is fixed, so it is left out).
    receipt = session.get("receipt", {})
    assert set(receipt) <= {"token", "added", "reports"}
    leaves = [session.get("csrf_token"), receipt.get("token")]
    assert all(isinstance(leaf, str) and " " not in leaf and len(leaf) >= 20 for leaf in leaves)
    assert code not in json.dumps(session)
    assert not set(code.split()) & set(leaves)
    assert session["upload_quota"] == {"day": int(time.time() // 86_400), "files": 1, "bytes": len(data)}
    assert "nombre" not in cookie.value


def test_counters_from_another_day_do_not_count_U20(small_quota, app, client):
    """Yesterday's counters are forgotten: a new day is a new quota."""
    with client.session_transaction() as session:
        yesterday = int(time.time() // 86_400) - 1
        session["upload_quota"] = {"day": yesterday, "files": 3, "bytes": 1024 * 1024}
    assert sent(contribute(client, "es", photos=photos(3)))


def test_forget_me_on_this_device_clears_the_counters_U20(small_quota, app, client):
    """ "Forget me on this device" also forgets that this browser sent files today."""
    assert sent(contribute(client, "en", photos=photos(3)))
    client.post("/en/my-stories/forget", data={"csrf_token": csrf_token(client, "/en/my-stories")})
    with client.session_transaction() as session:
        assert "upload_quota" not in session


def test_a_new_session_gets_a_new_quota_but_the_archive_cap_holds_U20(app_config, app, client):
    """Clearing cookies resets the contributor's quota; the archive-wide daily cap still refuses."""
    app.config.update(CONTRIBUTOR_DAILY_FILES=1, DAILY_UPLOAD_BYTES=1024 * 1024)
    big = media_samples.wav(seconds=20)
    assert sent(contribute(client, "en", audio=[upload(big, "a.wav")]))
    assert contribute(client, "en", photos=photos(1)).status_code == 429  # this session: 1 file a day
    other = app.test_client()  # cookies cleared
    assert sent(contribute(other, "en", photos=photos(1)))
    before = stored()
    third = app.test_client()
    response = contribute(
        third, "es", body="Texto nuevo", audio=[upload(media_samples.wav(seconds=21), "b.wav")]
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert MESSAGES["archive"]["es"] in html and "Texto nuevo" in html
    assert stored() == before
    # The database counter knows only a name, a day number and kilobytes: no address, no session.
    rows = db.session.execute(
        select(RateWindow.name, RateWindow.count).where(RateWindow.name.like("upload%"))
    )
    assert [(name, count) for name, count in rows] == [
        (
            "upload-kib/86400",
            -(-len(big) // 1024) + -(-len(media_samples.png(media_samples.picture(8, 8))) // 1024),
        )
    ]


def test_refused_files_give_their_bytes_back_to_the_archive_cap_U20(app, client):
    """Junk refused by ingest must not use up the day's archive-wide cap for everyone."""
    app.config.update(DAILY_UPLOAD_BYTES=1024 * 1024)
    junk = b"\x00junk" * 60_000  # 420 kB that is no image (3 of them pass the cap)
    for _ in range(3):
        assert contribute(app.test_client(), "en", photos=[upload(junk, "x.jpg")]).status_code == 422
    assert sent(contribute(app.test_client(), "en", audio=[upload(media_samples.wav(seconds=20), "a.wav")]))
    response = contribute(app.test_client(), "en", audio=[upload(media_samples.wav(seconds=21), "b.wav")])
    assert response.status_code == 429


@pytest.mark.parametrize("lang", ["es", "en"])
def test_api_counts_the_same_when_the_client_keeps_the_cookie_U20(small_quota, app, client, lang):
    """POST /api/v1/contributions: stable error codes quota_files / quota_bytes, localized message."""

    def post(c, files):
        data = story_form(photos=files) if files else story_form()
        return c.post(
            "/api/v1/contributions",
            data=data,
            headers={"Accept-Language": lang},
            content_type="multipart/form-data",
        )

    assert post(client, photos(3)).status_code == 201
    response = post(client, photos(1, start=4))
    assert response.status_code == 429
    assert response.get_json()["error"] == "quota_files"
    assert MESSAGES["files"][lang].replace("still send 1", "still send 0") in response.get_json()["message"]
    assert "Retry-After" in response.headers
    assert stored()[:2] == (1, 3)
    # A partner tool that keeps no cookie is limited only by the archive-wide caps.
    assert post(app.test_client(), photos(2, start=6)).status_code == 201
    # Encoded here as bytes: the test client's own spooled body file would otherwise stay open.
    data = story_form(audio=FileStorage(io.BytesIO(media_samples.wav(seconds=40)), filename="long.wav"))
    boundary, body = encode_multipart(data)  # 1.28 MB
    response = app.test_client().post(
        "/api/v1/contributions",
        data=body,
        headers={"Accept-Language": lang},
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413 and response.get_json()["error"] == "quota_bytes"
    assert MESSAGES["bytes"][lang] in response.get_json()["message"]
    assert stored()[:2] == (2, 5)


def test_reserve_adds_up_to_the_cap_and_a_refusal_adds_nothing(app):
    """The archive-wide counter: conditional add, shared through the database, per window."""
    now = 1_800_000_000.0
    ratelimit.reserve("t", 600, 1000, 86_400, now)
    with pytest.raises(ratelimit.RateLimited) as refused:
        ratelimit.reserve("t", 401, 1000, 86_400, now)
    assert refused.value.retry_after == 86_400 - int(now % 86_400)
    ratelimit.reserve("t", 400, 1000, 86_400, now)  # exactly the cap
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.reserve("t", 1, 1000, 86_400, now)
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.reserve("t", 1001, 1000, 86_400, now + 86_400)  # larger than the cap itself
    ratelimit.reserve("t", 1000, 1000, 86_400, now + 86_400)  # a new day; the old one is dropped
    rows = db.session.execute(select(RateWindow.window, RateWindow.count).where(RateWindow.name == "t/86400"))
    assert [tuple(r) for r in rows] == [(int(now // 86_400) + 1, 1000)]
    ratelimit.release("t", 300, 86_400, now + 86_400 + 5)
    ratelimit.reserve("t", 300, 1000, 86_400, now + 86_400 + 9)
    ratelimit.release("t", 5000, 86_400, now + 86_400)  # never below zero
    db.session.rollback()  # a fresh snapshot
    assert db.session.scalar(select(RateWindow.count).where(RateWindow.name == "t/86400")) == 0


def test_quota_sizes_do_not_move_the_stream(app: Flask):
    stream = io.BytesIO(b"x" * 300)
    stream.read(7)
    assert quota.sizes([stream]) == [300] and stream.tell() == 7


def test_api_file_field_sent_as_text_is_no_file_not_a_500(app, client):
    """A partner tool sending ``photos`` as a plain text part gets a clean answer, not a 500."""
    response = client.post(
        "/api/v1/contributions", data=story_form(photos="not a file"), content_type="multipart/form-data"
    )
    assert response.status_code == 201 and response.get_json()["files"] == []
