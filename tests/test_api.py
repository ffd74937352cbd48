"""POST /api/v1/contributions: same fields, rules and limits as the form; JSON errors localized."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from nuevonorte import receipts
from nuevonorte.extensions import db
from nuevonorte.models import MediaKind, Story, StoryStatus
from nuevonorte.ratelimit import Limit
from tests import media_samples
from tests.contribute_fixtures import nothing_stored, story_form, upload

URL = "/api/v1/contributions"
MESSAGES = {
    "consent_required": {"en": "consent is missing", "es": "Falta el consentimiento"},
    "invalid_fields": {"en": "not valid", "es": "no son válidos"},
    "file_refused": {"en": "JPEG", "es": "Grabaciones: MP3"},
    "unsupported_media_type": {"en": "multipart/form-data", "es": "Envía la contribución"},
    "too_many_files": {"en": "at most 20 files", "es": "como máximo 20 archivos"},
    "empty": {"en": "needs a text", "es": "necesita un texto"},
    "too_large": {"en": "larger than the archive accepts", "es": "más grande de lo que acepta"},
    "rate_limited": {"en": "Too many uploads", "es": "demasiados envíos"},
    "upload_incomplete": {"en": "did not arrive complete", "es": "no llegó completo"},
}


def post(client, data, lang="en", **kwargs):
    return client.post(
        URL, data=data, headers={"Accept-Language": lang}, content_type="multipart/form-data", **kwargs
    )


def assert_error(response, code, status, lang) -> None:
    body = response.get_json()
    assert response.status_code == status, body
    assert body["error"] == code
    assert body["kept"] is False  # every refusal says nothing was kept: send it all again
    assert MESSAGES[code][lang] in body["message"], body["message"]
    assert response.headers.get("Set-Cookie") is None


@pytest.mark.parametrize("lang", ["es", "en"])
def test_api_happy_path_with_files(app, client, lang) -> None:
    data = story_form(
        photos=[upload(media_samples.jpeg(dirty=True), "IMG_Tijuana.jpg")],
        audio=[upload(media_samples.wav(), "a.wav")],
    )
    response = post(client, data, lang)
    body = response.get_json()
    assert response.status_code == 201, body
    assert receipts.find_contributor(body["receipt_code"]) is not None
    assert all(w in receipts.wordlist(lang) for w in body["receipt_code"].split())
    assert [f["kind"] for f in body["files"]] == ["audio", "image"]
    photo = body["files"][1]
    assert "location" in photo["removed"]
    expected = "We removed the location" if lang == "en" else "Quitamos el lugar donde se tomó"
    assert any(expected in m for m in photo["messages"])
    story = db.session.scalars(select(Story)).one()
    assert story.public_id == body["story_id"] and story.status == StoryStatus.SUBMITTED
    assert sorted(m.kind for m in story.media) == [MediaKind.AUDIO, MediaKind.IMAGE]
    assert story.current_consent.text_language == lang


@pytest.mark.parametrize("lang", ["es", "en"])
def test_api_errors_have_stable_codes_and_localized_messages(app, client, lang) -> None:
    assert_error(post(client, story_form(agree=None), lang), "consent_required", 422, lang)
    assert_error(post(client, story_form(consent_version="old"), lang), "consent_required", 422, lang)
    assert_error(post(client, story_form(visibility="everyone"), lang), "invalid_fields", 422, lang)
    assert_error(post(client, story_form(body=""), lang), "empty", 422, lang)
    refused = post(
        client, story_form(photos=[upload(media_samples.png(), "a.png"), upload(b"PK\3\4zip", "b.png")]), lang
    )
    assert_error(refused, "file_refused", 422, lang)
    assert refused.get_json()["file"] == 2 and refused.get_json()["file_error"]
    many = story_form(photos=[upload(media_samples.png(), f"{i}.png") for i in range(21)])
    assert_error(post(client, many, lang), "too_many_files", 413, lang)
    as_json = client.post(URL, json=story_form(), headers={"Accept-Language": lang})
    assert_error(as_json, "unsupported_media_type", 415, lang)
    nothing_stored(app)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_api_oversize_is_413_json(app_config, app, client, lang) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    body = b'--B\r\nContent-Disposition: form-data; name="body"\r\n\r\n' + b"x" * 20_000 + b"\r\n--B--\r\n"
    response = client.post(
        URL, data=body, headers={"Accept-Language": lang, "Content-Type": "multipart/form-data; boundary=B"}
    )
    assert_error(response, "too_large", 413, lang)
    nothing_stored(app)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_api_truncated_upload_is_400(app, client, lang) -> None:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="body"\r\n\r\nhola\r\n'
        b'--B\r\nContent-Disposition: form-data; name="photos"; filename="a.jpg"\r\n\r\n\xff\xd8\xff'
    )
    response = client.post(
        URL,
        input_stream=io.BytesIO(body),
        headers={
            "Accept-Language": lang,
            "Content-Type": "multipart/form-data; boundary=B",
            "Content-Length": str(len(body) + 1000),
        },
    )
    assert_error(response, "upload_incomplete", 400, lang)
    nothing_stored(app)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_api_rate_limit_is_429_with_retry_after(app, client, lang) -> None:
    app.config["RATE_LIMITS"] = {"contribute": (Limit(1, 3600),)}
    assert post(client, story_form(), lang).status_code == 201
    response = post(client, story_form(), lang)
    assert_error(response, "rate_limited", 429, lang)
    assert 1 <= int(response.headers["Retry-After"]) <= 3600


def test_api_uses_no_csrf_and_no_cookies(app, client) -> None:
    response = post(client, story_form())
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    ("method", "path", "status", "code", "words"),
    [
        ("GET", "/api/v1/no-such-thing", 404, "not_found", {"en": "Page not found", "es": "No encontramos"}),
        ("GET", URL, 405, "method_not_allowed", {"en": "not right", "es": "no salió bien"}),
        ("DELETE", "/api/v1/search", 405, "method_not_allowed", {"en": "not right", "es": "no salió bien"}),
    ],
)
@pytest.mark.parametrize("lang", ["es", "en"])
def test_api_routing_errors_answer_json(app, client, lang, method, path, status, code, words) -> None:
    """A partner tool gets JSON for every error under /api/, routing errors included (no HTML)."""
    response = client.open(path, method=method, headers={"Accept-Language": lang})
    assert response.status_code == status
    assert response.mimetype == "application/json", response.data[:80]
    body = response.get_json()
    assert body["error"] == code
    assert words[lang] in body["message"], body["message"]
