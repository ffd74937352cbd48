"""'My stories' with a receipt code: status, consent changes, withdrawal (C04-C11, A04, A16)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from nuevonorte import stories
from nuevonorte.extensions import db
from nuevonorte.models import MediaKind, Story, StoryStatus, Visibility
from tests import media_samples
from tests.contribute_fixtures import contribute, csrf_token, receipt_code, sent, upload


def _send(client, lang="es", **fields):
    response = contribute(client, lang, **fields)
    assert sent(response), response.get_data(as_text=True)[:2000]
    story = db.session.scalars(select(Story).order_by(Story.id.desc())).first()
    return receipt_code(response), story


def _sign_in(client, code, lang="es"):
    token = csrf_token(client, f"/{lang}/my-stories")
    return client.post(f"/{lang}/my-stories", data={"csrf_token": token, "code": code})


def _token(client, story, lang="es"):
    return csrf_token(client, f"/{lang}/my-stories/{story.public_id}")


def _publish(story):
    stories.publish(story, None)
    db.session.commit()


@pytest.mark.parametrize("lang", ["es", "en"])
def test_sign_in_with_the_code_lists_my_stories_with_plain_status(app, client, lang) -> None:
    code, _story = _send(client, lang, title="Mi cruce")
    response = _sign_in(client, "  " + code.upper() + " ", lang)
    assert response.status_code == 303
    html = client.get(f"/{lang}/my-stories").get_data(as_text=True)
    assert "Mi cruce" in html
    assert (
        ("Waiting for a curator" in html) if lang == "en" else ("Esperando a que alguien del taller" in html)
    )


def test_wrong_code_is_refused_without_detail(app, client) -> None:
    _send(client)
    response = _sign_in(client, "ábaco acción ácido acné aéreo zumo")
    assert response.status_code == 422
    assert "No reconocemos este código" in response.get_data(as_text=True)


def _session_words(value) -> set[str]:
    """Every whole word in the session's keys and values, lower-cased."""
    if isinstance(value, dict):
        return set().union(*(_session_words(k) | _session_words(v) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return set().union(*(_session_words(item) for item in value))
    return set(re.findall(r"[^\W\d_]+", str(value).lower()))


def test_the_session_never_holds_the_code(app, client) -> None:
    code, _story = _send(client)
    _sign_in(client, code)
    with client.session_transaction() as session:
        contents = {key: value for key, value in session.items() if key != "csrf_token"}
    assert "contributor" in contents
    # Whole words, not substrings: the code word "tribu" is inside the key "contributor".
    words = _session_words(contents)
    assert not words & set(code.lower().split())
    assert code.lower() not in repr(contents).lower()


def test_change_consent_narrow_applies_at_once_and_widen_goes_back_to_review(app, client) -> None:
    code, story = _send(client, voice_public="y")
    _publish(story)
    _sign_in(client, code)
    assert client.get(f"/es/stories/{story.public_id}").status_code == 200
    token = _token(client, story)
    narrow = {"csrf_token": token, "visibility": "curators", "credit": "anonymous", "in_collections": "y"}
    response = client.post(f"/es/my-stories/{story.public_id}", data=narrow)
    assert response.status_code == 303
    assert client.get(f"/es/stories/{story.public_id}").status_code == 404
    db.session.commit()  # end the test's read snapshot
    assert story.current_consent.visibility == Visibility.CURATORS
    assert story.current_consent.credit_name == ""
    widen = {"csrf_token": token, "visibility": "public", "credit": "name", "credit_name": "Guadalupe"}
    client.post(f"/es/my-stories/{story.public_id}", data=widen)
    db.session.commit()  # end the test's read snapshot
    assert story.status == StoryStatus.SUBMITTED  # a curator looks again before it is shown
    assert story.current_consent.credit_name == "Guadalupe"
    assert "Listo" in client.get(f"/es/my-stories/{story.public_id}").get_data(as_text=True)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_withdraw_story_removes_files_and_public_page_at_once(app, client, lang) -> None:
    """C04-C06: one confirmed POST; files gone from disk, page 404, only a tombstone left."""
    code, story = _send(
        client,
        lang,
        photos=[upload(media_samples.jpeg(), "p.jpg")],
        audio=[upload(media_samples.wav(), "v.wav")],
    )
    _publish(story)
    paths = [Path(app.config["MEDIA_DIR"], k[:2], k) for m in story.media for k in m.storage_keys()]
    assert paths and all(p.is_file() for p in paths)
    _sign_in(client, code, lang)
    token = _token(client, story, lang)
    response = client.post(
        f"/{lang}/my-stories/{story.public_id}/withdraw", data={"csrf_token": token, "confirm": "y"}
    )
    assert response.status_code == 303
    assert not any(p.exists() for p in paths)
    assert client.get(f"/{lang}/stories/{story.public_id}").status_code == 404
    db.session.commit()  # end the test's read snapshot
    assert story.status == StoryStatus.WITHDRAWN and story.body == "" and story.media == []
    confirmation = client.get(response.headers["Location"]).get_data(as_text=True)
    assert (
        ("Your story was deleted" in confirmation)
        if lang == "en"
        else ("Tu historia se borró" in confirmation)
    )
    # C07: withdrawing again is harmless.
    again = client.post(
        f"/{lang}/my-stories/{story.public_id}/withdraw", data={"csrf_token": token, "confirm": "y"}
    )
    assert again.status_code == 303
    db.session.commit()  # end the test's read snapshot
    assert story.status == StoryStatus.WITHDRAWN


def test_withdraw_needs_the_confirmation_box(app, client) -> None:
    code, story = _send(client)
    _sign_in(client, code)
    response = client.post(
        f"/es/my-stories/{story.public_id}/withdraw", data={"csrf_token": _token(client, story)}
    )
    assert response.status_code == 303
    db.session.commit()  # end the test's read snapshot
    assert story.status == StoryStatus.SUBMITTED


def test_withdraw_one_recording_keeps_the_text_published(app, client) -> None:
    """C11: partial withdrawal removes the audio and its file; the story stays public."""
    code, story = _send(
        client, audio=[upload(media_samples.wav(), "v.wav")], photos=[upload(media_samples.png(), "p.png")]
    )
    _publish(story)
    audio = next(m for m in story.media if m.kind == MediaKind.AUDIO)
    path = Path(app.config["MEDIA_DIR"], audio.storage_key[:2], audio.storage_key)
    _sign_in(client, code)
    token = _token(client, story)
    response = client.post(
        f"/es/my-stories/{story.public_id}/media/{audio.public_id}/withdraw",
        data={"csrf_token": token, "confirm": "y"},
    )
    assert response.status_code == 303
    assert not path.exists()
    db.session.commit()  # end the test's read snapshot
    assert [m.kind for m in story.media] == [MediaKind.IMAGE]
    assert client.get(f"/es/stories/{story.public_id}").status_code == 200


def test_contributor_cannot_touch_another_contributors_story(app, client) -> None:
    """A04: every my-stories address answers 404 for someone else's story; nothing changes."""
    _code_a, story_a = _send(client, audio=[upload(media_samples.wav(), "v.wav")])
    code_b, _story_b = _send(client)
    media_a = story_a.media[0]
    _sign_in(client, code_b)
    token = csrf_token(client, "/es/my-stories")
    base = f"/es/my-stories/{story_a.public_id}"
    assert client.get(base).status_code == 404
    assert (
        client.post(
            base, data={"csrf_token": token, "visibility": "public", "credit": "anonymous"}
        ).status_code
        == 404
    )
    assert client.post(base + "/withdraw", data={"csrf_token": token, "confirm": "y"}).status_code == 404
    assert (
        client.post(
            f"{base}/media/{media_a.public_id}/withdraw", data={"csrf_token": token, "confirm": "y"}
        ).status_code
        == 404
    )
    db.session.commit()  # end the test's read snapshot
    assert story_a.status == StoryStatus.SUBMITTED and len(story_a.media) == 1 and len(story_a.consents) == 1


def test_state_changes_need_post_and_a_token(app, client) -> None:
    """A16: GET never withdraws; POST without a token is refused and changes nothing."""
    code, story = _send(client)
    _sign_in(client, code)
    base = f"/es/my-stories/{story.public_id}"
    assert client.get(base + "/withdraw").status_code == 405
    assert client.post(base + "/withdraw", data={"confirm": "y"}).status_code == 400
    assert client.post(base, data={"visibility": "contributor", "credit": "anonymous"}).status_code == 400
    assert client.post("/es/my-stories/forget").status_code == 400
    db.session.commit()  # end the test's read snapshot
    assert story.status == StoryStatus.SUBMITTED and len(story.consents) == 1


def test_not_signed_in_is_sent_to_the_code_form(app, client) -> None:
    _code, story = _send(client)
    response = client.get(f"/es/my-stories/{story.public_id}")
    assert response.status_code == 303 and response.headers["Location"].endswith("/es/my-stories")


def test_forget_me_on_this_device(app, client) -> None:
    code, story = _send(client)
    _sign_in(client, code)
    token = csrf_token(client, "/es/my-stories")
    response = client.post("/es/my-stories/forget", data={"csrf_token": token})
    assert response.status_code == 303
    html = client.get("/es/my-stories").get_data(as_text=True)
    assert 'name="code"' in html and "Este dispositivo ya no te recuerda" in html
    assert client.get(f"/es/my-stories/{story.public_id}").status_code == 303


def test_signed_in_contributor_adds_a_second_story_to_the_same_code(app, client) -> None:
    code, first = _send(client)
    _sign_in(client, code)
    response = contribute(client, "es", title="Segunda", whose="add")
    assert sent(response)
    assert 'id="receipt-code"' not in response.get_data(as_text=True)
    second = db.session.scalars(select(Story).order_by(Story.id.desc())).first()
    assert second.contributor_id == first.contributor_id
    assert re.search("Segunda", client.get("/es/my-stories").get_data(as_text=True))


def test_code_guessing_is_rate_limited_T12(app, client) -> None:
    """Wrong codes share a global cap (no addresses kept); past it a sign-in without a proof of
    work is told to wait: 429 with Retry-After, localized, the code kept and a challenge to solve."""
    from nuevonorte.ratelimit import Limit
    from tests.proof_client import challenge_on

    app.config["RATE_LIMITS"] = {"receipt": (Limit(2, 3600),)}
    for _ in range(2):
        assert _sign_in(client, "ábaco acción ácido acné aéreo zumo", "en").status_code == 422
    response = _sign_in(client, "ábaco acción ácido acné aéreo zumo", "en")
    html = response.get_data(as_text=True)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
    assert "Please wait a minute and try again" in html
    assert 'value="ábaco acción ácido acné aéreo zumo"' in html and challenge_on(html) is not None
