"""Who gets in when many requests arrive at once, without knowing who anyone is (decision 0008).

The rule, in one place, for the receipt-code sign-in and for contributions (form and API):

1. A request that fails the cheap checks — CSRF token and form fields (checked by the view
   before it calls here), a code whose words are not code words (checked here) — is refused:
   never counted, never hashed.
2. What passes them is counted globally (``nuevonorte.ratelimit``): for sign-in, each wrong
   code (each costs a slow scrypt); for contributions, each valid one.
3. While a count is over its cap, the kind is under pressure and a request of it must carry a
   solved proof of work (``nuevonorte.proof_of_work``); a person's browser solves the page's
   challenge in a few seconds, so the owner of a code, or someone with a story, still gets in
   during a flood. Without one (no JavaScript, or an old page) the answer is ``Busy``: 429 with
   ``Retry-After`` and a fresh challenge; nothing is hashed.
"""

from __future__ import annotations

from flask import Flask

from nuevonorte import proof_of_work, ratelimit, receipts
from nuevonorte.extensions import db
from nuevonorte.models import Contributor
from nuevonorte.proof_of_work import Challenge

RECEIPT = "receipt"
CONTRIBUTE = "contribute"


class Busy(ratelimit.RateLimited):
    """Under pressure and without a solved challenge; ``challenge`` is a fresh one to solve."""

    def __init__(self, retry_after: int, challenge: Challenge) -> None:
        super().__init__(retry_after)
        self.challenge = challenge


def find_contributor(code: str) -> Contributor | None:
    """The contributor whose receipt code was typed, or None.

    A code that is not six code words is None at once (not counted, not hashed). Under
    pressure, raises Busy unless the request carries a solved challenge. A wrong code is counted.
    """
    if not receipts.well_formed(code):
        return None
    _require_proof_under_pressure(RECEIPT)
    contributor = receipts.find_contributor(code)
    if contributor is None:
        _count(RECEIPT)
    return contributor


def admit_contribution() -> None:
    """Count a contribution that passed validation; under pressure it needs a solved challenge
    (else Busy, and it is not counted). Call it before the request's session writes anything:
    it ends the session's read transaction."""
    _require_proof_under_pressure(CONTRIBUTE)
    _count(CONTRIBUTE)


def challenge(kind: str) -> Challenge | None:
    """A challenge for a form of ``kind`` when its kind is under pressure; else None (the page
    asks the browser for nothing)."""
    return proof_of_work.issue(kind) if ratelimit.pressure(kind) is not None else None


def init_app(app: Flask) -> None:
    """Let templates ask for a challenge: ``proof_challenge("receipt")``."""
    app.add_template_global(challenge, "proof_challenge")


def _require_proof_under_pressure(kind: str) -> None:
    _end_read_transaction()
    retry_after = ratelimit.pressure(kind)
    if retry_after is not None and not proof_of_work.redeem_request(kind):
        raise Busy(retry_after, proof_of_work.issue(kind))


def _count(kind: str) -> None:
    _end_read_transaction()
    if ratelimit.count(kind):  # a new window: a moment to forget spent challenges that expired
        proof_of_work.forget_expired()


def _end_read_transaction() -> None:
    """Nothing was written yet in this request's session: end its read transaction, so that the
    counters and spent challenges (their own connection) do not wait for its SQLite write lock."""
    db.session.rollback()
