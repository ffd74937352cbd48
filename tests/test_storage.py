"""Storage (nuevonorte/storage.py): the only way from a media key to a file path."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from flask import Flask

from nuevonorte.extensions import db
from nuevonorte.storage import Storage, StorageError, discard_after_rollback, get_storage


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "..\\..\\win.ini",
        "/abs/path.jpg",
        "a" * 64 + ".php",
        "a" * 64 + ".jpg.php",
        "a" * 64 + ".jpg\x00.php",
        "A" * 64 + ".jpg",
        "a" * 63 + ".jpg",
        "",
        "a" * 64 + ".jpg/../../x",
    ],
)
def test_anything_that_is_not_a_storage_key_is_refused(app: Flask, key: str) -> None:
    """U03, U04: names from outside never become paths."""
    with pytest.raises(StorageError):
        get_storage().path(key)


def test_put_bytes_names_the_file_by_its_content_hash(app: Flask) -> None:
    storage = get_storage()
    key = storage.put_bytes(b"clean bytes", "jpg")
    assert key == hashlib.sha256(b"clean bytes").hexdigest() + ".jpg"
    path = storage.path(key)
    assert path.read_bytes() == b"clean bytes"
    assert path.parent.name == key[:2]
    assert oct(path.stat().st_mode)[-3:] == "600"
    assert path.stat().st_mtime == 0, "storage times must not reveal when someone contributed (M16)"
    assert storage.verify(key)
    assert list(storage.keys()) == [key]
    assert storage.temp_files() == []


def test_identical_content_is_stored_once(app: Flask) -> None:
    storage = get_storage()
    assert storage.put_bytes(b"same", "jpg") == storage.put_bytes(b"same", "jpg")
    assert len(list(storage.keys())) == 1


def test_a_symlink_in_storage_is_refused(app: Flask, tmp_path: Path) -> None:
    """U04: a planted symlink never leads a read outside the media folder."""
    storage = get_storage()
    key = storage.put_bytes(b"x", "jpg")
    path = storage.path(key)
    path.unlink()
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    os.symlink(outside, path)
    with pytest.raises(StorageError):
        storage.path(key)


def test_open_refuses_what_path_refuses_and_never_waits_on_a_pipe(app: Flask, tmp_path: Path) -> None:
    """U04: ``open`` (each public media request) checks as it opens instead of resolving the
    path: a planted symlink (the file, or its whole shard folder) and anything but a regular
    file are refused; a FIFO is refused at once rather than waited on."""
    storage = get_storage()
    kept = storage.put_bytes(b"kept bytes", "jpg")
    with storage.open(kept) as f:
        assert f.read() == b"kept bytes"
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    linked = storage.put_bytes(b"linked", "png")
    storage.path(linked).unlink()
    os.symlink(outside, storage.root / linked[:2] / linked)
    piped = storage.put_bytes(b"piped", "webp")
    storage.path(piped).unlink()
    os.mkfifo(storage.root / piped[:2] / piped)
    shard_key = "ee" * 32 + ".jpg"
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / shard_key).write_bytes(b"outside the media folder")
    if not (storage.root / "ee").exists():
        os.symlink(tmp_path / "elsewhere", storage.root / "ee")
    for refused in (linked, piped, shard_key, "../../etc/passwd"):
        with pytest.raises(StorageError):
            storage.open(refused)
    with pytest.raises(FileNotFoundError):
        storage.open("ab" * 32 + ".mp3")


def test_sizes_counts_what_path_would_accept_and_nothing_else(app: Flask, tmp_path: Path) -> None:
    """U04: the backup's listing of many keys at once sees a planted symlink (a file, or a whole
    shard folder) as missing, as ``path`` refuses it; a well-formed key with no file is absent."""
    storage = get_storage()
    kept = storage.put_bytes(b"kept bytes", "jpg")
    planted = storage.put_bytes(b"planted", "png")
    outside = tmp_path / "outside.txt"
    outside.write_text("secret, and longer than the planted file")
    storage.path(planted).unlink()
    os.symlink(outside, storage.root / planted[:2] / planted)
    shard_key = "ee" * 32 + ".jpg"
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / shard_key).write_bytes(b"outside the media folder")
    if not (storage.root / "ee").exists():
        os.symlink(tmp_path / "elsewhere", storage.root / "ee")
    absent = "ab" * 32 + ".mp3"
    found = storage.sizes([kept, planted, shard_key, absent, "../../etc/passwd"])
    assert found == {kept: len(b"kept bytes")}


@pytest.mark.parametrize("root", ["relative/media", "media"])
def test_a_relative_storage_root_is_refused(root: str) -> None:
    """F17: fail closed."""
    with pytest.raises(StorageError, match="absolute"):
        Storage(root)


def test_files_written_for_a_transaction_that_rolls_back_are_discarded(app: Flask) -> None:
    """F02: a failed submission leaves no orphan file."""
    storage = get_storage()
    key = storage.put_bytes(b"uploaded then abandoned", "jpg")
    discard_after_rollback(db.session(), storage, [key])
    db.session.rollback()
    assert not storage.exists(key)


def test_files_written_for_a_transaction_that_commits_are_kept(app: Flask) -> None:
    storage = get_storage()
    key = storage.put_bytes(b"kept", "jpg")
    discard_after_rollback(db.session(), storage, [key])
    db.session.commit()
    db.session.rollback()  # a later, unrelated rollback must not touch it
    assert storage.exists(key)


def test_ensure_makes_folders_private(app: Flask) -> None:
    storage = get_storage()
    storage.ensure()
    assert oct(storage.root.stat().st_mode)[-3:] == "700"
