"""One archive served by two machines (issue 21, decisions 0026 and 0027): two gunicorn servers on
loopback, each with its own index folder and its own ``nuevonorte worker``, over one database
(PostgreSQL when the run has it), one S3-compatible bucket (``rclone serve s3``) and one Redis
queue. Published through A, a story is found through B's search within two seconds; withdrawn
through B, it is gone from A's search and media at once, its objects' bytes gone from the storage
service, and from A's index files when A's worker follows; a process of B killed (SIGKILL) between
its commit and its index write leaves A right, and B catches up when it starts again."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from nuevonorte import create_app, search, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.database import write_intent
from nuevonorte.extensions import db
from nuevonorte.models import MediaFile, Story
from nuevonorte.search import follow, store
from tests.gunicorn_fixtures import free_port
from tests.index_bytes import files_holding
from tests.live_archive import Side, get, wait_until
from tests.public.media_factory import add_image
from tests.s3_server import S3Server
from tests.stopped_process import stopped_at

MakeStory = Callable[..., Story]
#: The issue's bound for a change to reach the other machine's search.
REACH_SECONDS = 2.0


def found_at(side: Side, word: str) -> set[str]:
    status, body = get(f"{side.url}/api/v1/search?q={word}")
    assert status == 200, body
    return {hit["id"] for hit in json.loads(body)["hits"]}


@pytest.fixture
def machines(
    app_config: dict[str, Any],
    tmp_path: Path,
    redis_url: str,
    s3_server: S3Server,
    request: pytest.FixtureRequest,
) -> Iterator[tuple[Side, Side, Flask, str]]:
    """Machines A (this test's ``app`` writes as A) and B (``b_app`` writes as B), both indexed;
    and the media bucket they share."""
    bucket = s3_server.bucket()
    app_config.update(s3_server.settings(bucket))
    app: Flask = request.getfixturevalue("app")
    # What the machines share: the database, the media bucket, the withdrawal ledger and the
    # queue (Redis). Each has its own index folder and its own media_dir for temporary files.
    shared = {**s3_server.settings(bucket), "ledger_path": app.config["LEDGER_PATH"], "queue_url": redis_url}
    a = Side(tmp_path / "a", app_config["database_url"], free_port(), **shared)
    b = Side(tmp_path / "b", app_config["database_url"], free_port(), **shared)
    for key in ("index_dir", "queue_url"):
        app.config[key.upper()] = a.settings[key]
    search.rebuild()
    b_app = create_app(b.settings)
    with b_app.app_context():
        search.rebuild()
        db.session.remove()
    store.forget_searchers()
    yield a, b, b_app, bucket
    with b_app.app_context():
        db.session.remove()
        db.engine.dispose()
    store.forget_searchers()


def thumbnail_status(side: Side, media: MediaFile) -> int:
    """What ``side`` answers for the photo's thumbnail (its bytes are not text)."""
    try:
        with urllib.request.urlopen(f"{side.url}/media/{media.public_id}/thumbnail", timeout=10) as answer:
            assert answer.read()[:2] == b"\xff\xd8"  # a JPEG
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@pytest.mark.timeout(300)
def test_two_machines_stay_right_through_publish_withdraw_and_a_kill_T21(
    machines: tuple[Side, Side, Flask, str], s3_server: S3Server, make_story: MakeStory
) -> None:
    a, b, b_app, bucket = machines
    with ExitStack() as running:
        running.enter_context(a.server())
        running.enter_context(b.server())
        running.enter_context(a.worker())
        b_worker = running.enter_context(b.worker())

        # 1. Published through A: in B's search within two seconds. B's web workers have answered
        # before (each brings its index up to the log at its first request), so what brings
        # the story to B is B's worker following the log.
        for _ in range(20):
            assert found_at(b, "zqmachinea") == set()
        # Untimed: the workers have started (a story published and seen through B).
        db.session.rollback()
        with write_intent():
            first = make_story(body="Llegamos de noche zqwarmup.")
        wait_until(lambda: first.public_id in found_at(b, "zqwarmup"), "B's worker started", 60)
        db.session.rollback()
        with write_intent():
            choices = ConsentChoices(credit_name="Rosa", photos_public=True)
            story = make_story(body="Crucé el río con mi tío zqmachinea.", choices=choices)
            media = add_image(story)
            db.session.commit()
        committed = time.monotonic()
        wait_until(lambda: story.public_id in found_at(b, "zqmachinea"), "found through B", 10)
        reached = time.monotonic() - committed
        assert reached < REACH_SECONDS, f"B found it after {reached:.2f} s"
        assert thumbnail_status(b, media) == 200
        assert set(s3_server.files(bucket)) == set(media.storage_keys())

        # 2. Withdrawn through B: gone from A's search and media at once (both re-check the
        # database as they answer), and from A's index files once A's worker follows.
        with b_app.app_context(), write_intent():
            mine = db.session.get(Story, story.id)
            assert mine is not None
            stories.withdraw(mine)
            db.session.commit()
            db.session.remove()
        assert found_at(a, "zqmachinea") == set()
        assert thumbnail_status(a, media) == 404
        assert s3_server.files(bucket) == {}  # the bytes are gone from the storage service
        assert found_at(b, "zqmachinea") == set()
        wait_until(lambda: not files_holding(Path(a.settings["index_dir"]), "zqmachinea"), "A's files", 10)
        assert files_holding(Path(b.settings["index_dir"]), "zqmachinea") == []

        # 3. B stopped; a process of B killed between its commit and its index write.
        b_worker.terminate()
        b_worker.wait(timeout=20)
        publish = """
import json, os
from nuevonorte import create_app, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.database import write_intent
from nuevonorte.extensions import db
from nuevonorte.models import Visibility
app = create_app(json.loads(os.environ["NN_TEST_CONFIG"]))
with app.app_context(), write_intent():
    choices = ConsentChoices(credit_name="Ana", visibility=Visibility.PUBLIC)
    s = stories.submit(None, body="Volví a Zacatecas zqmachineb.", title="T", language="es",
                       choices=choices, consent_language="es")
    stories.publish(s, None)
    db.session.commit()
"""
        proc = stopped_at(publish, b.settings, "commit.before_index")
        proc.kill()
        proc.wait()
        # A is right: its worker numbers what B left and applies it.
        wait_until(lambda: len(found_at(a, "zqmachineb")) == 1, "A finds what B committed", 10)
        with b_app.app_context():
            assert follow.behind() >= 1  # B's own index has not seen it
        # B starts again: its worker brings its index up to the log.
        running.enter_context(b.worker())
        wait_until(lambda: len(found_at(b, "zqmachineb")) == 1, "B caught up", 10)
        with b_app.app_context():
            assert follow.behind() == 0
