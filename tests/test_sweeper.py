"""F01, T08: temporary files of uploads interrupted by a killed process are swept; nothing else is.

A real process is SIGKILLed while an upload streams into storage; its leftover temporary file
is no longer locked by any process and is removed at once by ``nuevonorte sweep`` (and
``check``), while a temporary file still held open (an upload in progress elsewhere) and stored
files stay. The gunicorn variants, killing a worker at named steps and restarting, are in
``test_upload_server.py`` and ``test_crash_recovery.py``.
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


def test_sweep_removes_abandoned_temporary_files_at_once_and_never_one_in_use_F01_T08(app: Flask) -> None:
    """A temp file nobody holds goes at once, however young; one held open (locked) stays, however
    old; stored files (mtime 0, M16) are never touched."""
    storage = get_storage()
    keys = committed_media(app)
    assert all(storage.path(k).stat().st_mtime == 0 for k in keys)
    with storage.temp_file() as abandoned:
        abandoned.write(b"interrupted a second ago")
    in_use = storage.temp_file()
    try:
        in_use.write(b"in progress for hours")
        age(Path(in_use.name), 10 * HOUR)
        assert storage.sweep_temp_files() == [Path(abandoned.name)]
        assert storage.temp_files() == [Path(in_use.name)]
        assert all(storage.verify(k) for k in keys)
        assert storage.sweep_temp_files() == []
    finally:
        in_use.close()
    assert storage.sweep_temp_files() == [Path(in_use.name)]


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
def test_process_killed_mid_upload_leaves_a_temp_file_that_sweep_removes_at_once_F01_T08(
    app_config: dict, app: Flask, runner: FlaskCliRunner
) -> None:
    """SIGKILL mid-upload: no row, a partial temp file; `sweep` removes it at once (not after an
    hour: the raw upload still holds its metadata), `check` agrees."""
    storage = get_storage()
    keys = committed_media(app)
    fresh = storage.temp_file()  # held open: another worker's upload in progress
    fresh.write(b"another worker's upload in progress")
    fresh.flush()
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

    # No process holds it any more: the sweeper removes it at once; the one in use stays.
    result = runner.invoke(args=["sweep"])
    assert result.exit_code == 0 and "Removed 1 temporary file(s)" in result.output
    assert not leftovers[0].exists() and Path(fresh.name).exists()
    assert all(storage.verify(k) for k in keys)
    assert runner.invoke(args=["reindex"]).exit_code == 0
    result = runner.invoke(args=["check", "--verify-content"])
    assert result.exit_code == 0, result.output  # no row without file, no file without row
    assert Path(fresh.name).exists()  # check does not take a file in use either
    fresh.close()


def test_check_sweeps_temp_files_and_still_reports_rows_and_files_that_disagree_F01(
    app: Flask, runner: FlaskCliRunner
) -> None:
    """Reconciliation: a row without its file and a file without a row are reported (exit 1);
    ``--repair`` deletes the file no row references (T08) and reports the missing one still."""
    storage = get_storage()
    keys = committed_media(app)
    storage.path(keys[0]).unlink()  # DB without file
    orphan = storage.put_bytes(b"nobody claims me", "jpg")  # file without DB
    with storage.temp_file() as leftover:
        leftover.write(b"interrupted")
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert "Removed 1 temporary file(s)" in result.output
    assert "missing-file: " in result.output and keys[0] in result.output
    assert f"orphan-file: {orphan}" in result.output
    assert "temporary-file" not in result.output
    assert not Path(leftover.name).exists()

    result = runner.invoke(args=["check", "--repair"])
    assert result.exit_code == 1  # a missing file cannot be repaired: it stays reported
    assert "Removed 1 stored file(s)" in result.output and "orphan-file" not in result.output
    assert not storage.exists(orphan) and "missing-file: " in result.output
    assert all(storage.exists(k) for k in set(keys) - {keys[0]})


def test_recovery_keeps_files_a_living_process_claimed_T08(app: Flask) -> None:
    """A living writer's intent (locked) protects its keys, even ones no row references yet;
    a dead one's intent (unlocked) gets its unreferenced keys deleted and referenced ones kept."""
    from nuevonorte.recovery import recover

    storage = get_storage()
    keys = committed_media(app)
    claimed = storage.put_bytes(b"stored by a living worker, not committed yet", "jpg")
    abandoned = storage.put_bytes(b"stored by a worker that was killed", "jpg")
    living = storage.intent()
    living.add([claimed])
    dead = storage.intent()
    dead.add([abandoned, keys[0]])
    os.close(dead.fd)  # what a kill does: the lock goes, the file stays
    assert recover(storage).files == [abandoned]
    assert storage.exists(claimed) and all(storage.exists(k) for k in keys)
    assert not dead.path.exists() and living.path.exists()
    os.close(living.fd)  # now the living writer is killed too
    assert recover(storage).files == [claimed]


def test_the_sweep_age_cannot_be_shorter_than_processing_F01(app_config: dict) -> None:
    """A sweep age under twice the media timeout could remove a file still being processed."""
    with pytest.raises(ConfigError, match="temp_file_max_age_minutes"):
        create_app({**app_config, "temp_file_max_age_minutes": 9, "media_timeout_seconds": 300})
    create_app({**app_config, "temp_file_max_age_minutes": 10, "media_timeout_seconds": 300})


def test_temp_folder_name_is_the_one_storage_writes_to(app: Flask) -> None:
    with get_storage().temp_file() as f:
        assert Path(f.name).parent.name == TEMP_DIR
    Path(f.name).unlink()
