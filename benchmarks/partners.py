"""How long a withdrawal at archive A takes to leave archive B's search (issue 19), with A's push
and without it (B's harvest alone), p50/p95 over 20 withdrawals each.

Two archives on loopback as they run for real: each served by gunicorn (2 workers) with its own
SQLite database, media folder and index, and its own ``nuevonorte worker``. B harvests A every
``BENCH_HARVEST_SECONDS`` (default 10; the archive's default is 300). For each story: withdrawn at
A through the domain layer, then B's ``/api/v1/search`` is asked every 20 ms until no hit of A's
story is left. Without the push, A's worker is stopped first (its notices are never sent).
Without the push each withdrawal comes after a random pause (0 to one interval), so that it
falls anywhere between two harvests. Targets: under 5 s with the push, under one harvest interval
without.
Run: ``.venv/bin/python benchmarks/partners.py``.
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from nuevonorte import create_app, search, stories  # noqa: E402
from nuevonorte.database import write_intent  # noqa: E402
from nuevonorte.extensions import db  # noqa: E402
from nuevonorte.models import Story  # noqa: E402
from tests.gunicorn_fixtures import free_port  # noqa: E402
from tests.live_archive import Side  # noqa: E402
from tests.partner_fixtures import published  # noqa: E402
from tests.test_partners_live import in_search  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "20"))
HARVEST = int(os.environ.get("BENCH_HARVEST_SECONDS", "10"))


def word(n: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return "zqbench" + "".join(letters[(n // 26**i) % 26] for i in range(3))


def publish(app_a: object, words: list[str]) -> list[str]:
    with app_a.app_context():  # type: ignore[attr-defined]
        ids = [published(w).public_id for w in words]
        db.session.remove()
    return ids


def withdraw(app_a: object, public_id: str) -> None:
    with app_a.app_context(), write_intent():  # type: ignore[attr-defined]
        story = db.session.scalar(select(Story).where(Story.public_id == public_id))
        assert story is not None
        stories.withdraw(story)
        db.session.commit()
        db.session.remove()


def rounds(app_a: object, b: Side, ids: list[str], words: list[str], spread: float = 0.0) -> list[float]:
    """Seconds from each withdrawal to its last hit at B. ``spread``: a random pause of up to that
    many seconds before each one, so that withdrawals fall anywhere between two harvests (one
    made right after the last removal would always wait a whole interval)."""
    taken = []
    chance = random.Random(19)
    for public_id, w in zip(ids, words, strict=True):
        assert in_search(b, w), f"{w} is not in B's search before its withdrawal"
        time.sleep(chance.uniform(0, spread))
        start = time.monotonic()
        withdraw(app_a, public_id)
        while in_search(b, w):
            time.sleep(0.02)
        taken.append(time.monotonic() - start)
    return taken


def wait_all(b: Side, words: list[str], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not all(in_search(b, w) for w in words):
        assert time.monotonic() < deadline, "B did not harvest A's stories in time"
        time.sleep(0.2)


def report(name: str, taken: list[float]) -> None:
    ordered = sorted(taken)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    print(f"{name:<34} p50 {statistics.median(taken):6.2f} s   p95 {p95:6.2f} s   max {ordered[-1]:6.2f} s")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sides = {}
        apps = {}
        for name in ("a", "b"):
            url = f"sqlite:///{folder / name / 'archive.sqlite3'}"
            (folder / name).mkdir()
            sides[name] = Side(
                folder / name,
                url,
                free_port(),
                partner_harvest_seconds=HARVEST,
                partner_confirm_seconds=7 * 24 * 3600,
                job_lease_seconds=60,
            )
            apps[name] = create_app(sides[name].settings)
            with apps[name].app_context():
                db.create_all()
                search.rebuild()
                db.session.remove()
        a, b = sides["a"], sides["b"]
        first = [word(n) for n in range(ROUNDS)]
        second = [word(n) for n in range(ROUNDS, 2 * ROUNDS)]
        first_ids = publish(apps["a"], first)
        with ExitStack() as running:
            running.enter_context(a.server())
            running.enter_context(b.server())
            a_worker = running.enter_context(a.worker())
            running.enter_context(b.worker())
            a.command("partners", "allow", b.url)
            b.command("partners", "add", a.url, "--yes")
            wait_all(b, first, 60)
            with_push = rounds(apps["a"], b, first_ids, first)
            a_worker.send_signal(signal.SIGINT)
            a_worker.wait(timeout=30)
            second_ids = publish(apps["a"], second)
            wait_all(b, second, 3 * HARVEST + 30)
            without_push = rounds(apps["a"], b, second_ids, second, spread=HARVEST)
        print(f"{ROUNDS} withdrawals each; B harvests A every {HARVEST} s; two gunicorn archives on loopback")
        report("withdrawal -> gone, with the push", with_push)
        report("withdrawal -> gone, harvest only", without_push)


if __name__ == "__main__":
    main()
