"""What a contributor cannot lose (issue 13): the code, the files, the words, and their own
sign-in on a shared phone. Server side, through the real app and database; the browser side
is in test_browser_contribute_flow.py. Cases C14, C16-C18, A21 and A22 of docs/security.md."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import func, select

from nuevonorte.consent import CONSENT_TEXT_VERSION
from nuevonorte.contribute import held, submissions
from nuevonorte.extensions import db
from nuevonorte.models import ContributorSession, MediaKind, Story, Submission
from nuevonorte.models.base import utcnow
from nuevonorte.storage import get_storage
from tests import media_samples
from tests.contribute_fixtures import (
    contribute,
    csrf_token,
    form_tokens,
    receipt_code,
    sent,
    story_form,
    upload,
)

LANGS = ["es", "en"]


def _post(client: FlaskClient, lang: str, tokens: dict[str, str], **fields: Any) -> Any:
    data = {**tokens, **story_form(**fields)}
    return client.post(f"/{lang}/contribute", data=data, content_type="multipart/form-data")


def _stories() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Story)) or 0


def _held_files(app: Flask) -> list[Path]:
    root = Path(app.config["MEDIA_DIR"], ".tmp", "held")
    return (
        sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
        if root.exists()
        else []
    )


def _all_held_bytes(app: Flask) -> bytes:
    root = Path(app.config["MEDIA_DIR"], ".tmp", "held")
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def _sign_in(client: FlaskClient, code: str, lang: str = "es") -> Any:
    token = csrf_token(client, f"/{lang}/my-stories")
    return client.post(f"/{lang}/my-stories", data={"csrf_token": token, "code": code})


# --- 1, 2: a receipt that can be reloaded; one story per sent form ----------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_the_receipt_is_a_page_of_its_own_and_reloads_without_sending_again(app, client, lang) -> None:
    tokens = form_tokens(client, f"/{lang}/contribute")
    response = _post(client, lang, tokens)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/{lang}/contribute/receipt")
    first = client.get(f"/{lang}/contribute/receipt")
    code = receipt_code(first)
    for _ in range(3):  # reload, reload, reload
        assert receipt_code(client.get(f"/{lang}/contribute/receipt")) == code
    assert _stories() == 1


@pytest.mark.parametrize("lang", LANGS)
def test_the_same_form_sent_twice_makes_one_story_and_shows_the_same_code(app, client, lang) -> None:
    tokens = form_tokens(client, f"/{lang}/contribute")
    first = client.post(
        f"/{lang}/contribute",
        data={**tokens, **story_form()},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    # Back, then Send again: the page's form still carries its token.
    again = client.post(
        f"/{lang}/contribute",
        data={**tokens, **story_form()},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert sent(first) and sent(again)
    assert receipt_code(again) == receipt_code(first)
    assert _stories() == 1
    # A new form (a new token) is a new story.
    assert sent(contribute(client, lang))
    assert _stories() == 2


def test_written_down_erases_the_sealed_code_and_the_page_says_so(app, client) -> None:
    response = contribute(client, "en")
    code = receipt_code(response)
    db.session.rollback()
    row = db.session.scalars(select(Submission)).one()
    assert row.sealed_code is not None and code.encode() not in row.sealed_code
    token = csrf_token(client, "/en/contribute/receipt")
    done = client.post("/en/contribute/receipt/done", data={"csrf_token": token})
    assert done.status_code == 303 and done.headers["Location"].endswith("/en/my-stories")
    db.session.rollback()
    assert db.session.scalars(select(Submission)).one().sealed_code is None
    # The device no longer has a receipt to show; the form no longer points to one.
    assert client.get("/en/contribute/receipt").status_code == 303
    assert 'id="pending-receipt"' not in client.get("/en/contribute").get_data(as_text=True)


def test_the_sealed_code_is_shown_for_an_hour_then_erased_by_the_next_sweep(app, client, runner) -> None:
    start = utcnow()
    with freeze_time(start) as clock:
        response = contribute(client, "en")
        code = receipt_code(response)
        clock.tick(submissions.SHOWN_FOR + timedelta(seconds=1))
        page = client.get("/en/contribute/receipt").get_data(as_text=True)
        assert code not in page and "no longer shows the receipt code" in page
        assert runner.invoke(args=["sweep"]).exit_code == 0
        db.session.rollback()
        assert db.session.scalars(select(Submission)).one().sealed_code is None
    # The code still opens "my stories": only the shown copy is gone.
    assert _sign_in(client, code, "en").status_code == 303


def test_back_from_the_receipt_finds_a_way_back_to_the_code(app, client) -> None:
    """1: Back from the receipt shows the form, which says the code is still there to see."""
    contribute(client, "es")
    html = client.get("/es/contribute").get_data(as_text=True)
    assert 'id="pending-receipt"' in html and 'href="/es/contribute/receipt"' in html


def test_the_code_is_in_no_file_of_the_database(app, client) -> None:
    """C16: the receipt can be reloaded, yet the code exists in the database files only as its
    hash and a copy sealed with a key the server does not keep."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        pytest.skip("the raw database files are read on SQLite (PostgreSQL's are the server's)")
    main = Path(str(url.database))

    def raw() -> bytes:
        db.session.commit()
        return b"".join(
            Path(str(main) + s).read_bytes() for s in ("", "-wal") if Path(str(main) + s).exists()
        )

    # The same story from another device first: the words an archive holds anyway (the
    # consent text's, the story's) are no sign of the code.
    assert sent(contribute(app.test_client(), "en"))
    common = raw()
    code = receipt_code(contribute(client, "en"))
    after = raw()
    assert code.encode() not in after
    assert not any(w.encode() in after for w in code.split() if len(w) > 5 and w.encode() not in common)


# --- 3: files sent with a form that must be corrected are kept --------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_files_of_a_form_with_errors_are_kept_and_sent_with_the_corrected_form(app, client, lang) -> None:
    tokens = form_tokens(client, f"/{lang}/contribute")
    voice = media_samples.wav(seconds=1)
    first = _post(
        client,
        lang,
        tokens,
        visibility=None,
        credit="pseudonym",
        credit_name="",
        audio=[upload(voice, "recording.webm")],
        photos=[upload(media_samples.jpeg(dirty=True), "IMG_1.jpg")],
    )
    html = first.get_data(as_text=True)
    assert first.status_code == 422
    assert 'id="held-files"' in html and html.count('name="drop_held"') == 2
    assert "IMG_1" not in html and "recording.webm" not in html  # never the file's name (M15)
    assert _stories() == 0 and len(_held_files(app)) == 2
    # What waits on the disk is the cleaned file: nothing of the photo's hidden data (C17).
    kept = _all_held_bytes(app)
    assert not any(marker.encode() in kept for marker in media_samples.MARKERS)
    # Corrected, without choosing the files again.
    again = client.post(
        f"/{lang}/contribute",
        data={**tokens, **story_form(credit_name="Lupe")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert sent(again)
    db.session.rollback()
    story = db.session.scalars(select(Story)).one()
    assert sorted(m.kind for m in story.media) == [MediaKind.AUDIO, MediaKind.IMAGE]
    assert _held_files(app) == [] and _all_held_bytes(app) == b""
    # The receipt still says what the first cleaning removed from the photo.
    removed = {"es": "Quitamos el lugar", "en": "We removed the location"}[lang]
    assert removed in again.get_data(as_text=True)


def test_a_kept_file_the_person_removes_is_not_sent(app, client) -> None:
    tokens = form_tokens(client, "/en/contribute")
    first = _post(client, "en", tokens, agree=None, photos=[upload(media_samples.jpeg(), "a.jpg")])
    assert first.status_code == 422
    name = re.search(r'name="drop_held" value="([^"]+)"', first.get_data(as_text=True)).group(1)
    again = client.post(
        "/en/contribute",
        data={**tokens, **story_form(), "drop_held": name},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert sent(again)
    db.session.rollback()
    assert db.session.scalars(select(Story)).one().media == []
    assert _held_files(app) == []


def test_kept_files_are_swept_after_their_time(app, client) -> None:
    tokens = form_tokens(client, "/en/contribute")
    assert (
        _post(client, "en", tokens, agree=None, photos=[upload(media_samples.jpeg(), "a.jpg")]).status_code
        == 422
    )
    storage = get_storage()
    assert held.sweep(storage) == [] and len(_held_files(app)) == 1
    import time

    assert len(held.sweep(storage, now=time.time() + held.HELD_FOR + 1)) == 1
    assert _held_files(app) == []


def test_a_forged_form_keeps_no_file(app, client) -> None:
    """C17: only a form of this site (its CSRF token) may leave files waiting on the disk."""
    data = story_form(visibility=None, photos=[upload(media_samples.jpeg(), "a.jpg")])
    response = client.post("/en/contribute", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert _held_files(app) == []


# --- 6: one person, one code on a shared phone -------------------------------------------------


def _first_person(client: FlaskClient) -> tuple[str, Story]:
    response = contribute(client, "es", title="Primera")
    code = receipt_code(response)
    assert _sign_in(client, code).status_code == 303
    db.session.rollback()
    return code, db.session.scalars(select(Story)).one()


def test_on_a_shared_phone_the_next_story_gets_its_own_code_and_signs_the_first_person_out(
    app, client
) -> None:
    """C18."""
    code, first = _first_person(client)
    form = client.get("/es/contribute").get_data(as_text=True)
    assert 'name="whose"' in form and re.search(r'value="new"[^>]*checked|checked[^>]*value="new"', form)
    second = contribute(client, "es", title="Segunda")
    assert sent(second)
    new_code = receipt_code(second)
    assert new_code != code
    db.session.rollback()
    stories = db.session.scalars(select(Story).order_by(Story.id)).all()
    assert stories[0].contributor_id != stories[1].contributor_id
    # The first person is signed out: their stories need their code again.
    assert client.get(f"/es/my-stories/{first.public_id}").status_code == 303
    assert 'name="code"' in client.get("/es/my-stories").get_data(as_text=True)


def test_on_a_shared_phone_adding_to_the_signed_in_code_is_a_choice(app, client) -> None:
    _code, first = _first_person(client)
    response = contribute(client, "es", title="Otra", whose="add")
    assert sent(response) and 'id="receipt-code"' not in response.get_data(as_text=True)
    db.session.rollback()
    assert {s.contributor_id for s in db.session.scalars(select(Story))} == {first.contributor_id}


# --- 8: nothing chosen for the person; no consent without the text's version ------------------


def test_no_visibility_is_preselected_and_one_must_be_chosen(app, client) -> None:
    """C14: the person chooses."""
    html = client.get("/en/contribute").get_data(as_text=True)
    assert not re.search(r'name="visibility"[^>]*checked', html)
    assert "search engines too" in html
    response = _post(client, "en", form_tokens(client, "/en/contribute"), visibility=None)
    assert response.status_code == 422
    assert "Choose who may see your story." in response.get_data(as_text=True)
    assert _stories() == 0


@pytest.mark.parametrize("lang", LANGS)
def test_a_form_without_the_consent_text_version_is_refused(app, client, lang) -> None:
    response = _post(client, lang, form_tokens(client, f"/{lang}/contribute"), consent_version=None)
    assert response.status_code == 422
    assert "consent text" in response.get_data(as_text=True) or "consentimiento" in response.get_data(
        as_text=True
    )
    assert _stories() == 0
    api = client.post(
        "/api/v1/contributions",
        data=story_form(consent_version=None),
        content_type="multipart/form-data",
        headers={"Accept-Language": lang},
    )
    assert api.status_code == 422 and api.get_json()["error"] == "consent_required"
    assert _stories() == 0
    shown = client.get(f"/{lang}/contribute").get_data(as_text=True)
    assert f'name="consent_version" type="hidden" value="{CONSENT_TEXT_VERSION}"' in shown


# --- 9: nothing personal cached; "forget me" ends every copy of the sign-in -------------------


def test_every_contributor_page_is_never_cached(app, client) -> None:
    _code, story = _first_person(client)
    pages = [
        client.get("/es/contribute"),
        _post(client, "es", form_tokens(client, "/es/contribute"), agree=None),
        client.get("/es/my-stories"),
        client.get(f"/es/my-stories/{story.public_id}"),
    ]
    contribute(client, "es")
    pages.append(client.get("/es/contribute/receipt"))
    for page in pages:
        assert page.headers["Cache-Control"] == "no-store", page.request.path


def test_forget_me_ends_a_copy_of_the_cookie_made_before_it(app, client) -> None:
    """A21: the session ends on the server, not only in this browser."""
    _code, story = _first_person(client)
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert copy.get(f"/es/my-stories/{story.public_id}").status_code == 200
    token = csrf_token(client, "/es/my-stories")
    assert client.post("/es/my-stories/forget", data={"csrf_token": token}).status_code == 303
    assert copy.get(f"/es/my-stories/{story.public_id}").status_code == 303
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ContributorSession)) == 0


# --- 10: the language switch is a form like the others -----------------------------------------


def test_a_language_switch_from_another_site_cannot_prefill_the_choices(app, client) -> None:
    """A22."""
    forged = {
        "switch_language": "en",
        "body": "texto",
        "visibility": "public",
        "voice_public": "y",
        "credit": "name",
        "credit_name": "Mi nombre real",
        "agree": "y",
    }
    response = client.post("/en/contribute", data=forged, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "texto" in html  # the words come back
    assert not re.search(r'name="visibility"[^>]*checked', html)
    assert not re.search(r'name="voice_public"[^>]*checked', html)
    assert "Mi nombre real" not in html and not re.search(r'name="agree"[^>]*checked', html)


def test_a_language_switch_from_the_form_keeps_everything(app, client) -> None:
    data = {
        **form_tokens(client, "/es/contribute"),
        "switch_language": "en",
        "body": "texto",
        "visibility": "curators",
        "credit": "anonymous",
    }
    response = client.post("/en/contribute", data=data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "texto" in html
    assert re.search(r'checked[^>]*value="curators"|value="curators"[^>]*checked', html)


# --- 5: errors tied to their fields; a sign-in error that names the word ----------------------


def test_field_errors_are_tied_to_inputs_and_listed_with_links(app, client) -> None:
    response = _post(
        client, "en", form_tokens(client, "/en/contribute"), visibility=None, credit_name="", agree=None
    )
    html = response.get_data(as_text=True)
    assert '<p class="field">' not in html
    summary = re.search(
        r'<div class="problem error-summary"[^>]*id="error-summary".*?</div>', html, re.S
    ).group(0)
    links = re.findall(r'href="#([^"]+)"', summary)
    assert len(links) == 3
    for target in links:
        assert f'id="{target}"' in html
    assert re.search(
        r'id="credit_name"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="credit_name"', html
    )
    assert 'aria-describedby="credit_name-errors"' in html and 'id="credit_name-errors"' in html
    assert 'id="visibility" aria-invalid="true" aria-describedby="visibility-errors"' in html


@pytest.mark.parametrize(("lang", "said"), [("es", "«gatx»"), ("en", "“gatx”")])
def test_a_code_with_a_word_not_in_the_list_names_that_word(app, client, lang, said) -> None:
    response = _sign_in(client, "abeja gatx cama dedo edad fase", lang)
    assert response.status_code == 422
    assert said in response.get_data(as_text=True)
