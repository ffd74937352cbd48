"""The contribution form, end to end through the test client, in Spanish and English."""

from __future__ import annotations

import io
import itertools
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from nuevonorte import receipts
from nuevonorte.consent import CONSENT_TEXT_VERSION
from nuevonorte.extensions import db
from nuevonorte.models import Credit, MediaKind, Story, StoryStatus, Visibility
from nuevonorte.ratelimit import Limit
from tests import media_samples
from tests.contribute_fixtures import (
    contribute,
    counts,
    csrf_token,
    nothing_stored,
    receipt_code,
    sent,
    story_form,
    upload,
)

LANGS = ["es", "en"]


@pytest.mark.parametrize("lang", LANGS)
def test_text_only_contribution_gives_receipt_and_waits_for_review(app, client, lang) -> None:
    """A typed story becomes a submitted story with its consent record; nothing is public (C14)."""
    response = contribute(client, lang, language=lang)
    assert sent(response)
    assert response.headers["Cache-Control"] == "no-store"
    code = receipt_code(response)
    words = code.split()
    assert len(words) == 6 and all(w in receipts.wordlist(lang) for w in words)
    story = db.session.scalars(select(Story)).one()
    assert story.status == StoryStatus.SUBMITTED
    assert story.body.startswith("Salí de Oaxaca")
    record = story.current_consent
    assert record.text_version == CONSENT_TEXT_VERSION and record.text_language == lang
    assert record.credit == Credit.PSEUDONYM and record.credit_name == "Lupe"
    assert not record.voice_public and not record.photos_public
    assert receipts.find_contributor(code.upper()) == story.contributor
    assert client.get(f"/{lang}/stories/{story.public_id}").status_code == 404


def test_form_defaults_are_safe_and_consent_is_the_same_in_both_languages(app, client) -> None:
    """C13/C14: pseudonym, no public voice or photos, honest anonymity text, same version and options."""
    pages = {lang: client.get(f"/{lang}/contribute").get_data(as_text=True) for lang in LANGS}
    for html in pages.values():
        assert re.search(r'value="pseudonym"[^>]*checked|checked[^>]*value="pseudonym"', html)
        assert not re.search(r'name="voice_public"[^>]*checked', html)
        assert not re.search(r'name="photos_public"[^>]*checked', html)
        assert f'value="{CONSENT_TEXT_VERSION}"' in html
    assert "cannot fully guarantee anonymity" in pages["en"]
    assert "anonimato" in pages["es"]

    def options(html: str) -> list[tuple[str, str]]:
        return re.findall(
            r'name="(visibility|credit|voice_public|photos_public|in_collections|embargo_until)"[^>]*value="([^"]*)"',
            html,
        )

    assert options(pages["es"]) == options(pages["en"]) != []


def test_switching_language_mid_flow_keeps_the_typed_text(app, client) -> None:
    """C13: the language button posts the form to the other language; nothing is saved."""
    data = story_form(body="Mi historia a medias", switch_language="en", agree=None)
    data["csrf_token"] = csrf_token(client, "/es/contribute")
    response = client.post("/en/contribute", data=data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="en">' in html and "Mi historia a medias" in html
    assert counts()["story"] == 0


@pytest.mark.parametrize("lang", LANGS)
def test_consent_box_unticked_saves_nothing_and_keeps_text(app, client, lang) -> None:
    """C01: no consent, no story; the form comes back with the text (422)."""
    response = contribute(client, lang, agree=None, body="Texto que no se pierde")
    assert response.status_code == 422
    assert "Texto que no se pierde" in response.get_data(as_text=True)
    nothing_stored(app)


@pytest.mark.parametrize(
    "tampered", [{"visibility": "everyone"}, {"credit": "legal_name"}, {"consent_version": "1999-01"}]
)
def test_tampered_consent_fields_are_refused(app, client, tampered) -> None:
    """C01: a tampered consent field or version is refused; nothing is ever publishable."""
    response = contribute(client, "es", **tampered)
    assert response.status_code == 422
    nothing_stored(app)


@pytest.mark.parametrize("lang", LANGS)
def test_missing_csrf_token_saves_nothing_and_keeps_text(app, client, lang) -> None:
    """U21/A16: without a token nothing is stored; the message is localized and the text kept."""
    response = contribute(client, lang, token=False, body="Lo que escribí")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Lo que escribí" in html
    assert ("expired" in html) if lang == "en" else ("venció" in html)
    nothing_stored(app)


def test_a_story_needs_text_or_a_file(app, client) -> None:
    response = contribute(client, "en", body="   ")
    assert response.status_code == 422
    nothing_stored(app)


def test_credit_name_required_unless_anonymous(app, client) -> None:
    assert contribute(client, "es", credit_name="").status_code == 422
    response = contribute(client, "es", credit="anonymous", credit_name="Should vanish")
    assert sent(response)
    record = db.session.scalars(select(Story)).one().current_consent
    assert record.credit == Credit.ANONYMOUS and record.credit_name == ""


def test_past_embargo_date_is_refused_and_future_one_kept(app, client) -> None:
    assert contribute(client, "es", embargo_until="2001-01-01").status_code == 422
    assert sent(contribute(client, "es", embargo_until="2999-01-01"))
    assert str(db.session.scalars(select(Story)).one().current_consent.embargo_until) == "2999-01-01"


@pytest.mark.parametrize("lang", LANGS)
def test_story_with_photo_and_recording(app, client, lang) -> None:
    """Files go through ingest; the receipt says what was removed, in the person's language."""
    response = contribute(
        client,
        lang,
        photos=[upload(media_samples.jpeg(dirty=True), "IMG_20260501_Tijuana.jpg")],
        audio=[upload(media_samples.wav(), "Calle Revolución 1234.wav")],
    )
    html = response.get_data(as_text=True)
    assert sent(response), html
    assert (
        ("We removed the location" in html)
        if lang == "en"
        else ("Quitamos el lugar donde se tomó tu foto" in html)
    )
    assert "Tijuana.jpg" not in html and "Revolución 1234" not in html
    story = db.session.scalars(select(Story)).one()
    assert sorted(m.kind for m in story.media) == [MediaKind.AUDIO, MediaKind.IMAGE]
    for media in story.media:
        for key in media.storage_keys():
            assert Path(app.config["MEDIA_DIR"], key[:2], key).is_file()


@pytest.mark.parametrize("lang", LANGS)
def test_one_refused_file_saves_nothing_of_the_submission(app, client, lang) -> None:
    """A good photo then an SVG: no story, consent, media rows, files or temp files; text kept (422)."""
    response = contribute(
        client,
        lang,
        body="Mi texto largo",
        photos=[
            upload(media_samples.jpeg(), "a.jpg"),
            upload(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "b.jpg"),
        ],
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Mi texto largo" in html
    assert ("File 2 of 2" in html and "JPEG" in html) if lang == "en" else ("Archivo 2 de 2" in html)
    nothing_stored(app)


def test_too_many_files_is_refused_whole(app, client) -> None:
    """U20: more files than allowed in one story: 413, nothing stored."""
    photos = [upload(media_samples.png(), f"{i}.png") for i in range(21)]
    response = contribute(client, "en", photos=photos)
    assert response.status_code == 413
    assert "up to 20 files" in response.get_data(as_text=True)
    nothing_stored(app)


@pytest.fixture
def small_uploads(app_config):
    app_config["max_upload_mb"] = 1
    return app_config


@pytest.mark.parametrize("lang", LANGS)
def test_oversize_body_is_413_localized(small_uploads, app, client, lang) -> None:
    """U07: a body over MAX_CONTENT_LENGTH gets the localized 413 page and leaves nothing."""
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    data = story_form(csrf_token=csrf_token(client, f"/{lang}/contribute"))
    data["photos"] = FileStorage(io.BytesIO(b"\0" * (1024 * 1024 + 10)), filename="big.jpg")
    # Encoded here as bytes: the test client's own spooled body file would otherwise stay open.
    boundary, body = encode_multipart(data)
    response = client.post(
        f"/{lang}/contribute", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert ("too large" in html) if lang == "en" else ("demasiado grandes" in html)
    nothing_stored(app)


def test_multipart_part_flood_is_413(app, client) -> None:
    """U08: thousands of tiny fields are refused before they are read."""
    data = story_form(csrf_token=csrf_token(client, "/es/contribute"))
    data.update({f"f{i}": "x" for i in range(1200)})
    response = client.post("/es/contribute", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    nothing_stored(app)


def _multipart(fields: dict[str, str], boundary: str = "XyZbOuNdArY") -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    return b"".join(parts)


@pytest.mark.parametrize("cut", ["missing_closing_boundary", "client_disconnected"])
def test_truncated_upload_is_400_and_keeps_typed_text(app, client, cut) -> None:
    """U09: an upload cut off halfway: 'upload incomplete', text back in the form, nothing stored."""
    token = csrf_token(client, "/en/contribute")
    fields = story_form(body="Every word I typed", csrf_token=token)
    body = _multipart(fields)
    body += (
        b'--XyZbOuNdArY\r\nContent-Disposition: form-data; name="photos"; filename="a.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + media_samples.jpeg()[:200]
    )
    length = len(body) + (5000 if cut == "client_disconnected" else 0)
    response = client.post(
        "/en/contribute",
        data=body,
        headers={"Content-Type": "multipart/form-data; boundary=XyZbOuNdArY", "Content-Length": str(length)},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "did not arrive complete" in html
    assert "Every word I typed" in html
    nothing_stored(app)


def test_rate_limit_answers_429_with_retry_after(app_config, app, client) -> None:
    """Floods of contributions are refused (429, localized) without storing any address."""
    # An hour's window: with a minute's, the three requests straddled a minute boundary
    # (windows are aligned to the clock) in about one run in twenty under load.
    app.config["RATE_LIMITS"] = {"contribute": (Limit(2, 3600),)}
    assert sent(contribute(client, "es"))
    assert sent(contribute(client, "es"))
    response = contribute(client, "es")
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 3600
    assert "Espera" in response.get_data(as_text=True) or "espera" in response.get_data(as_text=True)
    assert counts()["story"] == 2


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_rate_limited_contribution_keeps_the_typed_text_T12(app, client, lang) -> None:
    """A 429 from the contribution limit is the form again, with what the person wrote and
    chose, a localized reason and the Retry-After — never a bare page (issue 11 item 7)."""
    app.config["RATE_LIMITS"] = {"contribute": (Limit(0, 3600),)}
    response = contribute(
        client, lang, title="Mi título", body="Lo que escribí con cuidado", credit="anonymous", credit_name=""
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 3600
    assert "Lo que escribí con cuidado" in html and 'value="Mi título"' in html
    assert re.search(r'value="anonymous"[^>]*checked|checked[^>]*value="anonymous"', html)
    assert 'id="contribute-form"' in html and 'id="problem"' in html
    kept = "your text is still here" if lang == "en" else "tu texto sigue aquí"
    assert kept in html
    nothing_stored(app)


def test_only_the_hash_of_the_receipt_code_is_stored(app, client, database_url) -> None:
    """Receipt code: nowhere in the database, in any form (scan of every table's text)."""
    code = receipt_code(contribute(client, "es"))
    dump = _database_text().lower()
    words = code.lower().split()
    # Single words may occur by chance (the word list has "familia"; so do the themes);
    # the code, or any two of its words in a row, may not.
    for joiner in (" ", "", "-"):
        assert joiner.join(words) not in dump
    for first, second in itertools.pairwise(words):
        assert f"{first} {second}" not in dump
    assert receipts.find_contributor(code) is not None


def _database_text() -> str:
    from nuevonorte.models import Base

    chunks = []
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                chunks.append(" ".join(str(v) for v in row))
    return "\n".join(chunks)


def test_contributor_stories_never_publishable_without_public_consent(app, client) -> None:
    """C01: a story sent as 'nobody but me' cannot be published by anyone."""
    from nuevonorte import stories

    assert sent(contribute(client, "es", visibility="contributor"))
    story = db.session.scalars(select(Story)).one()
    assert story.current_consent.visibility == Visibility.CONTRIBUTOR
    with pytest.raises(stories.StoryRefused):
        stories.publish(story, None)


def test_original_filenames_are_never_stored(app, client) -> None:
    """M15: neither the database, nor file names or contents in the media folder, hold the name."""
    response = contribute(client, "es", photos=[upload(media_samples.jpeg(), "IMG_20260501_Tijuana.jpg")])
    assert sent(response)
    assert "IMG_20260501" not in _database_text()
    for path in Path(app.config["MEDIA_DIR"]).rglob("*"):
        assert "IMG_20260501" not in path.name
        if path.is_file():
            assert b"IMG_20260501" not in path.read_bytes()


def test_collect_less_no_identifying_columns_or_fields(app) -> None:
    """C15: no column or form field for a legal name, phone, email, address, IP or user agent."""
    from nuevonorte.contribute.forms import ContributionForm
    from nuevonorte.models import Base

    forbidden = (
        "phone",
        "email",
        "address",
        "ip",
        "user_agent",
        "legal_name",
        "latitude",
        "longitude",
        "gps",
    )
    contributor_side = ("contributor", "story", "consent_record", "media_file", "rate_window", "audit_event")
    for table in Base.metadata.sorted_tables:
        if table.name in contributor_side:
            for column in table.columns:
                assert not any(
                    word == column.name or column.name.startswith(word + "_") for word in forbidden
                ), f"{table.name}.{column.name}"
    with app.test_request_context("/es/contribute"):
        names = {field.name for field in ContributionForm(meta={"csrf": False})}
    assert not names & set(forbidden)


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_links_to_contributing_and_my_stories(app, client, lang) -> None:
    html = client.get(f"/{lang}/").get_data(as_text=True)
    assert f'href="/{lang}/contribute"' in html and f'href="/{lang}/my-stories"' in html


@pytest.mark.parametrize(
    ("lang", "words"),
    [("es", "puede que tu historia sí haya llegado"), ("en", "your story may have arrived anyway")],
)
def test_the_form_says_what_to_do_when_the_answer_never_came_T08(client, lang, words) -> None:
    """A kill between commit and answer stores the story but loses its code (issue 11 item 8,
    until the idempotency token of issue 13): the form says it may have arrived and what to do."""
    html = client.get(f"/{lang}/contribute").get_data(as_text=True)
    assert words in html and 'id="lost-answer"' in html
