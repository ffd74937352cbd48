"""The sandboxed worker: the only code that parses untrusted media bytes.

Run as ``python -I -m nuevonorte.media.worker`` by ``sandbox``: isolated from the environment
and the working folder, and importing neither Flask nor the database (a test proves it). The
server is a small fork server: it imports the decoders once, then reads one job per line (JSON)
on stdin. For each job it forks a fresh child, which limits its own memory and CPU time before
it opens the file, cleans it and hands back one JSON result through a pipe of its own; the
server prints that result as one line on stdout. The server itself never reads a byte of an
upload, so each file is parsed in a process that saw no other file, and a child that crashes or
is killed takes nothing else with it. Every failure becomes a stable refusal code.
"""

from __future__ import annotations

import errno
import json
import math
import os
import resource
import select
import signal
import sys
from typing import Any


def limit_memory(megabytes: int) -> None:
    """Cap this process's address space at what it starts with (the decoders the server loaded,
    about 150 MB of mostly shared libraries) plus ``megabytes`` for the file, so a hostile file
    cannot exhaust the machine."""
    size = address_space() + megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def address_space() -> int:
    """The bytes of address space this process has mapped (VmSize; 0 where /proc has none)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            lines = status.read().splitlines()
    except OSError:
        return 0
    sizes = [int(line.split()[1]) * 1024 for line in lines if line.startswith("VmSize:")]
    return sizes[0] if sizes else 0


def limit_cpu(seconds: float) -> None:
    """Cap this process's CPU time at twice the wall-clock timeout (an image job runs several
    threads), so a child whose web worker went away still ends."""
    limit = math.ceil(2 * seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (limit, limit + 1))


#: Metadata values shorter than this are too common to prove a leak (e.g. "2026", "Apple").
MIN_NEEDLE = 8


def distinct_needles(needles: list[bytes]) -> list[bytes]:
    """The needles worth searching for: long enough, each once, and none that contains another
    (whenever it occurs, the shorter one it contains occurs too)."""
    kept: list[bytes] = []
    for needle in sorted({n for n in needles if len(n) >= MIN_NEEDLE}, key=len):
        if not any(shorter in needle for shorter in kept):
            kept.append(needle)
    return kept


#: Above this many distinct bytes in the needles, runs of needle bytes are too common in an
#: encoded file for the run filter to pay off, and each needle is looked for on its own.
FILTER_MAX_ALPHABET = 128


class NeedleScan:
    """Whether any needle occurs in the bytes fed to it, piece by piece in order (a needle may
    straddle two pieces). An image output is fed as its encoder produces it.

    Looking for 30 needles one by one means 30 passes over a 3 MB JPEG (about 15 ms). Instead,
    one ``translate`` marks each byte 1 when some needle uses it and 0 otherwise; every
    occurrence of a needle is then a run of at least MIN_NEEDLE ones, and the needles are
    looked for only inside such runs, which in compressed data are short and few. The answer
    is exactly that of looking everywhere.
    """

    def __init__(self, needles: list[bytes]) -> None:
        self.needles = distinct_needles(needles)
        self.overlap = max((len(n) for n in self.needles), default=1) - 1
        alphabet = set(b"".join(self.needles))
        self.filtered = len(alphabet) <= FILTER_MAX_ALPHABET
        self.marks = bytes(1 if byte in alphabet else 0 for byte in range(256))
        self.run = b"\x01" * MIN_NEEDLE
        self.tail = b""
        self.found = False

    def feed(self, piece: bytes) -> bool:
        """Look at the next piece; True once any needle has occurred so far."""
        if self.found or not self.needles:
            return self.found
        window = self.tail + piece
        self.found = self._occurs_in(window) if self.filtered else self._anywhere(window)
        self.tail = window[-self.overlap :] if self.overlap else b""
        return self.found

    def _anywhere(self, data: bytes) -> bool:
        return any(n in data for n in self.needles)

    def _occurs_in(self, window: bytes) -> bool:
        marked = window.translate(self.marks)
        start = marked.find(self.run)
        while start != -1:
            end = marked.find(b"\x00", start)
            end = len(marked) if end == -1 else end
            if self._anywhere(window[start:end]):
                return True
            start = marked.find(self.run, end)
        return False


def contains_any(path: str, needles: list[bytes], chunk_size: int = 1 << 20) -> bool:
    """Whether any needle occurs in the file, read in chunks (memory stays flat)."""
    scan = NeedleScan(needles)
    if not scan.needles:
        return False
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            if scan.feed(chunk):
                return True
    return False


def first_found(path: str, groups: dict[str, list[bytes]]) -> str | None:
    """The first group (in order) of which a needle occurs in the file, or None. The file is
    read once for all the needles; only after a hit, which is rare, once more for each group
    until the one that holds it is known."""
    if not contains_any(path, [needle for needles in groups.values() for needle in needles]):
        return None
    return next((kind for kind, needles in groups.items() if contains_any(path, needles)), None)


def process(job: dict[str, Any]) -> dict[str, Any]:
    """Clean one file, trying images first, then audio; return the facts or a refusal code."""
    from nuevonorte.media import audio, images

    path, outputs, limits = job["input"], job["outputs"], job["limits"]
    if "silence" in job:
        return silence(path, outputs["public"], job["silence"])
    try:
        try:
            # Images scan each output for the upload's metadata values as it is encoded.
            return {"ok": True, **images.clean(path, outputs, limits, NeedleScan)}
        except images.TooManyPixels:
            return {"ok": False, "code": "too_many_pixels"}
        except images.MetadataSurvived:
            return not_cleaned("image_metadata")
        except Exception as image_error:
            from PIL import UnidentifiedImageError

            if not isinstance(image_error, UnidentifiedImageError) or images.looks_like_image(path):
                return {"ok": False, "code": failure_code(image_error)}
            try:
                result = audio.clean(path, outputs, limits)
            except audio.NotAudio:
                return {"ok": False, "code": "unsupported_type"}
    except Exception as error:  # any parser failure is a refusal, never a crash (docs/security.md decision 2)
        return {"ok": False, "code": failure_code(error)}
    # Re-check: no metadata value of the upload may occur in what we are about to store. The
    # values come grouped by where they were found, so a hit can say which kind survived.
    needles: dict[str, list[str]] = result.pop("needles", {})
    groups = {kind: [value.encode("latin-1") for value in values] for kind, values in needles.items()}
    leftover = first_found(outputs["original"], groups)
    if leftover is not None:
        return not_cleaned(leftover)
    return {"ok": True, **result}


def not_cleaned(leftover: str) -> dict[str, Any]:
    """The refusal of a file in whose cleaned copy a value of the upload still occurs, with the
    kind of that value (nuevonorte/media/errors.py LEFTOVERS): a tag value of a recording, text
    from outside its audio, or a metadata value of a photo. Never the value itself: the kind
    is all that reaches the administrator's log."""
    return {"ok": False, "code": "not_cleaned", "leftover": leftover}


#: errno values that mean the disk (or this process's share of it) is full.
DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def failure_code(error: BaseException) -> str:
    """The refusal code for an exception that ended a job: the file is not always to blame.

    A full disk while writing an output (Python's OSError, PyAV's av.error for ENOSPC, or a
    Pillow error raised while one was being handled) is ``storage_full``; running out of the
    child's memory limit is ``too_complex``; anything else is a file we could not read.
    """
    if any(isinstance(e, OSError) and e.errno in DISK_FULL for e in _chain(error)):
        return "storage_full"
    if any(_out_of_memory(e) for e in _chain(error)):
        return "too_complex"
    return "corrupt"


def _chain(error: BaseException) -> list[BaseException]:
    """The exception and those it was raised from or while handling, each once."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _out_of_memory(error: BaseException) -> bool:
    """Whether the child's memory limit ended the job: a MemoryError (also PyAV's), ENOMEM from
    a system call, or a thread whose stack no longer fits in the address space (CPython says
    only that it "can't start new thread")."""
    return (
        isinstance(error, MemoryError)
        or (isinstance(error, OSError) and error.errno == errno.ENOMEM)
        or (isinstance(error, RuntimeError) and "can't start new thread" in str(error))
    )


def silence(path: str, output: str, ranges_ms: list[list[int]]) -> dict[str, Any]:
    """Write a stored recording again with ``ranges_ms`` silent (the public copy of a recording
    with withheld passages); the input is the archive's own cleaned file, still parsed here."""
    from nuevonorte.media import audio

    try:
        return {"ok": True, **audio.silence(path, output, ranges_ms)}
    except Exception as error:  # a parser failure is a refusal, never a crash
        return {"ok": False, "code": failure_code(error)}


def preload() -> None:
    """Import, once in the server, everything a job may use, so that each forked child starts
    ready instead of importing it again: the decoders and the plugins Pillow loads on its first
    open, the EXIF reader, littleCMS, pillow-heif and PyAV (about 60 ms for each recording)."""
    import av  # noqa: F401
    import PIL.JpegImagePlugin
    import PIL.PngImagePlugin
    import PIL.TiffImagePlugin
    import PIL.WebPImagePlugin  # noqa: F401
    import pillow_heif  # noqa: F401
    from PIL import Image, ImageCms, ImageOps  # noqa: F401

    from nuevonorte.media import audio, images  # noqa: F401

    Image.preinit()


def die_with_parent() -> None:
    """In a job's child: be killed when the fork server dies (Linux ``PR_SET_PDEATHSIG``); exit
    now if it is already gone. (Only here: the server is single-threaded, and the signal follows
    the *thread* that forked.)"""
    parent = os.getppid()
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return  # not Linux: the CPU limit still ends an orphan
    if os.getppid() != parent or parent == 1:
        os._exit(1)


def run_child(job: dict[str, Any], result_fd: int) -> None:
    """In the forked child: cut it off from the server's pipes, apply the limits, clean, report."""
    die_with_parent()
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)  # the job is already read; a decoder must not see the next one
    os.dup2(devnull, 1)  # nor write into the server's answers
    # Made before the limits: once memory has run out, there may be none left to make it.
    out_of_memory = json.dumps({"ok": False, "code": "too_complex"}).encode()
    out = os.fdopen(result_fd, "wb")
    limit_memory(int(job["limits"]["memory_mb"]))
    limit_cpu(float(job["limits"].get("cpu_seconds", 300)))
    try:
        result = json.dumps(process(job)).encode()
    except MemoryError:  # ran out outside the decoders (in a handler, or making the answer)
        result = out_of_memory
    with out:
        out.write(result)


def fork_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run one job in a fresh child and return its result; a child that died is a refusal."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: whatever happens, it ends here
        code = 1
        try:
            os.close(read_fd)
            run_child(job, write_fd)
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    _abandon_if_orphaned(pid, read_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        answer = pipe.read()
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        # Killed by the memory or CPU limit, or crashed inside a decoder: refuse the file.
        return {"ok": False, "code": "corrupt"}
    try:
        result: dict[str, Any] = json.loads(answer)
    except ValueError:
        return {"ok": False, "code": "corrupt"}
    # Which child it was and what it cost, for tests and benchmarks (ru_maxrss is in KiB on Linux).
    result["child"] = {
        "pid": pid,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_kb": usage.ru_maxrss,
    }
    return result


def _abandon_if_orphaned(pid: int, result_fd: int) -> None:
    """Wait until the child's answer is ready; if the web worker went away meanwhile (our stdin
    ends: nobody will read the answer), kill the child and exit, so that it does not write into
    storage's temporary folder after the recovery that removed its files (docs/security.md T08)."""
    while True:
        ready, _, _ = select.select([result_fd, 0], [], [])
        if result_fd in ready:
            return
        if not os.read(0, 1):  # end of stdin: one job at a time, so nothing else is ever here
            os.kill(pid, signal.SIGKILL)
            os._exit(0)


def main() -> None:
    """Preload, then answer each job line with one result line until stdin closes."""
    preload()
    for line in sys.stdin.buffer:
        result = fork_job(json.loads(line))
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
