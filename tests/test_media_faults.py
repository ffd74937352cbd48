"""Faults during ingest leave nothing behind; commit keeps files, rollback discards them (F02, F03)."""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from nuevonorte.extensions import db
from nuevonorte.media import MediaRejected, ingest_upload
from nuevonorte.media import ingest as ingest_module
from nuevonorte.storage import Storage, get_storage
from tests import media_samples as samples
from tests.media_fixtures import assert_nothing_left, media_rows


def test_failure_after_the_temporary_write_leaves_nothing_F02(story, monkeypatch):
    """The upload is on disk, then processing cannot start: no temp file, no row."""

    def broken(*args, **kwargs):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(ingest_module.sandbox, "run", broken)
    with pytest.raises(MediaRejected) as caught:
        ingest_upload(story, io.BytesIO(samples.jpeg()))
    assert caught.value.code == "storage_error"
    assert_nothing_left()


def test_failure_after_the_first_stored_file_removes_it_F02(story, monkeypatch):
    """The original is stored, the display copy fails: the original is deleted again."""
    real = Storage.put_file
    calls = []

    def second_fails(self, temp_path, extension, **options):
        calls.append(extension)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, temp_path, extension, **options)

    monkeypatch.setattr(Storage, "put_file", second_fails)
    with pytest.raises(MediaRejected) as caught:
        ingest_upload(story, io.BytesIO(samples.jpeg(samples.picture(2000, 100))))
    assert caught.value.code == "storage_full"
    assert len(calls) == 2
    assert_nothing_left()


def test_failure_at_flush_removes_files_and_the_row_F02(story):
    """The database refuses the row: files are deleted, the error reaches the caller, rollback is clean."""

    def refuse(session, flush_context, instances):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    event.listen(Session, "before_flush", refuse)
    try:
        with pytest.raises(OperationalError):
            ingest_upload(story, io.BytesIO(samples.jpeg()))
    finally:
        event.remove(Session, "before_flush", refuse)
    db.session.rollback()
    assert story.media == []
    assert_nothing_left()


def test_disk_full_while_receiving_the_upload_F03(story, monkeypatch):
    """ENOSPC while streaming the upload to disk: 'storage_full', no partial file."""
    real = Storage.temp_file

    def filling(self):
        f = real(self)
        written = []

        def write(data):
            written.append(len(data))
            if sum(written) > 1000:
                raise OSError(errno.ENOSPC, "No space left on device")
            return f.file.write(data)

        f.write = write
        return f

    monkeypatch.setattr(Storage, "temp_file", filling)
    monkeypatch.setattr(ingest_module, "CHUNK", 512)
    with pytest.raises(MediaRejected) as caught:
        ingest_upload(story, io.BytesIO(samples.wav()))
    assert caught.value.code == "storage_full"
    assert_nothing_left()


def test_disk_full_from_rlimit_fsize_in_a_real_process_F03(tmp_path):
    """RLIMIT_FSIZE with SIGXFSZ ignored: the write fails with EFBIG, mapped to 'storage_full'."""
    script = textwrap.dedent(
        f"""
        import io, resource, signal, sys
        sys.path.insert(0, {os.getcwd()!r})
        from nuevonorte import create_app, stories
        from nuevonorte.consent import ConsentChoices
        from nuevonorte.extensions import db
        from nuevonorte.media import MediaRejected, ingest_upload
        from nuevonorte.storage import get_storage
        from tests import media_samples as samples
        app = create_app({{"TESTING": True, "secret_key": "k" * 40,
                          "database_url": "sqlite:///{tmp_path}/db.sqlite3",
                          "media_dir": "{tmp_path}/media"}})
        with app.app_context():
            db.create_all()
            story = stories.submit(None, body="x", title="t", language="es",
                                   choices=ConsentChoices(credit_name="A"), consent_language="es")
            db.session.commit()
            data = samples.wav(seconds=20)
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
            try:
                ingest_upload(story, io.BytesIO(data))
                print("accepted")
            except MediaRejected as e:
                print(e.code)
            storage = get_storage()
            print(len(list(storage.keys())), len(storage.temp_files()))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["storage_full", "0", "0"]


def test_files_stay_after_commit_and_go_after_rollback_F02(story):
    """Commit: row and files exist. Rollback of a later ingest: its files are discarded."""
    storage = get_storage()
    media, _ = ingest_upload(story, io.BytesIO(samples.jpeg()))
    db.session.commit()
    kept = media.storage_keys()
    assert all(storage.exists(k) for k in kept) and media_rows() == 1

    other, _ = ingest_upload(story, io.BytesIO(samples.png(samples.picture(50, 50))))
    dropped = other.storage_keys()
    assert all(storage.exists(k) for k in dropped)
    db.session.rollback()
    assert not any(storage.exists(k) for k in dropped)
    assert all(storage.exists(k) for k in kept) and media_rows() == 1
    assert storage.temp_files() == []


def test_same_content_twice_shares_files_and_a_rollback_keeps_the_first(story):
    """Files are named by content: a rolled-back duplicate must not delete the committed copy."""
    storage = get_storage()
    data = samples.jpeg()
    first, _ = ingest_upload(story, io.BytesIO(data))
    db.session.commit()
    second, _ = ingest_upload(story, io.BytesIO(data), position=5)
    assert second.storage_key == first.storage_key and second.position == 5
    db.session.rollback()
    assert all(storage.exists(k) for k in first.storage_keys())


def test_client_disconnect_while_reading_keeps_its_meaning_and_leaves_nothing_U09(story):
    """Werkzeug's ClientDisconnected (a 400) passes through; the partial temporary file is removed."""
    from werkzeug.exceptions import ClientDisconnected

    class Disconnecting(io.BytesIO):
        def read(self, size=-1):
            if self.tell() > 0:
                raise ClientDisconnected()
            return super().read(1000)

    with pytest.raises(ClientDisconnected):
        ingest_upload(story, Disconnecting(samples.wav()))
    assert_nothing_left()
