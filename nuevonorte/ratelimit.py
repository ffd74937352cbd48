"""Global counters of requests per kind and time window, that never look at who is asking.

Why global counters and not per-address buckets: an address — even hashed with a daily key —
is what an adversary who seizes the server wants, and IPv4 hashes are cheap to reverse for
anyone who also gets the key. So we count requests per kind and time window for everyone
together, in the database (shared by every gunicorn worker).

A global counter that refuses everyone once it is full lets anyone lock everyone out: 61 wrong
receipt codes in a minute made the owner's correct code answer 429. So a full counter never
refuses by itself. What is counted, and what a full counter asks of a request, is decided by
``nuevonorte.admission`` (docs/decisions/0008):

- only requests that passed the cheap checks are counted (wrong but well-formed receipt
  codes, valid contributions); a missing CSRF token, a malformed form or a code whose words
  are not code words is refused without being counted, so junk cannot fill a counter;
- when a counter of a kind is full, the kind is "under pressure" (``pressure``), and each
  request of it must carry a solved proof of work (``nuevonorte.proof_of_work``), which a
  person's browser solves in a few seconds; without one it gets 429 and ``Retry-After``.

Counters are written on their own connection and committed at once, so a request that fails
and rolls back still counts. ``reserve`` and ``release`` keep the archive's daily byte quota
(``nuevonorte.quota``) in the same table.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import case, delete, select, tuple_, update

from nuevonorte.database import reading, upsert
from nuevonorte.extensions import db
from nuevonorte.models import RateWindow


@dataclass(frozen=True)
class Limit:
    """At most ``count`` counted requests per ``seconds`` before a kind is under pressure."""

    count: int
    seconds: int


#: Defaults; each can be overridden by Flask config ``RATE_LIMITS`` (used by tests).
#: "contribute": valid contributions (form and API); "receipt": wrong, well-formed codes.
DEFAULT_LIMITS: dict[str, tuple[Limit, ...]] = {
    "contribute": (Limit(30, 60), Limit(2000, 86_400)),
    "receipt": (Limit(60, 60), Limit(5000, 86_400)),
}


class RateLimited(Exception):
    """Too many requests of one kind; ``retry_after`` seconds until the window ends."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


def pressure(kind: str, now: float | None = None) -> int | None:
    """If a counter of ``kind`` is full in its current window, the seconds until the last full
    window ends (for ``Retry-After``); None when every counter has room. Only reads."""
    now = time.time() if now is None else now
    windows = {f"{kind}/{limit.seconds}": (int(now // limit.seconds), limit) for limit in _limits(kind)}
    if not windows:
        return None
    keys = [(name, window) for name, (window, _limit) in windows.items()]
    with reading(), db.engine.connect() as conn:  # a reader: never waits for SQLite's write lock
        rows = conn.execute(
            select(RateWindow.name, RateWindow.count).where(
                tuple_(RateWindow.name, RateWindow.window).in_(keys)
            )
        ).all()
    counts = {name: count for name, count in rows}
    full = [
        _retry_after(window, limit.seconds, now)
        for name, (window, limit) in windows.items()
        if counts.get(name, 0) >= limit.count
    ]
    return max(full) if full else None


def count(kind: str, now: float | None = None) -> bool:
    """Count one request of ``kind`` in each of its windows (never refuses). True when this
    opened a new window, a moment to forget what expired."""
    now = time.time() if now is None else now
    opened = False
    for limit in _limits(kind):
        opened |= _increment(f"{kind}/{limit.seconds}", int(now // limit.seconds)) == 1
    return opened


def reserve(name: str, amount: int, cap: int, seconds: int, now: float | None = None) -> None:
    """Add ``amount`` to this window's shared total of ``name``, or raise RateLimited if the
    total would pass ``cap`` (then nothing is added: a refused request does not use up the cap)."""
    now = time.time() if now is None else now
    window = int(now // seconds)
    retry_after = _retry_after(window, seconds, now)
    if amount > cap:
        raise RateLimited(retry_after)
    name = f"{name}/{seconds}"
    insert = upsert(RateWindow, db.engine.dialect.name)
    statement = (
        insert.values(name=name, window=window, count=amount)
        .on_conflict_do_update(
            index_elements=[RateWindow.name, RateWindow.window],
            set_={"count": RateWindow.count + amount},
            where=RateWindow.count + amount <= cap,
        )
        .returning(RateWindow.count)
    )
    with db.engine.begin() as conn:
        total = conn.execute(statement).scalar_one_or_none()
        if total == amount:  # possibly a new window: forget the old ones of this name
            conn.execute(delete(RateWindow).where(RateWindow.name == name, RateWindow.window < window))
    if total is None:
        raise RateLimited(retry_after)


def release(name: str, amount: int, seconds: int, now: float) -> None:
    """Give back ``amount`` reserved at ``now`` (the upload it was for was refused)."""
    name, window = f"{name}/{seconds}", int(now // seconds)
    left = case((RateWindow.count > amount, RateWindow.count - amount), else_=0)
    with db.engine.begin() as conn:
        conn.execute(
            update(RateWindow).where(RateWindow.name == name, RateWindow.window == window).values(count=left)
        )


def _limits(kind: str) -> tuple[Limit, ...]:
    limits: tuple[Limit, ...] = current_app.config.get("RATE_LIMITS", DEFAULT_LIMITS).get(kind, ())
    return limits


def _retry_after(window: int, seconds: int, now: float) -> int:
    return max(1, int((window + 1) * seconds - now))


def _increment(name: str, window: int) -> int:
    """Add one to a window's counter atomically (an upsert both databases support)."""
    insert = upsert(RateWindow, db.engine.dialect.name)
    statement = (
        insert.values(name=name, window=window, count=1)
        .on_conflict_do_update(
            index_elements=[RateWindow.name, RateWindow.window],
            set_={"count": RateWindow.count + 1},
        )
        .returning(RateWindow.count)
    )
    with db.engine.begin() as conn:
        count = int(conn.execute(statement).scalar_one())
        if count == 1:  # a new window: forget the old ones of this name
            conn.execute(delete(RateWindow).where(RateWindow.name == name, RateWindow.window < window))
    return count
