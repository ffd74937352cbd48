"""Proof-of-work challenges (decision 0008): only a real answer to an unexpired, unchanged
challenge of the same kind admits a request, once; spent ids are forgotten when they die."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import func, select

from nuevonorte import admission, proof_of_work, ratelimit
from nuevonorte.extensions import db
from nuevonorte.models import RateWindow, SpentChallenge
from nuevonorte.models.base import utcnow
from tests.proof_client import solve


def _spent() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(SpentChallenge)) or 0


def _solved(kind: str = "receipt") -> tuple[proof_of_work.Challenge, str]:
    challenge = proof_of_work.issue(kind)
    return challenge, solve(challenge.salt, challenge.target, challenge.work)


def test_an_answer_admits_one_request_and_nothing_about_the_visitor_is_kept(app: Flask) -> None:
    challenge, answer = _solved()
    assert _spent() == 0  # issuing writes nothing
    assert proof_of_work.redeem("receipt", challenge.token, answer)
    assert not proof_of_work.redeem("receipt", challenge.token, answer)  # a replay
    db.session.rollback()
    row = db.session.scalars(select(SpentChallenge)).one()
    assert row.id == challenge.salt and row.expires % 60 == 0  # a random id and a whole minute


@pytest.mark.parametrize(
    "change",
    [
        "wrong answer",
        "answer with letters",
        "answer past the bound",
        "other kind",
        "changed token",
        "other key",
    ],
)
def test_anything_but_the_real_answer_to_the_real_challenge_is_refused(app: Flask, change: str) -> None:
    challenge, answer = _solved()
    token, kind = challenge.token, "receipt"
    if change == "wrong answer":
        answer = str((int(answer) + 1) % challenge.work)
    elif change == "answer with letters":
        answer = answer + "a"
    elif change == "answer past the bound":
        answer = str(challenge.work + int(answer))
    elif change == "other kind":
        kind = "contribute"
    elif change == "changed token":
        token = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    elif change == "other key":
        app.secret_key = "another-secret-key-that-is-long-enough-0123456789"
    assert not proof_of_work.redeem(kind, token, answer)
    assert _spent() == 0


def test_a_challenge_dies_after_its_lifetime_and_its_id_is_then_forgotten(app: Flask) -> None:
    start = utcnow()
    with freeze_time(start) as clock:
        old, old_answer = _solved()
        spent, spent_answer = _solved()
        assert proof_of_work.redeem("receipt", spent.token, spent_answer)
        clock.tick(timedelta(seconds=proof_of_work.LIFETIME + 1))
        assert not proof_of_work.redeem("receipt", old.token, old_answer)  # expired
        assert _spent() == 1
        clock.tick(timedelta(seconds=61))
        app.config["RATE_LIMITS"] = {"receipt": (ratelimit.Limit(5, 60),)}
        with app.test_request_context("/es/my-stories", method="POST"):
            assert admission.find_contributor("ábaco acción ácido acné aéreo zumo") is None
        assert _spent() == 0  # the new counting window forgot the dead id


def test_pressure_starts_at_the_cap_and_ends_with_the_window(app: Flask) -> None:
    app.config["RATE_LIMITS"] = {"receipt": (ratelimit.Limit(2, 60), ratelimit.Limit(100, 86_400))}
    now = 1_000_000 * 60.0 + 10
    assert ratelimit.pressure("receipt", now) is None
    ratelimit.count("receipt", now)
    assert ratelimit.pressure("receipt", now) is None
    ratelimit.count("receipt", now + 1)
    assert ratelimit.pressure("receipt", now + 2) == 48  # until the minute ends
    assert ratelimit.pressure("receipt", now + 60) is None  # a new minute
    rows = db.session.scalars(select(RateWindow.name).order_by(RateWindow.name)).all()
    assert rows == ["receipt/60", "receipt/86400"]  # counts only, no key of anyone
