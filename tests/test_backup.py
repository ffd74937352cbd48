"""`nuevonorte backup DEST`: encrypted, incremental, and never half-written
(docs/security.md F16, B01–B06)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pyrage
import pytest

from nuevonorte.backups import BackupError
from nuevonorte.backups.layout import CONFIG, Dest
from nuevonorte.backups.make import backup
from nuevonorte.backups.restore import restore
from nuevonorte.storage import get_storage
from tests.backup_fixtures import (
    PHOTO,
    PRIVATE_TITLE,
    PRIVATE_WORD,
    PUBLIC_TITLE,
    PUBLIC_WORD,
    RECORDING,
    Deployments,
    Keys,
    add_story,
    fill,
)
from tests.conftest import TEST_SECRET
from tests.stopped_process import stopped_at
from tests.support import require


def objects(dest: Path) -> set[str]:
    return {p.name for p in (dest / "objects").glob("??/*.age")}


def every_file(dest: Path) -> list[Path]:
    return [p for p in dest.rglob("*") if p.is_file()]


def test_backup_refuses_without_recipients_B02(deployments: Deployments, tmp_path: Path) -> None:
    """No age recipient configured: a clear one-line refusal (exit 2), nothing written."""
    archive = deployments.new("old")
    result = archive.app.test_cli_runner().invoke(args=["backup", str(tmp_path / "dest")])
    assert result.exit_code == 2, result.output
    assert "no backup_recipients are configured" in result.output
    assert not (tmp_path / "dest").exists()


def test_a_second_backup_copies_only_new_media_B03(
    deployments: Deployments, keys: Keys, tmp_path: Path
) -> None:
    """The second backup into the same folder writes only the new story's files; each snapshot
    lists every file it needs."""
    archive = deployments.new("old", [keys.recipient])
    fill(archive)
    dest = tmp_path / "dest"
    with archive.context():
        first = backup(dest)
        stored_first = len(list(get_storage().keys()))
    assert first.objects == first.objects_written == stored_first == len(objects(dest))
    add_story(archive, "tlacotepeco")
    with archive.context():
        second = backup(dest)
        stored_second = len(list(get_storage().keys()))
    new_files = stored_second - stored_first
    assert new_files >= 1
    assert second.objects_written == new_files and second.objects == stored_second
    assert len(objects(dest)) == stored_second
    assert Dest(dest).snapshot_names() == sorted([first.snapshot.name, second.snapshot.name])


def test_the_backed_up_config_has_no_secret_key_B04(
    deployments: Deployments, keys: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The configuration in the backup (decrypted) has the settings a new server needs, but not
    the secret key nor the database password; no file of the backup holds either's bytes."""
    secret = "a-secret-key-only-this-server-knows-" + "7" * 20
    config_file = tmp_path / "config.toml"
    config_file.write_text(
        f'secret_key = "{secret}"\n'
        'public_url = "https://archivo.example.org"\n'
        'database_url = "postgresql+psycopg://nuevonorte:hunter2-db-password@db.example.org/nn"\n'
        f'backup_recipients = ["{keys.recipient}"]\n'
    )
    monkeypatch.setenv("NUEVONORTE_CONFIG", str(config_file))
    monkeypatch.delenv("NUEVONORTE_DATABASE_URL", raising=False)  # the file's URL, not the test run's
    archive = deployments.new("old", [keys.recipient])
    dest = tmp_path / "dest"
    with archive.context():
        made = backup(dest)
    identity = pyrage.x25519.Identity.from_str(keys.identity_file.read_text().splitlines()[-1])
    plain = pyrage.decrypt((made.snapshot / CONFIG).read_bytes(), [identity])
    restored = tomllib.loads(plain.decode())
    assert restored["public_url"] == "https://archivo.example.org"
    assert restored["backup_recipients"] == [keys.recipient]
    assert restored["database_url"] == "postgresql+psycopg://nuevonorte@db.example.org/nn"
    assert "secret_key" not in restored
    for needle in (secret, TEST_SECRET, "hunter2-db-password"):
        assert needle.encode() not in plain
        for path in every_file(dest):
            assert needle.encode() not in path.read_bytes(), path


def test_no_story_text_or_media_bytes_on_disk_B05(
    deployments: Deployments, keys: Keys, tmp_path: Path
) -> None:
    """Every file under DEST, read as raw bytes: no title, no word of a story, no run of the
    stored photo's or recording's bytes, no plaintext sha256 of a stored file in any name."""
    archive = deployments.new("old", [keys.recipient])
    fill(archive)
    dest = tmp_path / "dest"
    with archive.context():
        backup(dest)
        stored = {key: get_storage().path(key).read_bytes() for key in get_storage().keys()}
    needles = [t.encode() for t in (PUBLIC_TITLE, PRIVATE_TITLE, PUBLIC_WORD, PRIVATE_WORD)]
    for data in stored.values():  # a distinctive run from the middle of every stored file
        needles.append(data[len(data) // 2 : len(data) // 2 + 32])
    needles += [PHOTO[200:232], RECORDING[1000:1032]]
    hashes = [key[:64] for key in stored] + [hashlib.sha256(d).hexdigest() for d in stored.values()]
    files = every_file(dest)
    assert len(files) >= len(stored) + 3
    for path in files:
        data = path.read_bytes()
        assert not [n for n in needles if n in data], path
        assert not [h for h in hashes if h in str(path) or h.encode() in data], path


KILL_SCRIPT = """
import json, os
from pathlib import Path
from nuevonorte import create_app
from nuevonorte.backups.make import backup
app = create_app(json.loads(os.environ["NN_TEST_CONFIG"]))
with app.app_context():
    backup(Path(os.environ["NN_DEST"]))
"""


@pytest.mark.parametrize(
    "point",
    ["backup.database-dumped", "backup.database-written", "backup.object-written", "backup.manifest-written"],
)
def test_a_backup_killed_at_any_step_leaves_the_last_good_one_B06(
    deployments: Deployments, keys: Keys, tmp_path: Path, point: str
) -> None:
    """SIGKILL at each step: no snapshot restore would take appears (only a .partial), the
    previous one stays the newest; the next backup removes the leftovers and succeeds."""
    archive = deployments.new("old", [keys.recipient])
    fill(archive)
    dest = tmp_path / "dest"
    with archive.context():
        first = backup(dest)
    add_story(archive, "ocotlanejo")  # a new photo, so that an object is written
    proc = stopped_at(KILL_SCRIPT, archive.config, point, env={"NN_DEST": str(dest)})
    proc.kill()
    proc.wait()
    assert Dest(dest).snapshot_names() == [first.snapshot.name]
    assert list((dest / "snapshots").glob("*.partial"))  # it really died half-way
    with archive.context():
        left = get_storage().temp_files()
        if point == "backup.database-dumped":  # the plaintext copy of the database, unlocked now
            assert len(left) == 1 and left[0].stat().st_size > 0
        assert get_storage().sweep_temp_files() == left  # `sweep` (and every worker's start) removes it
    with archive.context():
        again = backup(dest)
    assert again.leftovers_removed >= 1
    assert Dest(dest).snapshot_names() == [first.snapshot.name, again.snapshot.name]
    assert not list((dest / "snapshots").glob("*.partial"))
    assert not list((dest / "objects" / ".tmp").iterdir())
    new = deployments.new("new")
    with new.context():
        assert restore(dest, keys.identity_file).snapshot == again.snapshot.name


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real filesystem of 8 MB that fills up with ENOSPC like any full disk (as in
    tests/test_disk_full.py: mounting one needs root; skipped where that is not allowed)."""
    root = tmp_path / "small-disk"
    root.mkdir()
    require(shutil.which("mount") is not None, "no mount command to make a small disk")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "nuevonorte-b07", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"a real full disk needs a tmpfs; mounting one needs root: {mounted.stderr.strip()}")
    try:
        yield root
    finally:
        subprocess.run(["umount", str(root)], check=True)


def test_a_full_disk_fails_cleanly_and_keeps_the_last_backup_B07(
    deployments: Deployments, keys: Keys, small_disk: Path
) -> None:
    """DEST on a small disk that fills up during the second backup: BackupError saying so, the
    first snapshot intact and restorable, no partial one; with room again, the next one works."""
    archive = deployments.new("old", [keys.recipient])
    fill(archive)
    dest = small_disk / "dest"
    with archive.context():
        first = backup(dest)
    add_story(archive, "mixtequilla")
    stats = os.statvfs(small_disk)
    filler = small_disk / "filler"
    with filler.open("wb") as f:
        f.write(b"\0" * (stats.f_bavail * stats.f_frsize - 8192))
    with archive.context(), pytest.raises(BackupError, match="no room left"):
        backup(dest)
    assert Dest(dest).snapshot_names() == [first.snapshot.name]
    assert not list((dest / "snapshots").glob("*.partial"))
    filler.unlink()
    with archive.context():
        backup(dest)
    new = deployments.new("new")
    with new.context():
        assert restore(dest, keys.identity_file, snapshot=first.snapshot.name).snapshot == first.snapshot.name
