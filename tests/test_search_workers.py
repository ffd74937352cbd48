"""L03 and F05 across real processes: visitors search through several gunicorn workers while
other processes publish, and every worker may write the index at once.

The archive runs under gunicorn with three workers; two more processes publish stories with
the domain functions, as curators' requests do, each committing and indexing on its own.
Meanwhile two threads search without pause. Every search answers 200, nobody sees a lock
error, and each story can be found through any worker as soon as its publishing commit returns.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from nuevonorte import create_app, search, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Visibility
from nuevonorte.search import follow
from tests.gunicorn_fixtures import ROOT, app_settings, archive_env, gunicorn

WORKERS = 3
PUBLISHERS = 2
STORIES_PER_PUBLISHER = 8

#: Run by each publishing process: publish the given stories one by one; after each commit,
#: ask the running archive (any worker) whether the story is found, and print the answer.
PUBLISHER = """
import json, sys, time, urllib.request
from sqlalchemy import select
from nuevonorte import create_app, stories
from nuevonorte.database import write_intent
from nuevonorte.extensions import db
from nuevonorte.models import Story

port, ids = int(sys.argv[1]), sys.argv[2:]
app = create_app()
with app.app_context():
    for public_id in ids:
        with write_intent():  # as a curator's POST does, and the session ends with it
            story = db.session.scalar(select(Story).where(Story.public_id == public_id))
            word = story.title_es.split()[-1]
            stories.publish(story, None)
            db.session.commit()
            db.session.remove()
        url = f"http://127.0.0.1:{port}/api/v1/search?lang=es&q={word}"
        with urllib.request.urlopen(url, timeout=60) as answer:
            found = [hit["id"] for hit in json.load(answer)["hits"]]
        print(json.dumps({"id": public_id, "found": public_id in found}), flush=True)
        time.sleep(0.2)
"""


def _word(n: int) -> str:
    """A made-up word no other story contains: "xochiaa", "xochiab", ..."""
    return "xochi" + chr(97 + n // 26) + chr(97 + n % 26)


def _search_status(port: int, word: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", f"/api/v1/search?lang=es&q={quote(word)}")
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


@pytest.mark.timeout(300)
def test_l03_f05_searches_while_several_processes_publish(tmp_path: Path) -> None:
    env = archive_env(tmp_path)
    app = create_app(app_settings(env))
    total = PUBLISHERS * STORIES_PER_PUBLISHER
    with app.app_context():
        db.create_all()
        ids = []
        for n in range(total):
            story = stories.submit(
                None,
                body=f"Llegamos a Tijuana en invierno. {_word(n)} era el nombre del barrio.",
                title=f"Relato {_word(n)}",
                choices=ConsentChoices(visibility=Visibility.PUBLIC, credit_name="Ana"),
                consent_language="es",
            )
            ids.append(story.public_id)
        db.session.commit()
        search.rebuild()
        db.engine.dispose()

    err = tmp_path / "gunicorn.err"
    statuses: list[int] = []
    stop = threading.Event()

    def searcher(port: int, offset: int) -> None:
        n = offset
        while not stop.is_set():
            statuses.append(_search_status(port, _word(n % total)))
            n += 1

    with err.open("wb") as stderr, gunicorn(env, WORKERS, subprocess.DEVNULL, stderr) as port:
        threads = [threading.Thread(target=searcher, args=(port, k * 7)) for k in range(2)]
        for thread in threads:
            thread.start()
        try:
            started = time.monotonic()
            publishers = [
                subprocess.Popen(
                    [sys.executable, "-c", PUBLISHER, str(port), *ids[k::PUBLISHERS]],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    cwd=ROOT,
                )
                for k in range(PUBLISHERS)
            ]
            outputs = [p.communicate(timeout=240) for p in publishers]
            elapsed = time.monotonic() - started
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)

    for process, (out, errors) in zip(publishers, outputs, strict=True):
        assert process.returncode == 0, errors.decode(errors="replace")[-3000:]
        assert b"LockError" not in errors and b"Traceback" not in errors
    reports = [json.loads(line) for out, _ in outputs for line in out.decode().splitlines()]
    assert sorted(r["id"] for r in reports) == sorted(ids)
    assert all(r["found"] for r in reports), [r for r in reports if not r["found"]]
    logs = err.read_bytes()
    assert b"LockError" not in logs and b"Traceback" not in logs, logs.decode(errors="replace")[-3000:]
    assert statuses and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    print(f"{len(statuses)} searches, {total} publishes in {elapsed:.1f} s")
    with app.app_context():
        # Nothing was left for later: every publish reached the index in its own request.
        assert follow.behind() == 0
        for n, public_id in enumerate(ids):
            assert public_id in {hit.public_id for hit in search.search_public(_word(n), "es").hits}
        db.engine.dispose()
