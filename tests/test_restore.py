"""`nuevonorte restore`: a snapshot back into an empty deployment, every checksum verified
before anything changes (docs/security.md B01–B08, T07)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyrage
import pytest
from pyrage import x25519
from sqlalchemy import func, inspect, select, text

from nuevonorte import ledger, search, stories
from nuevonorte.backups import RestoreRefused
from nuevonorte.backups.layout import DATABASE, MANIFEST
from nuevonorte.backups.make import backup
from nuevonorte.backups.restore import restore
from nuevonorte.consent import ConsentChoices
from nuevonorte.database import write_intent
from nuevonorte.extensions import db
from nuevonorte.models import Story, Visibility
from tests.backup_fixtures import (
    PRIVATE_WORD,
    PUBLIC_TITLE,
    PUBLIC_WORD,
    Archive,
    Deployments,
    Keys,
    add_story,
    fill,
    make_keys,
)
from tests.media_samples import fetched


def stored(archive: Archive) -> dict[str, bytes]:
    """Every stored media file (storage key: bytes)."""
    return {p.name: p.read_bytes() for p in archive.media().glob("??/*") if p.is_file()}


def surfaces(archive: Archive) -> dict[str, object]:
    """What visitors get: the pages, the media files, and public search."""
    ids = archive.ids
    client = archive.app.test_client()
    with archive.context():
        seen: dict[str, object] = {
            "public page": fetched(client, f"/en/stories/{ids['public']}")[0],
            "private page": fetched(client, f"/en/stories/{ids['private']}")[0],
            "photo": fetched(client, f"/media/{ids['photo']}/original"),
            "recording": fetched(client, f"/media/{ids['recording']}/original"),
            "found": {h.public_id for h in search.search_public(PUBLIC_WORD, "es").hits},
            "private found": {h.public_id for h in search.search_public(PRIVATE_WORD, "es").hits},
        }
        page = client.get(f"/en/stories/{ids['public']}").get_data(as_text=True)
        seen["title shown"] = PUBLIC_TITLE in page
    return seen


def test_a_backup_restored_elsewhere_answers_as_before_B01(
    deployments: Deployments, keys: Keys, tmp_path: Path
) -> None:
    """Back up an archive with a published story (photo, recording) and a private one; restore
    into a new, empty deployment: pages, media and search answer exactly as before."""
    old = deployments.new("old", [keys.recipient])
    fill(old)
    before = surfaces(old)
    assert before["public page"] == 200 and before["private page"] == 404
    assert before["photo"][0] == 200 and before["recording"][0] == 200  # type: ignore[index]
    assert before["found"] == {old.ids["public"]} and before["private found"] == set()
    dest = str(tmp_path / "dest")
    made = old.app.test_cli_runner().invoke(args=["backup", dest])  # as the admin runs it
    assert made.exit_code == 0 and f"{len(stored(old))} media file(s)" in made.output, made.output

    new = deployments.new("new")
    new.ids = old.ids
    config_out = tmp_path / "config-from-backup.toml"
    done = new.app.test_cli_runner().invoke(
        args=["restore", dest, "--identity", str(keys.identity_file), "--config-out", str(config_out)]
    )
    assert config_out.read_text().startswith("# The archive's configuration at the time of the backup")
    assert done.exit_code == 0 and f"{len(stored(old))} media file(s)" in done.output, done.output
    assert len(stored(old)) >= 2  # the photo and the recording, and any copies
    assert stored(new) == stored(old)
    assert surfaces(new) == before


# --- refusals: nothing changes ------------------------------------------------------------


def state(archive: Archive) -> tuple[object, ...]:
    """Everything a refused restore must leave as it was: every file under the deployment's
    folders (with its bytes), the tables, the schema revision and the number of stories."""
    with archive.context():
        tables = sorted(inspect(db.engine).get_table_names())
        with db.engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            count = conn.execute(select(func.count()).select_from(Story.__table__)).scalar()
    files = {
        str(p): p.read_bytes()
        for folder in (archive.media(), Path(archive.config["index_dir"]))
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "write.lock"
    }
    return tables, revision, count, files


def reencrypt_manifest(snapshot: Path, keys: Keys, change: Callable[[dict[str, Any]], None]) -> None:
    """Forge a manifest as anyone holding the public key could (age does not sign)."""
    identity = x25519.Identity.from_str(keys.identity_file.read_text().splitlines()[-1])
    raw = json.loads(pyrage.decrypt((snapshot / MANIFEST).read_bytes(), [identity]))
    change(raw)
    recipient = x25519.Recipient.from_str(keys.recipient)
    (snapshot / MANIFEST).write_bytes(pyrage.encrypt(json.dumps(raw).encode(), [recipient]))


def flip(path: Path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0x55
    path.write_bytes(bytes(data))


def cut(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def biggest_object(dest: Path) -> Path:
    return max((dest / "objects").glob("??/*.age"), key=lambda p: p.stat().st_size)


def foreign_snapshot(dest: Path, snapshot: Path, keys: Keys) -> None:
    """Another archive's snapshot (its id in the manifest) placed in this folder, newest."""
    other = dest / "snapshots" / "29991231T235959Z"
    shutil.copytree(snapshot, other)
    reencrypt_manifest(other, keys, lambda raw: raw.update(archive_id="0" * 32))


CORRUPTIONS: dict[str, tuple[Callable[[Path, Path, Keys], None], str]] = {
    "an object with a byte changed": (lambda d, s, k: flip(biggest_object(d)), "damaged or cut short"),
    "an object cut short": (lambda d, s, k: cut(biggest_object(d)), "damaged or cut short"),
    "an object missing": (lambda d, s, k: biggest_object(d).unlink(), "is missing from the backup"),
    "the database cut short": (lambda d, s, k: cut(s / DATABASE), "damaged or cut short"),
    "the database's last byte changed": (lambda d, s, k: flip(s / DATABASE, 0.9999), "damaged or cut short"),
    "the manifest damaged": (lambda d, s, k: flip(s / MANIFEST), "manifest of snapshot"),
    "the manifest missing": (lambda d, s, k: (s / MANIFEST).unlink(), "has no manifest"),
    "only a partial snapshot": (
        lambda d, s, k: s.rename(s.with_name(f"{s.name}.partial")),
        "no finished backup",
    ),
    "a checksum that disagrees": (
        lambda d, s, k: reencrypt_manifest(s, k, lambda raw: raw["database"].update(plain_size=1)),
        "does not match its checksum",
    ),
    "another archive's snapshot": (foreign_snapshot, "belongs to another archive"),
    "a newer schema revision": (
        lambda d, s, k: reencrypt_manifest(s, k, lambda raw: raw.update(schema_revision="0999")),
        "does not know",
    ),
}


@pytest.fixture
def backed_up(deployments: Deployments, keys: Keys, tmp_path: Path) -> tuple[Path, Path]:
    """A backup folder with one snapshot of a filled archive: (DEST, the snapshot's folder)."""
    old = deployments.new("old", [keys.recipient])
    fill(old)
    with old.context():
        made = backup(tmp_path / "dest")
    return tmp_path / "dest", made.snapshot


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_a_damaged_partial_or_foreign_backup_is_refused_and_nothing_changes_B08(
    deployments: Deployments, keys: Keys, backed_up: tuple[Path, Path], case: str
) -> None:
    dest, snapshot = backed_up
    damage, reason = CORRUPTIONS[case]
    damage(dest, snapshot, keys)
    new = deployments.new("new")
    before = state(new)
    with new.context(), pytest.raises(RestoreRefused, match=reason) as refused:
        restore(dest, keys.identity_file)
    assert "\n" not in str(refused.value)
    assert state(new) == before


def test_the_wrong_key_is_refused_and_nothing_changes_B08(
    deployments: Deployments, backed_up: tuple[Path, Path], tmp_path: Path
) -> None:
    dest, _snapshot = backed_up
    other = make_keys(tmp_path, "another-workshop")
    new = deployments.new("new")
    before = state(new)
    with new.context(), pytest.raises(RestoreRefused, match="not encrypted to this identity"):
        restore(dest, other.identity_file)
    assert state(new) == before


def test_restore_refuses_a_deployment_that_is_not_empty_B08(
    deployments: Deployments, keys: Keys, backed_up: tuple[Path, Path]
) -> None:
    """Into a database with a story, or a media folder with files: refused, nothing changed."""
    dest, _snapshot = backed_up
    busy = deployments.new("busy")
    add_story(busy, "cuautempan")
    before = state(busy)
    with busy.context(), pytest.raises(RestoreRefused, match="already holds stories"):
        restore(dest, keys.identity_file)
    assert state(busy) == before
    files_only = deployments.new("files")
    stray = files_only.media() / "ab" / "left-behind.jpg"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"a file from before")
    with files_only.context(), pytest.raises(RestoreRefused, match="media folder"):
        restore(dest, keys.identity_file)
    assert stray.read_bytes() == b"a file from before"


def test_the_cli_says_why_in_one_line_B08(
    deployments: Deployments, keys: Keys, backed_up: tuple[Path, Path]
) -> None:
    dest, snapshot = backed_up
    cut(snapshot / DATABASE)
    new = deployments.new("new")
    result = new.app.test_cli_runner().invoke(
        args=["restore", str(dest), "--identity", str(keys.identity_file)]
    )
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "restore refused, nothing was changed" in result.output and "database.age" in result.output


# --- the withdrawal ledger: a restore never brings a withdrawn story back ----------------


def test_the_restore_drill_withdrawn_and_narrowed_stay_out_of_view_T07(
    deployments: Deployments, keys: Keys, tmp_path: Path
) -> None:
    """The restore drill (docs/parts/operations.md): back up, withdraw a story, narrow another,
    restore elsewhere (with the ledger brought along): neither is public anywhere — pages, search
    after the rebuild, media, the search API — while the backup still held both as public."""
    old = deployments.new("old", [keys.recipient])
    fill(old)
    narrowed = add_story(old, "xochitepeco")
    with old.context():
        backup(tmp_path / "dest")
    with old.context(), write_intent():
        stories.withdraw(db.session.scalars(select(Story).filter_by(public_id=old.ids["public"])).one())
        story = db.session.scalars(select(Story).filter_by(public_id=narrowed)).one()
        stories.change_consent(story, ConsentChoices(visibility=Visibility.CURATORS), language="es")
        db.session.commit()

    new = deployments.new("new")
    new.ids = old.ids
    with new.context():
        done = restore(tmp_path / "dest", keys.identity_file)
    seen = surfaces(new)
    assert seen["public page"] == 404 and seen["found"] == set()
    assert seen["photo"][0] == seen["recording"][0] == 404  # type: ignore[index]
    client = new.app.test_client()
    with new.context():
        assert fetched(client, f"/en/stories/{narrowed}")[0] == 404
        assert search.search_public("xochitepeco", "es").hits == []
        for word in (PUBLIC_WORD, "xochitepeco"):
            api = client.get(f"/api/v1/search?q={word}&lang=en").get_json()
            assert not api.get("results", api.get("hits", [])), word
    assert done.replayed >= 2  # the withdrawal and the narrowing, made again through the domain layer


def test_restore_refuses_without_the_ledger_file_B09(
    deployments: Deployments, keys: Keys, backed_up: tuple[Path, Path], tmp_path: Path
) -> None:
    """The configured ledger file is not there: refused, saying to bring it; nothing changed."""
    dest, _snapshot = backed_up
    new = deployments.new("new", ledger_file=tmp_path / "elsewhere" / "withdrawals.ledger")
    before = state(new)
    with new.context(), pytest.raises(RestoreRefused, match=r"withdrawal ledger .* is missing: bring it"):
        restore(dest, keys.identity_file)
    assert state(new) == before


def test_restore_refuses_a_new_servers_own_ledger_B09(
    deployments: Deployments, keys: Keys, backed_up: tuple[Path, Path], tmp_path: Path
) -> None:
    """The trap of a new server that has served a page: it started a ledger of its own, empty.
    Accepting it would lose every withdrawal made after the backup; the snapshot names the
    archive's ledger, so restore refuses any other, and changes nothing."""
    dest, _snapshot = backed_up
    own = tmp_path / "new-server" / "withdrawals.ledger"
    new = deployments.new("new", ledger_file=own)
    with new.context():
        ledger.started_id()  # what the new server's first request does
    before = state(new)
    with new.context(), pytest.raises(RestoreRefused, match=r"withdrawal ledger .* is not this archive's"):
        restore(dest, keys.identity_file)
    assert state(new) == before


def test_restore_into_a_deployment_never_initialised_B01(
    deployments: Deployments, keys: Keys, backed_up: tuple[Path, Path]
) -> None:
    """No `nuevonorte init` on the new server (no tables, no media or index folder): restore
    makes it all, at the newest schema."""
    dest, _snapshot = backed_up
    blank = deployments.new("blank", migrate=False)
    with blank.context():
        done = restore(dest, keys.identity_file)
        with db.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(Story.__table__)).scalar() == 2
    assert done.public == 1 and len(stored(blank)) == done.objects
