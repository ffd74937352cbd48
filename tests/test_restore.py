"""`nuevonorte restore`: a snapshot back into an empty deployment, every checksum verified
before anything changes (docs/security.md B01–B08, T07)."""

from __future__ import annotations

from pathlib import Path

from nuevonorte import search
from nuevonorte.backups.make import backup
from nuevonorte.backups.restore import restore
from tests.backup_fixtures import (
    PRIVATE_WORD,
    PUBLIC_TITLE,
    PUBLIC_WORD,
    Archive,
    Deployments,
    Keys,
    deployments_fixture,  # noqa: F401
    fill,
    keys_fixture,  # noqa: F401
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
    with old.context():
        backup(tmp_path / "dest")

    new = deployments.new("new")
    new.ids = old.ids
    with new.context():
        done = restore(tmp_path / "dest", keys.identity_file)
    assert done.objects == len(stored(old)) >= 2  # the photo and the recording, and any copies
    assert stored(new) == stored(old)
    assert surfaces(new) == before
