"""One long upload never blocks other writers (issue 11 item 5; docs/security.md T12).

A real gunicorn with two workers. One worker takes a contribution with a photo and is held at
the end of media processing (a test-only fault point stops it with SIGSTOP: an ingest as long
as the test wants). Meanwhile the other worker must answer a text contribution through the
form and through the API, a receipt sign-in, a withdrawal and a curator's publish, none of them
waiting for the held one. Before the fix the held worker kept SQLite's write lock (BEGIN
IMMEDIATE) for the whole ingest, and every one of those waited for the busy timeout (10 s) and
then failed; on PostgreSQL they would wait for the held upload itself. How fast they answer is
for benchmarks: "blocked" here means half the busy timeout or more, which no answer takes on a
loaded two-core machine (the slowest seen was 1.2 s with four test processes beside it). Then
the held upload is let go and completes. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from nuevonorte.accounts import create_curator
from nuevonorte.extensions import db
from nuevonorte.models import Role, Story, StoryStatus
from tests.contribute_fixtures import story_form
from tests.test_crash_recovery import Browser, Server, committed, photo, send_in_background

PASSWORD = "correct horse battery staple"
#: An answer this slow waited for the held upload's lock: half of SQLite's busy timeout (10 s).
BLOCKED = 5.0


def timed(call: Any) -> tuple[float, int]:
    start = time.monotonic()
    status, _body = call()
    return time.monotonic() - start, status


@pytest.mark.timeout(300)
def test_a_held_ingest_does_not_block_other_writers_T12(
    app: Flask, app_config: dict[str, Any], tmp_path: Path
) -> None:
    """Text contributions (form, API), a receipt sign-in, a withdrawal and a publish: none waits."""
    create_curator("curator@example.org", PASSWORD, Role.CURATOR)
    to_publish = committed().story
    to_withdraw = committed(photo(1))
    db.session.commit()
    server = Server(app_config, tmp_path, fault="ingest.cleaned=stop", workers=2)
    try:
        curator, narrator = Browser(server), Browser(server)
        status, _ = curator.post("/curate/sign-in", {"email": "curator@example.org", "password": PASSWORD})
        assert status == 200
        uploader = Browser(server)
        answers = send_in_background(uploader, "/api/v1/contributions", story_form(photos=photo(2)))
        held = server.stopped_worker(answers)

        timings = {
            "form text contribution": timed(lambda: Browser(server).post("/es/contribute", story_form())),
            "API text contribution": timed(
                lambda: Browser(server).post("/api/v1/contributions", story_form())
            ),
            "receipt sign-in": timed(lambda: narrator.post("/es/my-stories", {"code": to_withdraw.code})),
            "withdrawal": timed(
                lambda: narrator.post(
                    f"/es/my-stories/{to_withdraw.story.public_id}/withdraw", {"confirm": "y"}
                )
            ),
            "publish": timed(
                lambda: curator.post(
                    f"/curate/stories/{to_publish.public_id}/publish", {"revision": str(to_publish.revision)}
                )
            ),
        }
        os.kill(held, signal.SIGCONT)
        deadline = time.monotonic() + 120
        while not answers:
            assert time.monotonic() < deadline, "the held upload never finished"
            time.sleep(0.1)
    finally:
        server.stop()
    assert answers[0][0] == 201, answers
    statuses = {name: status for name, (_seconds, status) in timings.items()}
    assert statuses == {
        "form text contribution": 200,  # the receipt page, after the redirect (post/redirect/get)
        "API text contribution": 201,
        "receipt sign-in": 200,
        "withdrawal": 200,
        "publish": 200,
    }
    slow = {name: round(seconds, 2) for name, (seconds, _status) in timings.items() if seconds >= BLOCKED}
    assert slow == {}, f"blocked behind the held upload: {slow}"
    db.session.rollback()
    assert db.session.get(Story, to_publish.id).status == StoryStatus.PUBLISHED
    assert db.session.get(Story, to_withdraw.story.id).status == StoryStatus.WITHDRAWN
