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
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from nuevonorte import create_app, search, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import SearchOutbox, Visibility
from tests.conftest import TEST_SECRET
from tests.support import require

WORKERS = 3
PUBLISHERS = 2
STORIES_PER_PUBLISHER = 8
ROOT = Path(__file__).parent.parent

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def _wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert server.poll() is None, "gunicorn exited"
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)


@pytest.mark.timeout(300)
def test_l03_f05_searches_while_several_processes_publish(tmp_path: Path) -> None:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    require(gunicorn.exists() or shutil.which("gunicorn") is not None, "gunicorn is not installed")
    database = tmp_path / "l03.sqlite3"
    config = tmp_path / "config.toml"
    config.write_text("")
    env = {
        **os.environ,
        "NUEVONORTE_CONFIG": str(config),
        "NUEVONORTE_SECRET_KEY": TEST_SECRET,
        "NUEVONORTE_DATABASE_URL": f"sqlite:///{database}",
        "NUEVONORTE_MEDIA_DIR": str(tmp_path / "media"),
        "NUEVONORTE_INDEX_DIR": str(tmp_path / "index"),
    }
    settings = {
        "TESTING": True,
        "secret_key": TEST_SECRET,
        "database_url": env["NUEVONORTE_DATABASE_URL"],
        "media_dir": env["NUEVONORTE_MEDIA_DIR"],
        "index_dir": env["NUEVONORTE_INDEX_DIR"],
    }
    app = create_app(settings)
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

    port = _free_port()
    env["GUNICORN_CMD_ARGS"] = f"--bind 127.0.0.1:{port} --workers {WORKERS}"
    err = tmp_path / "gunicorn.err"
    statuses: list[int] = []
    stop = threading.Event()

    def searcher(offset: int) -> None:
        n = offset
        while not stop.is_set():
            statuses.append(_search_status(port, _word(n % total)))
            n += 1

    with err.open("wb") as stderr:
        server = subprocess.Popen(
            [str(gunicorn), "-c", "python:nuevonorte.gunicorn_config", "nuevonorte:create_app()"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=ROOT,
        )
        try:
            _wait_for(port, server)
            threads = [threading.Thread(target=searcher, args=(k * 7,)) for k in range(2)]
            for thread in threads:
                thread.start()
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
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        finally:
            stop.set()
            server.terminate()
            server.wait(timeout=30)

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
        assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 0
        for n, public_id in enumerate(ids):
            assert public_id in {hit.public_id for hit in search.search_public(_word(n), "es").hits}
        db.engine.dispose()
