"""Run the worker in a child process with a wall-clock timeout and a memory limit.

A fresh interpreter per file (about 50 ms) keeps nothing of the web worker: no database
connections, no threads, no other contributor's data. On timeout the child is killed and the
file refused; the web worker carries on.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from nuevonorte.media.errors import MediaRejected

WORKER = Path(__file__).with_name("worker.py")


def run(input_path: str, outputs: dict[str, str], limits: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Clean ``input_path`` into ``outputs`` in a child; return its facts or raise MediaRejected."""
    job = json.dumps({"input": input_path, "outputs": outputs, "limits": limits})
    # -E -s: ignore PYTHON* variables and the user's site folder; the child sees only its job.
    proc = subprocess.Popen(  # noqa: S603 (our own interpreter and script, no shell)
        [sys.executable, "-E", "-s", str(WORKER)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        close_fds=True,
        start_new_session=True,
    )
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
