"""Run the worker's fork server beside the web worker and hand it one file at a time.

The server is a separate interpreter (``python -I -m nuevonorte.media.worker``): it imports the
decoders once and forks a fresh child for each file, so a file is parsed in a process with its
own memory and CPU limits that saw no other file, without paying 50–200 ms for a new interpreter
each time. This module enforces the wall-clock timeout: when a job is late the server's whole
process group (server and child) is killed, the file refused, and a new server started for the
next one; a server that died for any other reason is replaced the same way. A web worker running
jobs from several threads at once gets one server per concurrent job.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from nuevonorte.media.errors import MediaRejected

#: The server's command line. -I: isolated, ignoring PYTHON* variables, the user's site folder
#: and the working folder, so the server imports only the installed archive's modules.
WORKER = [sys.executable, "-I", "-m", "nuevonorte.media.worker"]
#: Idle servers kept per web worker; more are started while more jobs run at once.
KEEP_IDLE = 2
#: glibc: back large allocations with transparent huge pages where the kernel allows it
#: (madvise mode), and take Pillow's 16 MB pixel blocks from the heap rather than from one
#: mmap each (the heap is one growing region, where huge pages fit): decoding a 12-megapixel
#: photo in a fresh child then costs about 1,000 page faults instead of 7,000 (15 % of its CPU).
GLIBC_TUNABLES = "glibc.malloc.hugetlb=1:glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=33554432"


class Server:
    """One running fork server, owned by the process and environment that started it."""

    def __init__(self) -> None:
        env = dict(os.environ)
        env["GLIBC_TUNABLES"] = ":".join(t for t in (env.get("GLIBC_TUNABLES"), GLIBC_TUNABLES) if t)
        self.owner = _owner()
        # start_new_session: the server and its children form a group that can be killed at once.
        self.proc = subprocess.Popen(  # noqa: S603 (our own interpreter and script, no shell)
            WORKER,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            start_new_session=True,
            env=env,
        )

    def usable(self) -> bool:
        """Still running, and started by this process with this environment."""
        return self.owner == _owner() and self.proc.poll() is None

    def ask(self, job: bytes, timeout: float) -> bytes:
        """Send one job line, return the answer line; TimeoutError or EOFError when there is none."""
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(job)
        self.proc.stdin.flush()
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        answer = b""
        while not answer.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise EOFError
            answer += chunk
        return answer

    def stop(self) -> None:
        """Kill the server and any child it is running, and collect them."""
        if self.owner[0] != os.getpid():
            return  # inherited through a fork: the process that started it stops it
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # it ended between the poll and the kill
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe:
                pipe.close()


_lock = threading.Lock()
_idle: list[Server] = []


def _owner() -> tuple[int, int]:
    """This process and its environment: a server started elsewhere or before a change is not used."""
    return os.getpid(), hash(frozenset(os.environ.items()))


def _take() -> Server:
    """An idle server of this process, or a new one."""
    with _lock:
        while _idle:
            server = _idle.pop()
            if server.usable():
                return server
            server.stop()
    return Server()


def _give_back(server: Server) -> None:
    with _lock:
        if server.usable() and len(_idle) < KEEP_IDLE:
            _idle.append(server)
            return
    server.stop()


def _replace(server: Server) -> None:
    """Kill a server that failed a job and start its successor now, so the next file finds it ready."""
    server.stop()
    _give_back(Server())


@atexit.register
def stop_all() -> None:
    """Stop every idle server of this process (at exit; tests start from none)."""
    with _lock:
        servers, _idle[:] = list(_idle), []
    for server in servers:
        server.stop()


def run(
    input_path: str,
    outputs: dict[str, str],
    limits: dict[str, Any],
    timeout: float,
    task: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Clean ``input_path`` into ``outputs`` in a child (or do ``task``, such as
    ``{"silence": ranges}``); return its facts or raise MediaRejected."""
    limits = {**limits, "cpu_seconds": timeout}
    job = json.dumps({"input": input_path, "outputs": outputs, "limits": limits, **(task or {})})
    server = _take()
    try:
        try:
            answer = server.ask(job.encode() + b"\n", timeout)
        except BrokenPipeError:
            # The server died while idle, before it saw this job: run the job on a new one.
            server.stop()
            server = Server()
            answer = server.ask(job.encode() + b"\n", timeout)
    except TimeoutError:
        _replace(server)
        raise MediaRejected("timeout") from None
    except (OSError, EOFError):
        _replace(server)
        raise MediaRejected("corrupt") from None
    except BaseException:
        _replace(server)
        raise
    _give_back(server)
    try:
        result: dict[str, Any] = json.loads(answer)
    except ValueError:
        raise MediaRejected("corrupt") from None
    if not result.get("ok"):
        raise MediaRejected(str(result.get("code", "corrupt")), leftover=result.get("leftover"))
    return result
