"""Two partner archives as they run for real (issue 19): each served by gunicorn with its own
database, media folder and index, each with its own ``nuevonorte worker`` process, talking HTTP
over loopback. A story published at A appears at B (page, search, collection); withdrawn at A, it
leaves every surface of B with the push; with A's worker stopped (no push), within a harvest;
with A down past the confirmation limit, B hides A's stories. And B's or A's process killed
(SIGKILL) at each step of a harvest or a notice: the next run converges, index bytes included.
On SQLite, and on PostgreSQL when the run has it."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from nuevonorte import create_app, search, stories
from nuevonorte.database import write_intent
from nuevonorte.extensions import db
from nuevonorte.jobs import worker
from nuevonorte.models import Partner, PartnerStory, Story, StoryStatus
from nuevonorte.models.base import utcnow
from nuevonorte.search import store
from tests.conftest import POSTGRES_URL
from tests.gunicorn_fixtures import free_port
from tests.index_bytes import files_holding
from tests.live_archive import CONFIRM_SECONDS, HARVEST_SECONDS, Side, get, prepared, wait_until
from tests.stopped_process import WORKER, stopped_at

MakeStory = Callable[..., Story]


def in_search(side: Side, word: str) -> bool:
    status, body = get(f"{side.url}/api/v1/search?q={word}")
    return status == 200 and any(h["source"] != "here" for h in json.loads(body)["hits"])


@pytest.fixture
def pair(
    app: Flask, app_config: dict[str, Any], second_database: str, tmp_path: Path
) -> Iterator[tuple[Side, Side, Flask]]:
    """A (the test's own database, ``app``) and B (a database of its own), both prepared."""
    a = Side(tmp_path / "a", app_config["database_url"], free_port())
    b = Side(tmp_path / "b", second_database, free_port())
    for key in ("media_dir", "index_dir", "ledger_path", "queue_path"):
        app.config[key.upper()] = a.settings[key]
    app.config["PUBLIC_URL"] = a.url
    search.rebuild()
    b_app = prepared(b, schema=bool(POSTGRES_URL))
    yield a, b, b_app
    with b_app.app_context():
        db.session.remove()
        db.engine.dispose()
    store.forget_searchers()


def change_at_a(change: Callable[[Story, None], None], story: Story) -> None:
    """A change at A made as the archive makes one: begun as a writer (other processes write too)."""
    db.session.rollback()
    with write_intent():
        change(story, None)
        db.session.commit()


def word_of(n: int) -> str:
    return (
        "zqlive"
        + "abcdefghij"[n % 10]
        + hashlib.sha1(str(time.time_ns()).encode())
        .hexdigest()[:6]
        .translate(str.maketrans("0123456789", "klmnopqrst"))
    )


@pytest.mark.timeout(300)
def test_two_archives_b_shows_a_follows_every_withdrawal_and_fails_closed_T13(
    pair: tuple[Side, Side, Flask], make_story: MakeStory
) -> None:
    a, b, b_app = pair
    words = [word_of(n) for n in range(3)]
    told = [
        make_story(StoryStatus.PUBLISHED, title=f"Relato {w}", body=f"Crucé la frontera con {w}.")
        for w in words
    ]
    with ExitStack() as running:
        running.enter_context(a.server())
        running.enter_context(b.server())
        a_worker = running.enter_context(a.worker())
        running.enter_context(b.worker())
        a.command("partners", "allow", b.url)
        assert "Archivo a" in b.command("partners", "add", a.url, "--yes")
        for w in words:
            wait_until(lambda w=w: in_search(b, w), f"{w} in B's search")
        with b_app.app_context(), write_intent():  # B's worker writes too: begin as a writer
            pids = {s.remote_id: s.public_id for s in db.session.scalars(select(PartnerStory))}
            partner = db.session.scalar(select(Partner))
            assert partner is not None and partner.subscribed
            from nuevonorte import collections as domain
            from nuevonorte.accounts import create_curator

            curator = create_curator("curadora@b.example", "correct horse battery staple")
            collection = domain.create(curator, title_es="Entre ciudades", title_en="Between cities")
            for story in db.session.scalars(select(PartnerStory)):
                domain.add_partner_story(collection, story, curator)
            domain.publish(collection, curator)
            db.session.commit()
            collection_url = f"{b.url}/en/collections/{collection.public_id}"
            db.session.remove()
        page = lambda n: f"{b.url}/es/from/{pids[told[n].public_id]}"  # noqa: E731
        assert all(get(page(n))[0] == 200 for n in range(3))
        assert all(w in get(collection_url)[1] for w in words)

        # 1. Withdrawn at A: gone from B's page, search and collection within the push.
        change_at_a(stories.withdraw, told[0])
        took = wait_until(lambda: get(page(0))[0] == 404, "the page gone with the push", 10)
        assert not in_search(b, words[0]) and words[0] not in get(collection_url)[1]
        assert "withdrawn at its origin" in get(collection_url)[1] and took < 10

        # 2. A's worker stopped (no push): gone within a harvest interval (plus the job's start).
        a_worker.send_signal(signal.SIGINT)
        a_worker.wait(timeout=20)
        change_at_a(stories.keep_private, told[1])
        wait_until(lambda: get(page(1))[0] == 404, "the page gone with the harvest", HARVEST_SECONDS + 10)
        assert not in_search(b, words[1])

        # 3. A down past the limit: B hides the story A can no longer confirm.
        assert get(page(2))[0] == 200 and in_search(b, words[2])
        running.close()  # A and B stop
        with ExitStack() as again:
            again.enter_context(b.server())
            again.enter_context(b.worker())
            wait_until(lambda: get(page(2))[0] == 404, "hidden once unconfirmed", CONFIRM_SECONDS + 15)
            assert not in_search(b, words[2])
            assert "cannot be shown right now" in get(collection_url)[1]
    with b_app.app_context():
        assert db.session.scalar(select(PartnerStory.remote_id)) == told[2].public_id  # kept, hidden
        assert not files_holding(Path(b.settings["index_dir"]), words[0])
        assert not files_holding(Path(b.settings["index_dir"]), words[1])
        db.session.remove()


@pytest.mark.parametrize(
    "point", ["partner.page_committed", "partner.notice_committed", "partner.notice_sent"]
)
def test_a_process_killed_at_any_step_of_a_harvest_or_notice_converges_T20(
    pair: tuple[Side, Side, Flask], make_story: MakeStory, point: str
) -> None:
    a, b, b_app = pair
    word = word_of(7)
    story = make_story(StoryStatus.PUBLISHED, title=f"Relato {word}", body=f"Con {word}.")
    index_b = Path(b.settings["index_dir"])
    with a.server(), b.server():
        a.command("partners", "allow", b.url)
        b.command("partners", "add", a.url, "--yes")
        if point == "partner.page_committed":
            _killed(stopped_at(WORKER, b.settings, point))  # the story kept, its index entry not
            with b_app.app_context():
                assert db.session.scalar(select(PartnerStory.id)) is not None
                db.session.remove()
            _due(b_app)
            worker.drain(b_app)  # B's next run: the entry written
            assert in_search(b, word)
            change_at_a(stories.withdraw, story)
            _due(b_app)
            _killed(stopped_at(WORKER, b.settings, point))  # the story deleted, its words still indexed
            _due(b_app)
            worker.drain(b_app)
        else:
            worker.drain(b_app)  # harvested and subscribed
            assert in_search(b, word)
            change_at_a(stories.withdraw, story)
            if point == "partner.notice_sent":
                _killed(stopped_at(WORKER, a.settings, point))  # B was told; A never wrote it down
                a_worker = create_app(a.settings)
                worker.drain(a_worker)  # A tells B again: B removes nothing more
                with a_worker.app_context():
                    db.engine.dispose()
                at_a = db.session.scalar(select(Partner).where(Partner.url == b.url))
                assert at_a is not None and at_a.pushed_seq > 0
            else:
                _killed(
                    stopped_at(
                        NOTICE, b.settings, point, env={"NN_NOTICE_FROM": a.url, "NN_ID": story.public_id}
                    )
                )
            worker.drain(b_app)  # the harvest the notice asked for reconciles the index
        assert not in_search(b, word)
        with b_app.app_context():
            assert db.session.scalar(select(PartnerStory.id)) is None
            db.session.remove()
        assert not files_holding(index_b, word)


#: B receiving a signed notice in a process of its own (what B's web worker does), for ``stopped_at``.
NOTICE = """
import json, os, time
from sqlalchemy import select
from nuevonorte import create_app
from nuevonorte.database import write_intent
from nuevonorte.extensions import db
from nuevonorte.models import Partner
from nuevonorte.partners import notices
app = create_app(json.loads(os.environ["NN_TEST_CONFIG"]))
with app.app_context():
    key = db.session.scalar(select(Partner.key_in))
body = json.dumps({"removed": [os.environ["NN_ID"]]}).encode()
stamp = str(int(time.time()))
headers = {notices.HEADER_FROM: os.environ["NN_NOTICE_FROM"], notices.HEADER_TIME: stamp,
           notices.HEADER_SIGNATURE: notices.signature(key, stamp, body)}
app.test_client().post("/api/v1/partners/notices", data=body, headers=headers,
                       content_type="application/json")
"""


def _killed(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL, then wait for the lease of the job it held to pass (``job_lease_seconds`` 2)."""
    proc.kill()
    proc.wait(timeout=10)
    time.sleep(2.5)


def _due(b_app: Flask) -> None:
    with b_app.app_context(), write_intent():
        for partner in db.session.scalars(select(Partner)):
            partner.last_attempt_at = utcnow().replace(year=2000)
        db.session.commit()
        db.session.remove()
