"""Rate limits for the contribution endpoints that never look at who is asking.

Why global counters and not per-address buckets: an address — even hashed with a daily key —
is what an adversary who seizes the server wants, and IPv4 hashes are cheap to reverse for
anyone who also gets the key. So we count requests per kind and time window for everyone
together, in the database (shared by every gunicorn worker), and refuse with 429 once a cap
is reached. The caps are generous for a workshop's real traffic and stop floods; the cost is
that a flood also delays honest people for at most the window's length.

Counters are written on their own connection and committed at once, so a submission that
fails and rolls back still counts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import case, delete, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from nuevonorte.extensions import db
from nuevonorte.models import RateWindow


@dataclass(frozen=True)
class Limit:
    """At most ``count`` requests per ``seconds`` for one kind of request."""

    count: int
    seconds: int


#: Defaults; each can be overridden by Flask config ``RATE_LIMITS`` (used by tests).
DEFAULT_LIMITS: dict[str, tuple[Limit, ...]] = {
    "contribute": (Limit(30, 60), Limit(2000, 86_400)),
    "receipt": (Limit(60, 60), Limit(5000, 86_400)),
}


class RateLimited(Exception):
    """Too many requests of one kind; ``retry_after`` seconds until the window ends."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


def hit(kind: str, now: float | None = None) -> None:
    """Count one request of ``kind``; raise RateLimited if a cap is exceeded."""
    limits = current_app.config.get("RATE_LIMITS", DEFAULT_LIMITS).get(kind, ())
    now = time.time() if now is None else now
    for limit in limits:
        window = int(now // limit.seconds)
        name = f"{kind}/{limit.seconds}"
        count = _increment(name, window)
        if count > limit.count:
            raise RateLimited(max(1, int((window + 1) * limit.seconds - now)))


def reserve(name: str, amount: int, cap: int, seconds: int, now: float | None = None) -> None:
    """Add ``amount`` to this window's shared total of ``name``, or raise RateLimited if the
    total would pass ``cap`` (then nothing is added: a refused request does not use up the cap)."""
    now = time.time() if now is None else now
    window = int(now // seconds)
    retry_after = max(1, int((window + 1) * seconds - now))
    if amount > cap:
        raise RateLimited(retry_after)
    name = f"{name}/{seconds}"
    dialect = db.engine.dialect.name
    upsert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(RateWindow)
    statement = (
        upsert.values(name=name, window=window, count=amount)
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


def _increment(name: str, window: int) -> int:
    """Add one to a window's counter atomically (an upsert both databases support)."""
    dialect = db.engine.dialect.name
    upsert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(RateWindow)
    statement = (
        upsert.values(name=name, window=window, count=1)
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
