"""Everything the archive writes is for its own user only (issue 10, hole 10; docs/security.md
M16): a contribution with a photo and a recording, a publish and a reindex leave no group or
other permission on any file or folder of the database, the index or the media."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from nuevonorte import cli, stories
from nuevonorte.extensions import db
from nuevonorte.models import Story
from tests import media_samples
from tests.contribute_fixtures import contribute, sent, upload


def too_open(*roots: Path) -> list[str]:
    found = []
    for root in roots:
        for path in [root, *root.rglob("*")] if root.is_dir() else [root]:
            shared = stat.S_IRWXG | stat.S_IRWXO
            if path.exists() and not path.is_symlink() and path.stat().st_mode & shared:
                found.append(f"{oct(path.stat().st_mode & 0o777)} {path}")
    return found


def sqlite_files() -> list[Path]:
    if db.engine.dialect.name != "sqlite":
        return []
    main = str(db.engine.url.database)
    return [Path(main + s) for s in ("", "-wal", "-shm") if Path(main + s).exists()]


def test_nothing_the_archive_writes_is_readable_by_others(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    response = contribute(
        client,
        photos=[upload(media_samples.jpeg(), "foto.jpg")],
        audio=[upload(media_samples.wav(), "voz.wav")],
    )
    assert sent(response), response.data[:300]
    story = db.session.scalars(select(Story)).one()
    stories.publish(story, None)
    db.session.commit()
    assert runner.invoke(args=["reindex"]).exit_code == 0
    media, index = Path(app.config["MEDIA_DIR"]), Path(app.config["INDEX_DIR"])
    assert any(media.rglob("*.jpg")) and any(index.rglob("*.seg"))
    assert too_open(media, index, *sqlite_files()) == []


def test_init_takes_permissions_off_what_an_older_version_wrote(app: Flask, tmp_path: Path) -> None:
    index = Path(app.config["INDEX_DIR"])
    index.mkdir(parents=True, exist_ok=True)
    old = index / "left-by-an-older-version"
    old.write_text("x")
    old.chmod(0o644)
    index.chmod(0o755)
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    (instance / "config.toml").write_text("")
    (instance / "config.toml").chmod(0o644)
    cli._for_the_archive_only(app, instance)
    assert too_open(index, instance, *sqlite_files()) == []


@pytest.fixture(autouse=True)
def _open_umask() -> None:
    """Start from a permissive umask, as a shell often has: the archive must not rely on it."""
    import os

    os.umask(0o022)
