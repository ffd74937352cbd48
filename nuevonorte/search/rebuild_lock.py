"""The rebuild lock: a rebuild is running exactly while a living process holds it.

``INDEX_DIR/.rebuilding`` is a lock file that stays in place; a rebuild holds an exclusive
``flock`` on it for its whole life. The kernel drops the lock when the process ends, however
it ends (SIGKILL included), so a killed rebuild never parks index updates (T09): the next
writer, ``nuevonorte check`` or ``nuevonorte reindex`` finds the lock free and removes the
half-written build it left.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nuevonorte.search import store

MARKER = ".rebuilding"
#: How long a rebuild waits for a cleaner that holds the lock for a moment.
ACQUIRE_TIMEOUT_S = 10.0


def marker(root: Path | None = None) -> Path:
    """The lock file."""
    return (root or store.index_root()) / MARKER


def _open(root: Path | None) -> int:
    path = marker(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


def rebuilding(root: Path | None = None) -> bool:
    """Whether a living process holds the lock (a rebuild, or a cleaner for an instant)."""
    try:
        fd = os.open(marker(root), os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the shared lock taken just above
    return False


def lock_within(fd: int, seconds: float, pause: float) -> bool:
    """Take an exclusive ``flock`` on ``fd``, trying again every ``pause`` seconds; False when it
    could not be had within ``seconds`` (also the search log's follower lock, ``follow``)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(pause)


@contextmanager
def held(root: Path | None = None) -> Iterator[None]:
    """Hold the lock for a rebuild; ``store.RebuildFailed`` if another rebuild holds it."""
    fd = _open(root)
    try:
        if not lock_within(fd, ACQUIRE_TIMEOUT_S, pause=0.05):
            raise store.RebuildFailed("another rebuild is running")
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)


def clean_after_dead_rebuild(root: Path | None = None) -> list[Path]:
    """When no rebuild is running, delete builds nothing points at; returns what was deleted.

    Taken under the lock for the instant it lasts, so a rebuild cannot start meanwhile and
    lose the build it is writing.
    """
    if not marker(root).exists() and not (root or store.index_root()).joinpath("builds").is_dir():
        return []
    fd = _open(root)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return []  # a rebuild is running: its build is not stray
        return store.delete_other_builds(root)
    finally:
        os.close(fd)
