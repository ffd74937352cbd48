"""Media in an S3-compatible bucket (issue 21, decision 0027), against a real server (``rclone
serve s3``) whose folder the tests read: a photo is cleaned, stored as objects and served through
``/media/`` only (Range answered); a withdrawal deletes the objects' bytes from the service's
disk; a rolled-back upload leaves nothing; a process killed between storing and committing is
recovered; an object no row names is found and removed by ``check --repair``; a bucket that
keeps deleted bytes (versioning) is refused at start."""

from __future__ import annotations

import io
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from nuevonorte import create_app, object_storage, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.media import ingest_upload
from nuevonorte.models import MediaFile, Story
from nuevonorte.object_storage import CHUNK, ObjectStorage
from nuevonorte.storage import StorageError, get_storage
from tests import media_samples
from tests.conftest import IsolatedClient
from tests.s3_server import S3Server
from tests.stopped_process import stopped_at

MakeStory = Callable[..., Story]


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    return s3_server.bucket()


@pytest.fixture
def s3_config(app_config: dict[str, Any], s3_server: S3Server, bucket: str) -> dict[str, Any]:
    """The test's settings (``app`` is made from them), with its media in the bucket."""
    app_config.update(s3_server.settings(bucket))
    return app_config


@pytest.fixture
def s3_app(s3_config: dict[str, Any], request: pytest.FixtureRequest) -> Flask:
    """The test's archive (``app``, and so ``make_story`` and ``runner``), media in the bucket."""
    app: Flask = request.getfixturevalue("app")
    app.test_client_class = IsolatedClient
    return app


def referenced() -> set[str]:
    db.session.rollback()
    return {k for m in db.session.scalars(select(MediaFile)) for k in m.storage_keys()}


def stored_files(app: Flask) -> set[str]:
    """What the media folder holds on this machine, temporary files and intents left aside."""
    root = Path(app.config["MEDIA_DIR"])
    return {p.name for p in root.rglob("*") if p.is_file() and p.parent.name not in (".tmp", ".intents")}


def photo(quality: int = 90) -> bytes:
    """A photo large enough to have a display size and a thumbnail of its own."""
    return media_samples.jpeg(media_samples.picture(1800, 1200), quality=quality)


def public_photo_story(make_story: MakeStory) -> tuple[Story, MediaFile]:
    story = make_story(choices=ConsentChoices(credit_name="Rosa", photos_public=True), body="Una foto.")
    media, _report = ingest_upload(story, io.BytesIO(photo()))
    db.session.commit()
    return story, media


def test_a_photo_lives_in_the_bucket_is_served_through_the_app_and_leaves_with_a_withdrawal_M16_T22(
    s3_app: Flask, s3_server: S3Server, bucket: str, make_story: MakeStory
) -> None:
    story, media = public_photo_story(make_story)
    keys = set(media.storage_keys())
    assert len(keys) == 3
    held = s3_server.files(bucket)
    assert set(held) == keys  # the objects, on the service's own disk
    assert stored_files(s3_app) == set()  # nothing stored on the web machine
    client = s3_app.test_client()
    original = held[media.storage_key]
    whole = client.get(f"/media/{media.public_id}/original")
    assert whole.status_code == 200 and whole.data == original
    assert whole.headers["Content-Length"] == str(len(original))
    assert whole.headers["X-Content-Type-Options"] == "nosniff"
    assert "Last-Modified" not in whole.headers  # the object's time stays with the service
    part = client.get(f"/media/{media.public_id}/original", headers={"Range": "bytes=10-99"})
    assert part.status_code == 206 and part.data == original[10:100]
    assert part.headers["Content-Range"] == f"bytes 10-99/{len(original)}"
    etag = whole.headers["ETag"]
    assert (
        client.get(f"/media/{media.public_id}/original", headers={"If-None-Match": etag}).status_code == 304
    )

    stories.withdraw(story)
    db.session.commit()
    assert client.get(f"/media/{media.public_id}/original").status_code == 404
    assert s3_server.files(bucket) == {}  # the bytes are gone from the service's disk
    assert not any(original[:4096] in data for data in s3_server.files(bucket).values())


def test_an_object_read_in_ranges_gives_back_every_byte(s3_app: Flask) -> None:
    """Reads across the reader's pieces, seeks forth and back, and the sandbox's local copy."""
    storage = get_storage()
    assert isinstance(storage, ObjectStorage)
    data = random.Random(7).randbytes(2 * CHUNK + 12345)
    key = storage.put_bytes(data, "wav")
    with storage.open(key) as reader:
        assert reader.read(100) == data[:100]
        reader.seek(CHUNK - 10)
        assert reader.read(20) == data[CHUNK - 10 : CHUNK + 10]
        reader.seek(-5, os.SEEK_END)
        assert reader.read() == data[-5:]
        reader.seek(0)
        assert reader.read() == data
    assert storage.size(key) == len(data) and storage.verify(key)
    with storage.local_copy(key) as path:
        assert Path(path).read_bytes() == data
    assert not Path(path).exists()  # the downloaded copy goes with the block
    storage.delete(key)
    assert not storage.exists(key)
    with pytest.raises(FileNotFoundError):
        storage.open(key)
    with pytest.raises(StorageError):
        storage.path(key)  # a bucket's media have no path to hand out


def test_a_rolled_back_upload_leaves_nothing_in_the_bucket_F01(
    s3_app: Flask, s3_server: S3Server, bucket: str, make_story: MakeStory
) -> None:
    story = make_story(choices=ConsentChoices(credit_name="Rosa", photos_public=True))
    ingest_upload(story, io.BytesIO(photo()))
    assert len(s3_server.files(bucket)) == 3
    db.session.rollback()
    assert s3_server.files(bucket) == {}


def test_killed_between_storing_and_committing_the_bucket_converges_F01(
    s3_app: Flask,
    s3_config: dict[str, Any],
    s3_server: S3Server,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGKILL after the first of two photos of a contribution was stored, before any row:
    recovery (a worker's start, or ``check --repair``) deletes exactly what no row names."""
    script = """
import io, json, os
from nuevonorte import create_app
from nuevonorte.consent import ConsentChoices
from nuevonorte.contributions import Contribution, receive
from nuevonorte.extensions import db
from nuevonorte.models import Visibility
from tests import media_samples
app = create_app(json.loads(os.environ["NN_TEST_CONFIG"]))
with app.app_context():
    c = Contribution(body="Dos fotos.", choices=ConsentChoices(visibility=Visibility.PUBLIC,
                     credit_name="Lupe"), consent_language="es")
    p = media_samples.picture(1800, 1200)
    receive(c, [io.BytesIO(media_samples.jpeg(p)), io.BytesIO(media_samples.jpeg(p, quality=70))])
    db.session.commit()
"""
    proc = stopped_at(script, s3_config, "contribution.file_stored")
    assert len(s3_server.files(bucket)) == 3  # the first photo's three objects, no row
    proc.kill()
    proc.wait()
    from nuevonorte.recovery import recover

    # Just written: another machine's writer may be about to name the same content, so the
    # objects are kept until they are older than the grace period.
    assert recover(get_storage()).files == []
    assert len(s3_server.files(bucket)) == 3
    monkeypatch.setattr(object_storage, "RECOVER_GRACE_S", 0)
    assert len(recover(get_storage()).files) == 3
    assert s3_server.files(bucket) == {} and referenced() == set()


def test_check_repair_removes_objects_no_row_names(
    s3_app: Flask,
    s3_server: S3Server,
    bucket: str,
    make_story: MakeStory,
    runner: FlaskCliRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _story, media = public_photo_story(make_story)
    orphan = get_storage().put_bytes(photo(quality=60), "jpg")
    assert orphan in s3_server.files(bucket)
    runner.invoke(args=["check", "--repair"])
    assert orphan in s3_server.files(bucket)  # too young: maybe another machine's upload
    monkeypatch.setattr(object_storage, "RECOVER_GRACE_S", 0)
    result = runner.invoke(args=["check", "--repair"])
    assert "Traceback" not in result.output, result.output
    assert set(s3_server.files(bucket)) == set(media.storage_keys()) == referenced()


def test_a_file_the_bucket_cannot_delete_after_the_commit_is_deleted_by_recover_F01(
    s3_app: Flask, s3_server: S3Server, bucket: str, make_story: MakeStory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The withdrawal commits while the bucket is out of reach: the answer is not an error, and
    the transaction's intent is kept, so ``recover`` deletes the files once the bucket answers."""
    story, media = public_photo_story(make_story)
    storage = get_storage()
    assert isinstance(storage, ObjectStorage)
    reachable = storage.client
    storage.client = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",  # nothing listens: connection refused
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    try:
        stories.withdraw(story)
        db.session.commit()  # no exception: the rows are gone, the files wait
    finally:
        storage.client = reachable
    assert set(s3_server.files(bucket)) == set(media.storage_keys())
    monkeypatch.setattr(object_storage, "RECOVER_GRACE_S", 0)
    from nuevonorte.recovery import recover

    assert sorted(recover(storage).files) == sorted(media.storage_keys())
    assert s3_server.files(bucket) == {}


@pytest.mark.parametrize("status", ["Enabled", "Suspended"])
def test_a_bucket_that_keeps_deleted_bytes_is_refused_T22(s3_app: Flask, status: str) -> None:
    """rclone's server has no versioning, so the bucket's answer is given by botocore's Stubber:
    the one answer the real server cannot give."""
    storage = get_storage()
    assert isinstance(storage, ObjectStorage)
    storage.check_bucket()  # the real server: no versioning, accepted
    with Stubber(storage.client) as stub:
        stub.add_response("head_bucket", {}, {"Bucket": storage.bucket})
        stub.add_response("get_bucket_versioning", {"Status": status}, {"Bucket": storage.bucket})
        with pytest.raises(StorageError, match="versioning"):
            storage.check_bucket()


def test_an_unreachable_bucket_stops_the_archive_from_starting(app_config: dict[str, Any]) -> None:
    config = {
        **app_config,
        "media_storage": "s3",
        "s3_endpoint": "http://127.0.0.1:9",
        "s3_bucket": "nowhere",
        "s3_access_key": "x",
        "s3_secret_key": "y",
    }
    with pytest.raises(StorageError, match="cannot be reached"):
        create_app(config)
