"""Run the archive under real gunicorn in a test: its environment, a free port, start and stop."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from tests.conftest import TEST_SECRET
from tests.support import require

ROOT = Path(__file__).parent.parent


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, server: subprocess.Popen[bytes], name: str, seconds: float) -> None:
    """Wait until something listens on ``port``; fail if ``server`` exits or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert server.poll() is None, f"{name} exited"
            assert time.monotonic() < deadline, f"{name} did not start"
            time.sleep(0.2)


def archive_env(tmp_path: Path) -> dict[str, str]:
    """Environment for an archive whose database, media and index live under ``tmp_path``."""
    config = tmp_path / "config.toml"
    config.write_text("")
    return {
        **os.environ,
        "NUEVONORTE_CONFIG": str(config),
        "NUEVONORTE_SECRET_KEY": TEST_SECRET,
        "NUEVONORTE_DATABASE_URL": f"sqlite:///{tmp_path / 'archive.sqlite3'}",
        "NUEVONORTE_MEDIA_DIR": str(tmp_path / "media"),
        "NUEVONORTE_INDEX_DIR": str(tmp_path / "index"),
        "NUEVONORTE_LEDGER_PATH": str(tmp_path / "withdrawals.ledger"),
        "NUEVONORTE_QUEUE_PATH": str(tmp_path / "jobs.sqlite3"),
    }


def app_settings(env: dict[str, str]) -> dict[str, object]:
    """``create_app`` settings for the same archive as ``env``, to prepare it in the test."""
    return {
        "TESTING": True,
        "secret_key": TEST_SECRET,
        "database_url": env["NUEVONORTE_DATABASE_URL"],
        "media_dir": env["NUEVONORTE_MEDIA_DIR"],
        "index_dir": env["NUEVONORTE_INDEX_DIR"],
        "ledger_path": env["NUEVONORTE_LEDGER_PATH"],
        "queue_path": env["NUEVONORTE_QUEUE_PATH"],
    }


@contextmanager
def gunicorn(
    env: dict[str, str],
    workers: int,
    stdout: IO[bytes] | int,
    stderr: IO[bytes] | int,
    port: int | None = None,
) -> Iterator[int]:
    """Serve the archive with our gunicorn config (on ``port``, or a free one); yields the port;
    SIGTERM and wait at the end."""
    binary = Path(sys.executable).parent / "gunicorn"
    require(binary.exists() or shutil.which("gunicorn") is not None, "gunicorn is not installed")
    port = port or free_port()
    env = {**env, "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} --workers {workers}"}
    server = subprocess.Popen(
        [str(binary), "-c", "python:nuevonorte.gunicorn_config", "nuevonorte:create_app()"],
        env=env,
        stdout=stdout,
        stderr=stderr,
        cwd=ROOT,
    )
    try:
        wait_for_port(port, server, "gunicorn", 60)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)
