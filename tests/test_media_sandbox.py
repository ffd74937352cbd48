"""The sandbox around parsing (F15) and the rebuild from pixels (M01–M05).

Each file is parsed in a fresh child forked from a warm server; a server that died or was
killed is replaced; a timeout leaves no process of that server running. A rebuilt image
carries nothing but pixels, and the encoder adds no metadata of the decoded file either.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from nuevonorte.media import MediaRejected, images, sandbox
from tests import media_samples as samples
from tests.support import require
from tests.test_media_metadata import assert_clean

LIMITS = {"max_pixels": 40_000_000, "memory_mb": 2048, "display_px": 1600, "thumbnail_px": 400}


@pytest.fixture(autouse=True)
def no_servers_yet():
    """Each test starts with no server in this process (and leaves none behind)."""
    sandbox.stop_all()
    yield
    sandbox.stop_all()


def run_job(tmp_path: Path, data: bytes, timeout: float = 60) -> dict:
    """Clean ``data`` through the sandbox directly, into fresh output files."""
    source = tmp_path / f"in-{time.monotonic_ns()}"
    source.write_bytes(data)
    outputs = {
        name: str(tmp_path / f"{name}-{time.monotonic_ns()}") for name in ("original", "display", "thumbnail")
    }
    return sandbox.run(str(source), outputs, LIMITS, timeout)


def idle_server_pids() -> set[int]:
    return {server.proc.pid for server in sandbox._idle}


def live_processes_in_group(group: int) -> list[int]:
    """Processes (not zombies) whose process group is ``group``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state != "Z":
            found.append(int(entry.name))
    return found


def test_each_file_is_parsed_in_its_own_child_of_a_warm_server_F15(tmp_path):
    """Two files: two different children, neither of them the server, which stays and is reused."""
    first = run_job(tmp_path, samples.jpeg())
    [server] = idle_server_pids()
    second = run_job(tmp_path, samples.png())
    assert idle_server_pids() == {server}
    children = {first["child"]["pid"], second["child"]["pid"]}
    assert len(children) == 2 and server not in children


def test_a_server_that_died_is_replaced_F15(tmp_path):
    """The idle server is killed from outside: the next file is still cleaned, by a new server."""
    run_job(tmp_path, samples.jpeg())
    [server] = idle_server_pids()
    os.killpg(server, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while live_processes_in_group(server) and time.monotonic() < deadline:
        time.sleep(0.01)
    result = run_job(tmp_path, samples.jpeg())
    assert result["ok"] and result["width"] == 64
    assert server not in idle_server_pids() and len(idle_server_pids()) == 1


def test_a_timeout_kills_the_child_and_its_server_and_a_new_one_takes_over_F15(tmp_path):
    """At the wall-clock limit the whole process group goes; nothing keeps parsing; the next
    file is cleaned by a fresh server."""
    run_job(tmp_path, samples.jpeg())
    [server] = idle_server_pids()
    slow = samples.jpeg(Image.effect_noise((3000, 2000), 60).convert("RGB"))
    with pytest.raises(MediaRejected) as caught:
        run_job(tmp_path, slow, timeout=0.05)
    assert caught.value.code == "timeout"
    deadline = time.monotonic() + 5
    while live_processes_in_group(server) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert live_processes_in_group(server) == []
    assert server not in idle_server_pids()
    assert run_job(tmp_path, samples.jpeg())["ok"]


def test_concurrent_jobs_each_get_a_server_F15(tmp_path):
    """Two threads of one web worker clean files at the same time, each in its own child."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        results = list(
            pool.map(lambda _: run_job(tmp_path, samples.jpeg(samples.picture(800, 600))), range(4))
        )
    assert all(r["ok"] and r["width"] == 800 for r in results)
    assert len({r["child"]["pid"] for r in results}) == 4
    assert 1 <= len(idle_server_pids()) <= sandbox.KEEP_IDLE


def decoded_dirty_jpeg(tmp_path: Path) -> Image.Image:
    """A dirty JPEG (EXIF/GPS, XMP, IPTC, COM, ICC, trailing bytes), decoded as the worker does."""
    path = tmp_path / "dirty.jpg"
    path.write_bytes(samples.jpeg(samples.picture(640, 480), dirty=True))
    image = Image.open(path)
    image.load()
    assert image.info.get("comment") and image.info.get("icc_profile") and image.getexif()
    return image


def test_a_rebuilt_image_holds_only_pixels_even_for_a_naive_save_M01_M02_M03_M05(tmp_path):
    """rebuild(): a plain image with empty info, the same pixels, and nothing for any encoder
    to copy — even ``save()`` with no arguments writes no EXIF, XMP, ICC or comment."""
    require(shutil.which("exiftool") is not None, "exiftool is not installed")
    decoded = decoded_dirty_jpeg(tmp_path)
    fresh = images.rebuild(decoded)
    assert type(fresh) is Image.Image and fresh.info == {} and not fresh.getexif()
    assert (fresh.mode, fresh.size) == (decoded.mode, decoded.size)
    assert fresh.tobytes() == decoded.tobytes()
    fresh.save(tmp_path / "naive.jpg")
    assert_clean(tmp_path / "naive.jpg")


def test_encoding_decoded_pixels_adds_no_metadata_without_the_rebuild_M01_M02_M03_M05(tmp_path):
    """The second layer: save_jpeg() passes no EXIF, ICC or comment, so even the decoded file
    itself (its info still full of metadata) is written clean."""
    require(shutil.which("exiftool") is not None, "exiftool is not installed")
    decoded = decoded_dirty_jpeg(tmp_path)
    images.save_jpeg(decoded, str(tmp_path / "direct.jpg"))
    assert_clean(tmp_path / "direct.jpg")


FAILURES = r"""
import json, mmap, sys, threading
from nuevonorte.media import worker

def code_of(action):
    try:
        action()
    except Exception as error:
        return worker.failure_code(error)
    return "no failure"

def pillow_error_over_a_full_disk():
    with open("/dev/full", "wb", buffering=0) as full:
        try:
            full.write(b"x")
        except OSError:
            raise OSError("encoder error -2 when writing image file")

worker.limit_memory(1)
print(json.dumps({
    "allocation": code_of(lambda: bytearray(256 << 20)),
    "thread": code_of(lambda: threading.Thread(target=print).start()),
    "mapping": code_of(lambda: mmap.mmap(-1, 256 << 20)),
    "full_disk": code_of(pillow_error_over_a_full_disk),
    "parser": code_of(lambda: int("not a number")),
}))
"""


def test_the_child_tells_its_memory_limit_and_a_full_disk_from_a_damaged_file_F03_F15():
    """Real failures in a process under the child's memory limit: an allocation, a thread
    whose stack does not fit and an mmap refused with ENOMEM are all ``too_complex``; a write
    to a full device (/dev/full), even under the error a library raised while handling it, is
    ``storage_full``; only the parser's own error is ``corrupt``."""
    require(Path("/dev/full").exists(), "no /dev/full to write to")
    done = subprocess.run(
        [sys.executable, "-I", "-c", FAILURES], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(done.stdout) == {
        "allocation": "too_complex",
        "thread": "too_complex",
        "mapping": "too_complex",
        "full_disk": "storage_full",
        "parser": "corrupt",
    }


#: Modules the worker must never import: the web framework, the database and the search index.
#: Were one of them loaded, a parser exploit would find the archive's code and connections in
#: reach, and each fresh child would pay for them.
FORBIDDEN = ("flask", "flask_babel", "werkzeug", "jinja2", "sqlalchemy", "psycopg", "whoosh", "alembic")


def imported_modules(importtime_log: str) -> set[str]:
    """The modules named in ``python -X importtime`` output (one ``| module`` line per import)."""
    lines = importtime_log.splitlines()
    return {line.rsplit("|", 1)[1].strip() for line in lines if line.startswith("import time:")}


def test_the_worker_runs_isolated_and_imports_neither_flask_nor_the_database_F15(tmp_path):
    """The worker runs as ``python -I -m nuevonorte.media.worker``: a decoy ``nuevonorte`` package in
    its working folder and on PYTHONPATH is never imported (-I), and while it cleans a photo and a
    recording it imports the decoders and none of Flask, SQLAlchemy, the database drivers or
    Whoosh. ``-X importtime`` lists every module the server and its children import."""
    decoy = tmp_path / "decoy" / "nuevonorte"
    decoy.mkdir(parents=True)
    (decoy / "__init__.py").write_text("raise SystemExit('the decoy was imported')\n")
    jobs = []
    for name, data in (("photo", samples.jpeg()), ("voice", samples.wav())):
        (tmp_path / name).write_bytes(data)
        outputs = {out: str(tmp_path / f"{name}-{out}") for out in ("original", "display", "thumbnail")}
        jobs.append(json.dumps({"input": str(tmp_path / name), "outputs": outputs, "limits": LIMITS}))
    command = [sandbox.WORKER[0], "-X", "importtime", *sandbox.WORKER[1:]]
    # One job at a time, stdin kept open while it runs: the server takes the end of its input
    # as its web worker gone, and kills the job's child.
    with subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path / "decoy",
        env={**os.environ, "PYTHONPATH": str(tmp_path / "decoy")},
    ) as server:
        assert server.stdin and server.stdout and server.stderr
        results = []
        for job in jobs:
            server.stdin.write(job + "\n")
            server.stdin.flush()
            results.append(json.loads(server.stdout.readline()))
        server.stdin.close()
        log = server.stderr.read()
    assert server.returncode == 0
    assert [(r["ok"], r["ext"]) for r in results] == [(True, "jpg"), (True, "wav")]
    modules = imported_modules(log)
    assert {"nuevonorte.media", "nuevonorte.media.images", "nuevonorte.media.audio", "av"} <= modules
    assert not {m for m in modules if m.split(".")[0] in FORBIDDEN}
    assert "nuevonorte.media.ingest" not in modules and "nuevonorte.extensions" not in modules
