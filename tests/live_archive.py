"""An archive as it runs for real in a test: its settings and environment, ``nuevonorte worker``
and gunicorn processes, and plain HTTP to it (for the partner and several-machine tests)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask

from nuevonorte import create_app, search
from nuevonorte.extensions import db
from nuevonorte.search import store
from tests.conftest import TEST_SECRET, archive_settings
from tests.gunicorn_fixtures import gunicorn

BIN = Path(sys.executable).parent
HARVEST_SECONDS = 1
CONFIRM_SECONDS = 8
#: How long a change may take to reach B in these tests (the targets are 5 s with the push and
#: one harvest interval without; the margin is for a loaded test machine).
PATIENCE = 30


class Side:
    """One archive: its settings, its environment for processes, its address."""

    def __init__(self, folder: Path, database_url: str, port: int, **config: Any) -> None:
        self.folder, self.port = folder, port
        self.url = f"http://127.0.0.1:{port}"
        folder.mkdir(parents=True, exist_ok=True)
        settings = {
            "partner_harvest_seconds": HARVEST_SECONDS,
            "partner_confirm_seconds": CONFIRM_SECONDS,
            "partner_timeout_seconds": 3,
            "job_lease_seconds": 2,
            "public_url": self.url,
            **config,
        }
        (folder / "config.toml").write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items()))
        self.settings: dict[str, Any] = {**archive_settings(folder, database_url), **settings}
        self.env = {
            **os.environ,
            "NUEVONORTE_CONFIG": str(folder / "config.toml"),
            "NUEVONORTE_SECRET_KEY": TEST_SECRET,
            "NUEVONORTE_DATABASE_URL": database_url,
            "NUEVONORTE_MEDIA_DIR": self.settings["media_dir"],
            "NUEVONORTE_INDEX_DIR": self.settings["index_dir"],
            "NUEVONORTE_LEDGER_PATH": self.settings["ledger_path"],
            "NUEVONORTE_QUEUE_PATH": self.settings["queue_path"],
            "NUEVONORTE_ARCHIVE_NAME": f"Archivo {folder.name}",
        }

    def command(self, *args: str) -> str:
        done = subprocess.run(
            [str(BIN / "nuevonorte"), *args], env=self.env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    @contextmanager
    def worker(self) -> Iterator[subprocess.Popen[bytes]]:
        log = (self.folder / "worker.log").open("wb")
        proc = subprocess.Popen([str(BIN / "nuevonorte"), "worker"], env=self.env, stdout=log, stderr=log)
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()

    @contextmanager
    def server(self) -> Iterator[int]:
        with (
            (self.folder / "gunicorn.out").open("wb") as out,
            (self.folder / "gunicorn.err").open("wb") as err,
            gunicorn(self.env, 2, out, err, port=self.port) as port,
        ):
            yield port


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_until(condition: Callable[[], bool], what: str, seconds: float = PATIENCE) -> float:
    """Seconds until ``condition`` held; fails after ``seconds``."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, f"not within {seconds} s: {what}"
        time.sleep(0.1)
    return time.monotonic() - start


def prepared(side: Side, schema: bool) -> Flask:
    """The archive's indexes (and, with ``schema``, its tables), made in this process (its
    servers run elsewhere)."""
    app = create_app(side.settings)
    with app.app_context():
        if schema:
            db.create_all()
        search.rebuild()
        db.session.remove()
        store.forget_searchers()
    return app
