"""Proofs of work: what a request carries when its kind is under pressure (decision 0008).

A challenge is a random salt and the SHA-256 of ``salt + str(n)`` for a secret number ``n``
drawn below ``work``. The visitor's browser (``static/proof.js``) finds ``n`` by trying 0, 1,
2, … — on average ``work / 2`` hashes, never more than ``work``, so the wait is bounded (a
leading-zero-bits puzzle has no bound: one person in a hundred would wait 4.6 times the mean).
Checking an answer costs the server one hash.

The challenge travels as a token signed with the application's secret key (itsdangerous), with
its time: it cannot be forged, changed or used after ``LIFETIME``, nor for another kind of
request. A solved challenge admits one request: its id is kept in ``spent_challenge`` until it
expires and a second use is refused. Nothing about the visitor is in a challenge or kept.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from nuevonorte.extensions import db
from nuevonorte.models import SpentChallenge

#: Numbers to try at most (half of them on average). benchmarks/proof_of_work.py measured, in
#: Chromium with the CPU slowed six times to stand for a cheap phone, 68,000 hashes/s: at most
#: 2.9 s of hashing, 1.5 s on average (2.3 s from opening the page, page load included).
DEFAULT_WORK = 200_000
#: How long a challenge can be used after it was issued, in seconds.
LIFETIME = 30 * 60
#: The form fields (and API multipart fields) that carry a solved challenge.
TOKEN_FIELD = "pow_challenge"  # noqa: S105 (a field name, not a secret)
ANSWER_FIELD = "pow_nonce"

_SIGNING_SALT = "nuevonorte/proof-of-work/v1"
_ANSWER = re.compile(r"[0-9]{1,10}")
_SALT = re.compile(r"[0-9a-f]{24}")


@dataclass(frozen=True)
class Challenge:
    """A challenge to solve: find ``n < work`` with SHA-256(``salt`` + str(n)) == ``target``."""

    token: str
    salt: str
    target: str
    work: int

    def as_json(self) -> dict[str, Any]:
        """The challenge for the partner API's answers."""
        return {"token": self.token, "salt": self.salt, "target": self.target, "work": self.work}


def issue(kind: str) -> Challenge:
    """A fresh challenge for a request of ``kind``; nothing is stored until it is spent."""
    work = int(current_app.config.get("PROOF_OF_WORK", DEFAULT_WORK))
    salt = secrets.token_hex(12)
    target = _digest(salt, str(secrets.randbelow(work)))
    token = _serializer().dumps([kind, salt, target, work])
    return Challenge(token=token, salt=salt, target=target, work=work)


def redeem(kind: str, token: str, answer: str) -> bool:
    """Whether ``answer`` solves ``token``'s challenge, issued for ``kind`` less than
    ``LIFETIME`` ago and never spent before; if so it is spent now (committed at once)."""
    if not _ANSWER.fullmatch(answer) or len(token) > 400:
        return False
    try:
        payload, issued = _serializer().loads(token, max_age=LIFETIME, return_timestamp=True)
    except BadSignature:
        return False
    if not _well_formed(payload) or payload[0] != kind:
        return False
    _kind, salt, target, work = payload
    if int(answer) >= work or not secrets.compare_digest(_digest(salt, answer), target):
        return False
    # Kept until the whole minute after the challenge dies, then forgotten.
    expires = 60 * math.ceil((issued.timestamp() + LIFETIME) / 60)
    return _spend(salt, expires)


def redeem_request(kind: str) -> bool:
    """Whether this request's form carries a solved, unspent challenge for ``kind`` (spent now)."""
    token, answer = request.form.get(TOKEN_FIELD, ""), request.form.get(ANSWER_FIELD, "")
    return bool(token and answer) and redeem(kind, token, answer)


def forget_expired(now: float | None = None) -> None:
    """Delete the ids of spent challenges that can no longer be used anyway."""
    now = time.time() if now is None else now
    with db.engine.begin() as conn:
        conn.execute(delete(SpentChallenge).where(SpentChallenge.expires < now))


def _spend(salt: str, expires: int) -> bool:
    """Record ``salt`` as spent; False if it already was (a replay)."""
    dialect = db.engine.dialect.name
    insert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(SpentChallenge)
    statement = (
        insert.values(id=salt, expires=expires)
        .on_conflict_do_nothing(index_elements=[SpentChallenge.id])
        .returning(SpentChallenge.id)
    )
    with db.engine.begin() as conn:
        spent = conn.execute(statement).scalar_one_or_none() is not None
        conn.execute(delete(SpentChallenge).where(SpentChallenge.expires < time.time()))
    return spent


def _digest(salt: str, answer: str) -> str:
    return hashlib.sha256(f"{salt}{answer}".encode("ascii")).hexdigest()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=_SIGNING_SALT)


def _well_formed(payload: Any) -> bool:
    return (
        isinstance(payload, list)
        and len(payload) == 4
        and all(isinstance(v, str) for v in payload[:3])
        and bool(_SALT.fullmatch(payload[1]))
        and isinstance(payload[3], int)
        and payload[3] > 0
    )
