"""T12: a flood of bad requests cannot lock the owner of a code out, nor stop a valid contribution.

The limits stay global (no address is stored or hashed): requests that fail cheap checks are
refused without being counted, wrong codes are counted, and once they pass the cap a sign-in
must carry a proof of work, which a person's browser solves in a few seconds. Real database,
real app: run with NUEVONORTE_DATABASE_URL set to run it on PostgreSQL too.
"""

from __future__ import annotations

import hashlib
import io
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import select

from nuevonorte import receipts
from nuevonorte.extensions import db
from nuevonorte.models import RateWindow, SpentChallenge, Story, StoryStatus
from nuevonorte.ratelimit import DEFAULT_LIMITS, Limit
from tests.contribute_fixtures import contribute, csrf_token, receipt_code, sent, story_form
from tests.proof_client import answer, challenge_on, solved_fields

API = "/api/v1/contributions"
# The real caps, with windows of an hour instead of a minute: a minute's window is aligned to
# the clock, and a flood that straddled its end would start a calm window and prove nothing.
HOUR_WINDOWS = {
    kind: tuple(Limit(limit.count, 3600 if limit.seconds == 60 else limit.seconds) for limit in limits)
    for kind, limits in DEFAULT_LIMITS.items()
}
FLOOD = {
    "wrong code": 200,  # well-formed, so each of the first ones costs a slow scrypt
    "garbage code": 150,
    "sign-in without token": 150,
    "one-byte sign-in": 50,
    "contribution without token": 150,
    "one-byte contribution": 100,
    "api bad body": 200,
}


@pytest.fixture
def hour_windows(app: Flask) -> None:
    app.config["RATE_LIMITS"] = HOUR_WINDOWS


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times the slow hash ran (the real one, counted)."""
    calls: Counter[str] = Counter()
    real = hashlib.scrypt

    def counted(*args: Any, **kwargs: Any) -> bytes:
        calls["scrypt"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counted)
    return calls


def _counter(name: str) -> int:
    db.session.rollback()
    return sum(db.session.scalars(select(RateWindow.count).where(RateWindow.name == name)))


def _wrong_code(rng: random.Random) -> str:
    return " ".join(rng.choice(receipts.wordlist("es")) for _ in range(receipts.WORDS))


def _flood_requests(client: FlaskClient, rng: random.Random) -> list[tuple[str, Callable[[], Any]]]:
    """1,000 bad requests of every kind, shuffled."""
    token = csrf_token(client, "/es/my-stories")
    form_token = csrf_token(client, "/es/contribute")
    garbage = [
        "x",
        "hola",
        "1234 5678",
        "ábaco acción",
        "drop table; --",
        "z" * 399,
        "uno dos tres cuatro cinco",
        "zumo zumo zumo zumo zumo zumo zumo",
    ]
    make: dict[str, Callable[[], Any]] = {
        "wrong code": lambda: client.post(
            "/es/my-stories", data={"csrf_token": token, "code": _wrong_code(rng)}
        ),
        "garbage code": lambda: client.post(
            "/es/my-stories", data={"csrf_token": token, "code": rng.choice(garbage)}
        ),
        "sign-in without token": lambda: client.post("/es/my-stories", data={"code": _wrong_code(rng)}),
        "one-byte sign-in": lambda: client.post(
            "/es/my-stories", data=b"x", content_type="application/x-www-form-urlencoded"
        ),
        "contribution without token": lambda: contribute(client, "es", token=False),
        "one-byte contribution": lambda: client.post(
            "/es/contribute", data=b"x", content_type="application/x-www-form-urlencoded"
        ),
        "api bad body": lambda: rng.choice(
            [
                lambda: client.post(API, data=b"x", content_type="text/plain"),
                lambda: client.post(API, data={"body": "hola"}, content_type="multipart/form-data"),
                lambda: client.post(API, data=story_form(agree=None), content_type="multipart/form-data"),
                lambda: client.post(API, data=story_form(body=""), content_type="multipart/form-data"),
                lambda: client.post(
                    API,
                    data={"csrf_token": form_token, **story_form(consent_version="v0")},
                    content_type="multipart/form-data",
                ),
                lambda: client.post(
                    API,
                    input_stream=io.BytesIO(b"--B\r\n"),
                    headers={"Content-Type": "multipart/form-data; boundary=B", "Content-Length": "5"},
                ),
            ]
        )(),
    }
    requests = [(kind, make[kind]) for kind, count in FLOOD.items() for _ in range(count)]
    rng.shuffle(requests)
    assert len(requests) == 1000
    return requests


# The windows are fixed hours (``now // 3600``): a flood that crossed the hour would start a
# new window halfway and count twice as many. Time runs, from the start of a quiet hour.
@freeze_time(datetime.now(UTC).replace(minute=5, second=0, microsecond=0), tick=True)
def test_a_flood_of_bad_requests_cannot_lock_the_owner_out_T12(
    app: Flask, client: FlaskClient, hour_windows: None, scrypt_calls: Counter[str]
) -> None:
    """1,000 bad requests in one window; then the owner of a code signs in (solving the proof
    of work as the sign-in page's script does) and withdraws a story, and a new contribution is
    accepted through the form and through the partner API."""
    owner = app.test_client()
    code = receipt_code(contribute(owner, "en", title="Mine"))
    story = db.session.scalars(select(Story)).one()
    scrypt_calls.clear()

    statuses: dict[str, Counter[int]] = {kind: Counter() for kind in FLOOD}
    for kind, send in _flood_requests(client, random.Random(13)):
        statuses[kind][send().status_code] += 1

    # Nothing got in, nothing broke; the cheap refusals were never counted nor hashed.
    assert all(s in (400, 413, 415, 422, 429) for c in statuses.values() for s in c), statuses
    cap = HOUR_WINDOWS["receipt"][0].count
    assert statuses["wrong code"][422] == cap and statuses["wrong code"][429] == FLOOD["wrong code"] - cap
    assert scrypt_calls["scrypt"] <= 2 * cap  # a code that reads in both lists is hashed twice
    assert _counter("receipt/3600") == cap
    assert _counter("contribute/3600") == 1  # only the owner's story counted
    assert db.session.scalar(select(Story.id).where(Story.id != story.id)) is None

    # Without JavaScript, the owner is told to wait (429 with Retry-After); nothing is hashed.
    scrypt_calls.clear()
    token = csrf_token(owner, "/en/my-stories")
    refused = owner.post("/en/my-stories", data={"csrf_token": token, "code": code})
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert "Please wait a minute and try again" in refused.get_data(as_text=True)
    assert scrypt_calls["scrypt"] == 0

    # With it, the page's challenge is solved and the correct code is accepted mid-flood.
    page = owner.get("/en/my-stories").get_data(as_text=True)
    fields = solved_fields(page)
    assert fields, "the sign-in page under pressure carries a challenge"
    signed_in = owner.post(
        "/en/my-stories", data={"csrf_token": csrf_token(owner, "/en/my-stories"), "code": code, **fields}
    )
    assert signed_in.status_code == 303, signed_in.get_data(as_text=True)[:500]
    assert "Mine" in owner.get("/en/my-stories").get_data(as_text=True)

    # The flood goes on; the owner withdraws the story.
    for kind, send in _flood_requests(client, random.Random(14))[:100]:
        assert send().status_code in (400, 415, 422, 429), kind
    confirm = csrf_token(owner, f"/en/my-stories/{story.public_id}")
    withdrawn = owner.post(
        f"/en/my-stories/{story.public_id}/withdraw", data={"csrf_token": confirm, "confirm": "y"}
    )
    assert withdrawn.status_code == 303
    db.session.rollback()
    assert db.session.get(Story, story.id).status == StoryStatus.WITHDRAWN

    # A valid contribution is accepted, from the form and from the partner API.
    assert sent(contribute(app.test_client(), "es", title="Nueva"))
    api = app.test_client().post(API, data=story_form(title="Del taller"), content_type="multipart/form-data")
    assert api.status_code == 201, api.get_json()
    assert _counter("contribute/3600") == 3


def test_a_proof_is_spent_once_and_only_for_its_own_form_T12(app: Flask, client: FlaskClient) -> None:
    """Under pressure, a solved challenge admits one request: sent again it is refused, and a
    challenge of the sign-in page does not admit a contribution."""
    app.config["RATE_LIMITS"] = {"receipt": (Limit(0, 3600),), "contribute": (Limit(1, 3600),)}
    code = receipt_code(contribute(app.test_client(), "en"))  # the cap is reached: pressure

    page = client.get("/en/my-stories").get_data(as_text=True)
    fields = solved_fields(page)
    token = csrf_token(client, "/en/my-stories")
    wrong = client.post(
        "/en/my-stories", data={"csrf_token": token, "code": _wrong_code(random.Random(1)), **fields}
    )
    assert wrong.status_code == 422  # admitted, and the code is wrong
    again = client.post("/en/my-stories", data={"csrf_token": token, "code": code, **fields})
    assert again.status_code == 429  # the same proof, spent
    assert db.session.scalar(select(SpentChallenge.id)) is not None

    sign_in_proof = solved_fields(client.get("/en/my-stories").get_data(as_text=True))
    refused = contribute(client, "en", **sign_in_proof)
    assert refused.status_code == 429
    form_proof = solved_fields(client.get("/en/contribute").get_data(as_text=True))
    assert sent(contribute(client, "en", **form_proof))


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_flood_of_valid_contributions_asks_for_a_proof_not_a_wait_T12(
    app: Flask, client: FlaskClient, lang: str
) -> None:
    """Valid contributions count; past the cap the form and the API ask for a proof of work and
    accept the contribution that carries one. Without one: 429, Retry-After, text kept."""
    app.config["RATE_LIMITS"] = {"contribute": (Limit(3, 3600),)}
    for _ in range(3):
        assert client.post(API, data=story_form(), content_type="multipart/form-data").status_code == 201

    refused = contribute(client, lang, body="Lo que escribí con cuidado")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "Lo que escribí con cuidado" in html  # the text comes back, with a challenge
    challenge = challenge_on(html)
    assert challenge is not None
    accepted = contribute(client, lang, body="Lo que escribí con cuidado", **answer(challenge))
    assert sent(accepted)

    api = client.post(
        API, data=story_form(), headers={"Accept-Language": lang}, content_type="multipart/form-data"
    )
    body = api.get_json()
    assert api.status_code == 429 and body["error"] == "rate_limited" and body["kept"] is False
    assert int(api.headers["Retry-After"]) >= 1
    proof = answer(body["challenge"])
    again = client.post(
        API,
        data={**story_form(), **proof},
        headers={"Accept-Language": lang},
        content_type="multipart/form-data",
    )
    assert again.status_code == 201, again.get_json()
    replayed = client.post(API, data={**story_form(), **proof}, content_type="multipart/form-data")
    assert replayed.status_code == 429
    assert db.session.query(Story).count() == 5
