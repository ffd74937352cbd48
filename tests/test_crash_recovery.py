"""T08, F01, F02: real gunicorn workers SIGKILLed at named steps; the media folder converges.

A test-only fault point (``nuevonorte.faults``) stops the worker with SIGSTOP at exactly the
step named; the test then SIGKILLs it (no finally block, no hook, no cleanup of any kind runs):

- ``contribution.file_stored``: after the 1st of 2 photos of a contribution was stored;
- ``commit.files_to_delete``: right after a withdrawal's commit, before its files are deleted;
- ``upload.receiving``: while a raw upload is being written to ``.tmp``.

Then recovery runs — the replacement worker gunicorn starts, ``nuevonorte sweep`` or
``nuevonorte check --repair`` (with the whole server killed first, so that only the command
recovers) — and the media folder must hold exactly the files the database references, with
``.tmp`` empty. On SQLite and on PostgreSQL (``NUEVONORTE_DATABASE_URL``).
"""

from __future__ import annotations

import http.cookiejar
import io
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from nuevonorte import stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.contributions import Contribution, Receipt, receive
from nuevonorte.extensions import db
from nuevonorte.faults import ENV as FAULT_ENV
from nuevonorte.models import ChangeCounter, MediaFile, Story, StoryStatus, Visibility
from nuevonorte.storage import TEMP_DIR, get_storage
from tests import media_samples, oai_schemas
from tests.contribute_fixtures import story_form
from tests.gunicorn_fixtures import free_port
from tests.support import require

PROJECT = Path(__file__).parent.parent
#: The app under gunicorn, TESTING (fault points honoured) and without CSRF tokens to fetch.
APP = "nuevonorte:create_app({'TESTING': True, 'WTF_CSRF_ENABLED': False})"


class Server:
    """gunicorn with our config (its on_starting and post_worker_init recovery) on the test's
    database and media folder; a fault point may be armed for every worker."""

    def __init__(self, app_config: dict[str, Any], tmp: Path, fault: str = "", workers: int = 1) -> None:
        binary = Path(sys.executable).parent / "gunicorn"
        require(binary.exists(), "gunicorn is not installed")
        config = tmp / "gunicorn-config.toml"
        config.write_text("")
        self.log = tmp / "gunicorn.log"
        self.port = free_port()
        env = {
            **os.environ,
            "NUEVONORTE_CONFIG": str(config),
            "NUEVONORTE_SECRET_KEY": app_config["secret_key"],
            "NUEVONORTE_DATABASE_URL": app_config["database_url"],
            "NUEVONORTE_MEDIA_DIR": app_config["media_dir"],
            "NUEVONORTE_INDEX_DIR": app_config["index_dir"],
            "NUEVONORTE_LEDGER_PATH": app_config["ledger_path"],
            "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{self.port} --workers {workers}",
            FAULT_ENV: fault,
        }
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(binary), "-c", "python:nuevonorte.gunicorn_config", APP],
                env=env,
                stdout=log,
                stderr=log,
                cwd=PROJECT,
            )
        self.workers = workers
        self.wait_ready()

    def wait_ready(self) -> None:
        """Until every worker has started (and so recovered) and the port answers."""
        deadline = time.monotonic() + 90
        while len(self.worker_pids()) < self.workers or self.recoveries() < 1 + self.workers:
            assert self.proc.poll() is None and time.monotonic() < deadline, self.log.read_text()[-3000:]
            time.sleep(0.1)
        while True:
            try:
                urllib.request.urlopen(self.url("/es/"), timeout=5).close()
                return
            except (OSError, urllib.error.HTTPError):
                assert time.monotonic() < deadline, self.log.read_text()[-3000:]
                time.sleep(0.1)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def recoveries(self) -> int:
        """How many recoveries (the master's and each worker's) the log reports so far."""
        return self.log.read_text(errors="replace").count("stored file(s) of interrupted transactions")

    def worker_pids(self) -> list[int]:
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                pids.append(int(stat.parent.name))
        return pids

    def stopped_worker(self, answers: list[Any], timeout: float = 90) -> int:
        """The worker that stopped at the fault point (SIGSTOP), waiting for it."""
        deadline = time.monotonic() + timeout
        while True:
            for pid in self.worker_pids():
                try:
                    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
                except OSError:
                    continue
                if state == "T":
                    return pid
            assert time.monotonic() < deadline and not answers, f"never stopped at the point: {answers}"
            time.sleep(0.01)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Browser:
    """A cookie-keeping HTTP client (urllib), for the receipt sign-in and the curator's session."""

    def __init__(self, server: Server) -> None:
        self.server = server
        cookies = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        self.opener = urllib.request.build_opener(cookies)

    def post(self, path: str, fields: dict[str, Any], timeout: float = 120) -> tuple[int, bytes]:
        boundary, body = encode_multipart(fields)
        request = urllib.request.Request(
            self.server.url(path),
            data=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        try:
            with self.opener.open(request, timeout=timeout) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()


def wait_dead(pid: int) -> None:
    """Until the killed process has exited (a zombie or gone) with every thread of it: then its
    locks are free. A worker has threads (the search warm-up): its first thread shows as a
    zombie while the others are still ending, and they hold its open files until the last one."""
    deadline = time.monotonic() + 30
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            if state in "ZX" and len(os.listdir(f"/proc/{pid}/task")) <= 1:
                return
        except OSError:
            return
        assert time.monotonic() < deadline, "the killed worker does not end"
        time.sleep(0.01)


def photo(seed: int, size: tuple[int, int] = (1800, 1200)) -> FileStorage:
    image = Image.radial_gradient("L").resize(size).convert("RGB")
    image.putpixel((seed % size[0], 0), (seed % 256, 7, 7))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return FileStorage(io.BytesIO(out.getvalue()), f"foto{seed}.jpg")


def send_in_background(browser: Browser, path: str, fields: dict[str, Any]) -> list[Any]:
    answers: list[Any] = []

    def run() -> None:
        try:
            answers.append(browser.post(path, fields))
        except OSError as e:
            answers.append(e)

    threading.Thread(target=run, daemon=True).start()
    return answers


def committed(*photos: FileStorage) -> Receipt:
    """A contribution with these photos, committed in the test's own process."""
    form = story_form()
    contribution = Contribution(
        body=form["body"],
        choices=ConsentChoices(visibility=Visibility.PUBLIC, credit_name="Lupe"),
        consent_language="es",
    )
    receipt = receive(contribution, [p.stream for p in photos])
    db.session.commit()
    return receipt


def referenced_keys() -> set[str]:
    db.session.rollback()
    return {k for m in db.session.scalars(select(MediaFile)) for k in m.storage_keys()}


def assert_converged(media_dir: Path) -> None:
    """The media folder holds exactly the files the database references; .tmp is empty."""
    storage = get_storage()
    referenced = referenced_keys()
    files = {p for p in media_dir.rglob("*") if p.is_file()}
    assert files == {storage.path(k) for k in referenced}
    assert list((media_dir / TEMP_DIR).iterdir()) == []


@pytest.fixture
def media_dir(app: Flask, app_config: dict[str, Any]) -> Path:
    return Path(app_config["media_dir"])


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


POINTS = ["contribution.file_stored", "commit.files_to_delete", "upload.receiving"]
RECOVERIES = ["worker restart", "sweep", "check --repair"]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("recovery", RECOVERIES)
@pytest.mark.parametrize("point", POINTS)
def test_worker_killed_at_each_step_then_the_media_folder_converges_T08_F01_F02(
    point: str,
    recovery: str,
    app: Flask,
    app_config: dict[str, Any],
    media_dir: Path,
    runner: FlaskCliRunner,
    tmp_path: Path,
    servers: list[Server],
) -> None:
    """SIGKILL at a named step; recovery removes exactly what no committed row references."""
    # A committed story with a photo (never touched) and, for the withdrawal, one to withdraw;
    # made here, so that the armed fault point is reached only by the step under test.
    committed(photo(1))
    kept = referenced_keys()
    assert len(kept) == 3
    withdrawn = committed(photo(2), photo(3)) if point == "commit.files_to_delete" else None
    server = Server(app_config, tmp_path, fault=f"{point}=stop")
    servers.append(server)
    browser = Browser(server)
    if withdrawn is not None:
        assert len(referenced_keys()) == 9
        status, _ = browser.post("/es/my-stories", {"code": withdrawn.code})
        assert status == 200
        answers = send_in_background(
            browser, f"/es/my-stories/{withdrawn.story.public_id}/withdraw", {"confirm": "y"}
        )
    elif point == "contribution.file_stored":
        answers = send_in_background(
            browser, "/api/v1/contributions", story_form(photos=[photo(4), photo(5)])
        )
    else:
        upload = FileStorage(io.BytesIO(media_samples.wav(seconds=30)), "voz.wav")
        answers = send_in_background(browser, "/api/v1/contributions", story_form(audio=upload))

    worker = server.stopped_worker(answers)
    # What the kill leaves behind at this step, before any recovery:
    left = {p for p in media_dir.rglob("*") if p.is_file() and p.parent.name != ".intents"}
    expected = {get_storage().path(k) for k in referenced_keys()}
    if point == "upload.receiving":
        assert [p for p in left if p.parent.name == TEMP_DIR]
    else:
        assert left - expected, "the kill left nothing to recover: the test missed its window"
    if recovery == "worker restart":
        before = server.recoveries()
        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 90
        while server.recoveries() <= before:  # the replacement worker has started and recovered
            assert time.monotonic() < deadline, server.log.read_text()[-3000:]
            time.sleep(0.1)
    else:
        server.proc.kill()  # the master first, so that no replacement worker recovers
        server.proc.wait()
        os.kill(worker, signal.SIGKILL)
        wait_dead(worker)
        args = ["sweep"] if recovery == "sweep" else ["check", "--repair"]
        result = runner.invoke(args=args)
        assert "Traceback" not in result.output, result.output
    assert_converged(media_dir)
    assert kept <= referenced_keys()
    if point == "commit.files_to_delete":
        assert referenced_keys() == kept  # the withdrawal committed: its files are gone


@pytest.mark.timeout(300)
@pytest.mark.parametrize("recovery", RECOVERIES)
def test_killed_while_making_the_silenced_copy_the_archive_converges_T05_F02(
    recovery: str,
    app: Flask,
    app_config: dict[str, Any],
    media_dir: Path,
    runner: FlaskCliRunner,
    curator_client: Any,
) -> None:
    """The curator withholds a passage: the page answers at once and the silenced copy is a job.
    The worker is SIGKILLed after the copy's file was stored, before its row said so: the public
    hears nothing of the recording meanwhile (never the withheld seconds); the file is removed by
    recovery (the worker's own start, ``sweep`` or ``check --repair``) and the job, its lease
    passed, runs again and makes the copy (or finds that ``check --repair`` made it)."""
    from nuevonorte import stories, transcripts
    from nuevonorte.jobs import worker
    from nuevonorte.models import Job, JobKind, JobState
    from tests.curate_fixtures import post
    from tests.stopped_process import WORKER, stopped_at

    receipt = receive(
        Contribution(
            body="Relato con voz.",
            choices=ConsentChoices(visibility=Visibility.PUBLIC, credit_name="Lupe", voice_public=True),
            consent_language="es",
        ),
        [io.BytesIO(media_samples.wav(seconds=4.0))],
    )
    stories.publish(receipt.story, None)
    media = receipt.story.media[0]
    transcripts.set_cues(
        media, transcripts.parse("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nCalle.\n"), "es", None
    )  # type: ignore[arg-type]
    db.session.commit()
    story_id, media_id = receipt.story.public_id, media.public_id
    url = f"/curate/stories/{story_id}/media/{media_id}/transcript"
    row = {"rows": "1", "start_0": "0:01", "end_0": "0:02", "text_0": "Calle.", "restricted_0": "1"}
    assert post(curator_client, url, row, page=url).status_code == 302
    kept = referenced_keys()
    db.session.remove()

    proc = stopped_at(WORKER, {**app_config, "job_lease_seconds": 2}, "withheld_audio.stored")
    proc.kill()
    proc.wait()
    left = {p for p in media_dir.rglob("*") if p.is_file() and p.parent.name != ".intents"}
    assert left - {get_storage().path(k) for k in referenced_keys()}, "the kill missed its window"
    # Killed here: the withheld passage is committed, its silenced copy is not recorded.
    public = app.test_client()
    with public.get(f"/media/{media_id}/original") as response:
        assert response.status_code == 404
    db.session.rollback()
    time.sleep(2.2)  # the dead worker's lease passes

    if recovery == "sweep":
        assert "Traceback" not in runner.invoke(args=["sweep"]).output
        assert_converged(media_dir)
        assert referenced_keys() == kept
    elif recovery == "check --repair":
        assert runner.invoke(args=["reindex"]).exit_code == 0
        repaired = runner.invoke(args=["check", "--repair"])
        assert repaired.exit_code == 0, repaired.output
    worker.drain(app)  # "worker restart": its start recovers the folder, then it runs the job again
    assert_converged(media_dir)
    db.session.rollback()
    found = db.session.scalar(select(MediaFile).where(MediaFile.public_id == media_id))
    assert found is not None and found.public_audio_key in referenced_keys() - kept
    job = db.session.scalar(select(Job).where(Job.kind == JobKind.SILENCED_COPY))
    assert job is not None and job.state == JobState.DONE
    with public.get(f"/media/{media_id}/original") as response:
        assert response.status_code == 200


def urllib_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as e:
        return e.code


@pytest.mark.timeout(300)
@pytest.mark.parametrize("point", ["publication.noted", "commit.files_to_delete"])
def test_killed_around_a_withdrawals_commit_harvesters_learn_exactly_what_happened_C25(
    point: str,
    app: Flask,
    app_config: dict[str, Any],
    client: Any,
    tmp_path: Path,
    servers: list[Server],
) -> None:
    """A published story is withdrawn from "my stories" by a real gunicorn worker, SIGKILLed
    just before the transaction commits (its public record already written in it) or just
    after. Before the commit, nothing of it was saved but the withdrawal ledger's line (T14);
    the next request makes the withdrawal again, record included. Either way OAI-PMH then gives
    a deleted header, and the story is withdrawn: never one without the other."""
    receipt = committed(photo(1))
    stories.publish(receipt.story, None)
    db.session.commit()
    public_id = receipt.story.public_id
    server = Server(app_config, tmp_path, fault=f"{point}=stop")
    servers.append(server)
    browser = Browser(server)
    status, _ = browser.post("/es/my-stories", {"code": receipt.code})
    assert status == 200
    answers = send_in_background(browser, f"/es/my-stories/{public_id}/withdraw", {"confirm": "y"})
    worker = server.stopped_worker(answers)
    server.proc.kill()
    server.proc.wait()
    os.kill(worker, signal.SIGKILL)
    wait_dead(worker)
    db.session.rollback()
    story = db.session.scalar(select(Story).where(Story.public_id == public_id))
    assert story is not None
    assert (story.status == StoryStatus.WITHDRAWN) == (point == "commit.files_to_delete")
    args = {"verb": "GetRecord", "identifier": f"oai:localhost:{public_id}", "metadataPrefix": "oai_dc"}
    document = oai_schemas.validate(client.get("/oai", query_string=args).data)
    header = document.find("o:GetRecord/o:record/o:header", {"o": oai_schemas.OAI})
    assert header is not None and header.get("status") == "deleted"
    db.session.rollback()
    assert (
        db.session.scalar(select(Story.status).where(Story.public_id == public_id)) == StoryStatus.WITHDRAWN
    )
    # The change feed too: the numbers the killed transaction took died with it (its lock on
    # the counter with its connection), and the withdrawal made again took the next ones.
    feed = client.get("/api/v1/changes").get_json()
    db.session.rollback()
    assert [(c["id"], c["change"]) for c in feed["changes"]] == [(public_id, "removed")]
    assert db.session.scalar(select(ChangeCounter.value)) == int(feed["next"])
    atom = client.get("/es/feed.atom").get_data(as_text=True)
    assert f'deleted-entry ref="http://localhost/s/{public_id}"' in atom
