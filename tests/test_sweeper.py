"""F01: temporary files of uploads interrupted by a killed process are swept; nothing else is.

A real process is SIGKILLed while an upload streams into storage; its leftover temporary file
is aged with ``os.utime`` and removed by ``nuevonorte sweep`` (and ``check``), while a fresh
temporary file (an upload in progress elsewhere) and stored files stay. The gunicorn variant,
killing a worker mid-image-processing and restarting, is in ``test_upload_server.py``.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from nuevonorte import create_app, stories
from nuevonorte.config import ConfigError
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.media import ingest_upload
from nuevonorte.models import MediaFile, Story
from nuevonorte.storage import TEMP_DIR, get_storage
from tests import media_samples

PROJECT = Path(__file__).parent.parent
HOUR = 3600


def age(path: Path, seconds: float) -> None:
    """Make ``path`` look last written ``seconds`` ago."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def committed_media(app: Flask) -> list[str]:
    """A committed story with one photo; returns its stored keys."""
    story = stories.submit(
        None,
        body="b",
        title="t",
        language="es",
        choices=ConsentChoices(credit_name="A"),
        consent_language="es",
    )
    media, _report = ingest_upload(story, io.BytesIO(media_samples.jpeg()))
    db.session.commit()
    return media.storage_keys()


def test_sweep_removes_only_old_temporary_files_F01(app: Flask) -> None:
    """Old leftovers go; a fresh one (in use) stays; stored files (mtime 0, M16) are never touched."""
    storage = get_storage()
    keys = committed_media(app)
    assert all(storage.path(k).stat().st_mtime == 0 for k in keys)
    with storage.temp_file() as old, storage.temp_file() as fresh:
        old.write(b"interrupted")
        fresh.write(b"in progress")
    age(Path(old.name), HOUR + 1)
    age(Path(fresh.name), HOUR - 60)
    assert storage.sweep_temp_files(HOUR) == [Path(old.name)]
    assert storage.temp_files() == [Path(fresh.name)]
    assert all(storage.verify(k) for k in keys)
    assert storage.sweep_temp_files(HOUR) == []


KILLED_UPLOAD = textwrap.dedent(
    """
    import json, sys
    from nuevonorte import create_app, stories
    from nuevonorte.consent import ConsentChoices
    from nuevonorte.extensions import db
    from nuevonorte.media import ingest_upload

    app = create_app(json.loads(sys.argv[1]))
    with app.app_context():
        story = stories.submit(None, body="x", title="t", language="es",
                               choices=ConsentChoices(credit_name="A"), consent_language="es")
        db.session.flush()
        print("ready", flush=True)
        ingest_upload(story, sys.stdin.buffer)  # streams from the pipe until the parent kills us
        db.session.commit()
    """
)


@pytest.mark.timeout(120)
def test_process_killed_mid_upload_leaves_a_temp_file_that_sweep_removes_F01(
    app_config: dict, app: Flask, runner: FlaskCliRunner
) -> None:
    """SIGKILL mid-upload: no row, a partial temp file; `sweep` removes it once old, `check` agrees."""
    storage = get_storage()
    keys = committed_media(app)
    with storage.temp_file() as fresh:
        fresh.write(b"another worker's upload in progress")
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_UPLOAD, json.dumps(app_config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=PROJECT,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
        assert child.stdin is not None
        child.stdin.write(media_samples.wav(seconds=50)[: 1536 * 1024])  # 1.5 MB, then nothing more
        child.stdin.flush()
        deadline = time.monotonic() + 60
        while not [p for p in storage.temp_files() if p.name != Path(fresh.name).name and p.stat().st_size]:
            assert time.monotonic() < deadline and child.poll() is None, "the upload never reached storage"
            time.sleep(0.01)
    finally:
        child.kill()  # SIGKILL: no finally block, no atexit, no cleanup of any kind
        child.wait()
        for pipe in (child.stdin, child.stdout):
            if pipe:
                pipe.close()
    assert child.returncode == -9
    leftovers = [p for p in storage.temp_files() if p.name != Path(fresh.name).name]
    assert len(leftovers) == 1 and leftovers[0].stat().st_size >= 1024 * 1024
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Story)) == 1  # only the committed one
    assert db.session.scalar(select(func.count()).select_from(MediaFile)) == 1

    # Fresh, it may still be in use: the sweeper leaves it, and check does not call it a problem.
    assert "No temporary files" in runner.invoke(args=["sweep"]).output
    assert leftovers[0].exists()
    age(leftovers[0], HOUR + 1)
    result = runner.invoke(args=["sweep"])
    assert result.exit_code == 0 and "Removed 1 temporary file(s)" in result.output
    assert not leftovers[0].exists() and Path(fresh.name).exists()
    assert all(storage.verify(k) for k in keys)
    assert runner.invoke(args=["reindex"]).exit_code == 0
    result = runner.invoke(args=["check", "--verify-content"])
    assert result.exit_code == 0, result.output  # no row without file, no file without row


def test_check_sweeps_old_temp_files_and_still_reports_rows_and_files_that_disagree_F01(
    app: Flask, runner: FlaskCliRunner
) -> None:
    """Reconciliation: a row without its file and a file without a row are reported (exit 1)."""
    storage = get_storage()
    keys = committed_media(app)
    storage.path(keys[0]).unlink()  # DB without file
    orphan = storage.put_bytes(b"nobody claims me", "jpg")  # file without DB
    with storage.temp_file() as leftover:
        leftover.write(b"interrupted")
    age(Path(leftover.name), HOUR + 1)
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert "Removed 1 temporary file(s)" in result.output
    assert "missing-file: " in result.output and keys[0] in result.output
    assert f"orphan-file: {orphan}" in result.output
    assert "temporary-file" not in result.output
    assert not Path(leftover.name).exists()


def test_the_sweep_age_cannot_be_shorter_than_processing_F01(app_config: dict) -> None:
    """A sweep age under twice the media timeout could remove a file still being processed."""
    with pytest.raises(ConfigError, match="temp_file_max_age_minutes"):
        create_app({**app_config, "temp_file_max_age_minutes": 9, "media_timeout_seconds": 300})
    create_app({**app_config, "temp_file_max_age_minutes": 10, "media_timeout_seconds": 300})


def test_temp_folder_name_is_the_one_storage_writes_to(app: Flask) -> None:
    with get_storage().temp_file() as f:
        assert Path(f.name).parent.name == TEMP_DIR
    Path(f.name).unlink()
