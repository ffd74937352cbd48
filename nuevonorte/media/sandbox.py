"""Run the worker in a child process with a wall-clock timeout and a memory limit.

A fresh interpreter per file keeps nothing of the web worker: no database connections, no
threads, no other contributor's data, and no state from the previous file. Starting Python and
importing the decoders costs 50–200 ms, so one spare worker is started ahead of time and waits
for its single job on stdin; taking it starts the next spare. On timeout the child is killed
and the file refused; the web worker carries on.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from nuevonorte.media.errors import MediaRejected

WORKER = Path(__file__).with_name("worker.py")


_lock = threading.Lock()
_spare: subprocess.Popen[bytes] | None = None
_spare_for: tuple[int, int] | None = None


def _start() -> subprocess.Popen[bytes]:
    # -E -s: ignore PYTHON* variables and the user's site folder; the child sees only its job.
    return subprocess.Popen(  # noqa: S603 (our own interpreter and script, no shell)
        [sys.executable, "-E", "-s", str(WORKER)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        close_fds=True,
        start_new_session=True,
    )


def _owner() -> tuple[int, int]:
    """This process and its environment: a spare started elsewhere or before a change is not used."""
    return os.getpid(), hash(frozenset(os.environ.items()))


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for pipe in (proc.stdin, proc.stdout):
        if pipe:
            pipe.close()


def _take() -> subprocess.Popen[bytes]:
    """The waiting spare worker, or a new one."""
    global _spare, _spare_for
    with _lock:
        proc, _spare = _spare, None
        if proc is not None and (_spare_for != _owner() or proc.poll() is not None):
            if _spare_for is not None and _spare_for[0] == os.getpid():
                _stop(proc)
            proc = None
        return proc or _start()


def _replenish() -> None:
    """Start the next spare once this file is done, so it does not compete with the job."""
    global _spare, _spare_for
    with _lock:
        if _spare is None:
            _spare, _spare_for = _start(), _owner()


@atexit.register
def _stop_spare() -> None:
    global _spare
    if _spare is not None and _spare_for is not None and _spare_for[0] == os.getpid():
        _stop(_spare)
    _spare = None


def run(input_path: str, outputs: dict[str, str], limits: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Clean ``input_path`` into ``outputs`` in a child; return its facts or raise MediaRejected."""
    job = json.dumps({"input": input_path, "outputs": outputs, "limits": limits})
    proc = _take()
    try:
        stdout, _ = proc.communicate(job.encode(), timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise MediaRejected("timeout") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _replenish()
    if proc.returncode != 0:
        # Killed by the memory limit or crashed inside a decoder: refuse the file.
        raise MediaRejected("corrupt")
    try:
        result: dict[str, Any] = json.loads(stdout)
    except ValueError:
        raise MediaRejected("corrupt") from None
    if not result.get("ok"):
        raise MediaRejected(str(result.get("code", "corrupt")))
    return result
