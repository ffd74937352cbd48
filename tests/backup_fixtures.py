"""Archives to back up and deployments to restore into: real databases (a SQLite file, or a
scratch PostgreSQL database when NUEVONORTE_DATABASE_URL is set), migrated as `nuevonorte init`
migrates, real media folders, real age keys (pyrage)."""

from __future__ import annotations

import contextlib
import io
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from PIL import Image
from pyrage import x25519
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from nuevonorte import create_app, ledger, search, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.database import write_intent
from nuevonorte.extensions import db
from nuevonorte.media import ingest_upload
from nuevonorte.storage import get_storage
from tests import media_samples
from tests.conftest import POSTGRES_URL, TEST_SECRET

#: Words no page, file or index would hold unless a story put them there.
PUBLIC_TITLE = "Relato del puente Zacatlanejo"
PUBLIC_WORD = "zacatlanejo"
PRIVATE_TITLE = "Carta guardada Huitzilopa"
PRIVATE_WORD = "huitzilopa"


@dataclass
class Keys:
    """A workshop's age key: the identity file kept offline, the recipient in the config."""

    identity_file: Path
    recipient: str


def make_keys(folder: Path, name: str = "workshop") -> Keys:
    identity = x25519.Identity.generate()
    path = folder / f"{name}-identity.txt"
    path.write_text(f"# created: by the test\n# public key: {identity.to_public()}\n{identity}\n")
    return Keys(path, str(identity.to_public()))


@dataclass
class Archive:
    """One deployment: its configuration overrides and its app."""

    config: dict[str, Any]
    app: Flask
    ids: dict[str, str] = field(default_factory=dict)

    @contextlib.contextmanager
    def context(self) -> Iterator[Flask]:
        with self.app.app_context():
            try:
                yield self.app
            finally:
                db.session.remove()

    def media(self) -> Path:
        return Path(self.config["media_dir"])


class Deployments:
    """Makes deployments on fresh databases and drops them at the end of the test."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.ledger = tmp / "ledger" / "withdrawals.ledger"
        self.made: list[Archive] = []
        self.scratch: list[str] = []

    def database_url(self, name: str) -> str:
        if not POSTGRES_URL:
            return f"sqlite:///{self.tmp / name}.sqlite3"
        db_name = f"nn_backup_{name}_{secrets.token_hex(3)}"
        server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{db_name}"')
        server.dispose()
        self.scratch.append(db_name)
        return make_url(POSTGRES_URL).set(database=db_name).render_as_string(hide_password=False)

    def new(
        self,
        name: str,
        recipients: list[str] | None = None,
        migrate: bool = True,
        ledger_file: Path | None = None,
    ) -> Archive:
        config: dict[str, Any] = {
            "TESTING": True,
            "secret_key": TEST_SECRET,
            "database_url": self.database_url(name),
            "media_dir": str(self.tmp / name / "media"),
            "index_dir": str(self.tmp / name / "index"),
            "backup_recipients": recipients or [],
            # The withdrawal ledger: one file, kept apart, brought along to the new server.
            "ledger_path": str(ledger_file or self.ledger),
        }
        archive = Archive(config, create_app(config))
        self.made.append(archive)
        if migrate:
            with archive.context(), write_intent():
                upgrade()  # as `nuevonorte init` does
                get_storage().ensure()
                Path(config["index_dir"]).mkdir(parents=True, exist_ok=True)
                search.rebuild()
                if recipients:  # a serving archive has its ledger (its first request starts it)
                    ledger.replay()
        return archive

    def close(self) -> None:
        for archive in self.made:
            with archive.app.app_context():
                db.engine.dispose()
        if self.scratch:
            server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
            with server.connect() as conn:
                for name in self.scratch:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            server.dispose()


@pytest.fixture(name="deployments")
def deployments_fixture(tmp_path: Path) -> Iterator[Deployments]:
    made = Deployments(tmp_path)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(name="keys")
def keys_fixture(tmp_path: Path) -> Keys:
    return make_keys(tmp_path)


#: The photo and the recording every test archive holds (made once: the same bytes each time).
PHOTO = media_samples.jpeg()
RECORDING = media_samples.wav(seconds=2.0)


def fill(archive: Archive) -> None:
    """A published story with a photo and a recording, and a private one; their ids in ``ids``."""
    with archive.context(), write_intent():
        public = stories.submit(
            None,
            body=f"Crucé el puente de {PUBLIC_WORD} con mi abuela.",
            title=PUBLIC_TITLE,
            language="es",
            choices=ConsentChoices(credit_name="Ana", voice_public=True, photos_public=True),
            consent_language="es",
        )
        photo, _ = ingest_upload(public, io.BytesIO(PHOTO))
        recording, _ = ingest_upload(public, io.BytesIO(RECORDING))
        stories.publish(public, None)
        private = stories.submit(
            None,
            body=f"Esto es sólo para el taller: {PRIVATE_WORD}.",
            title=PRIVATE_TITLE,
            language="es",
            choices=ConsentChoices(credit_name="Luz"),
            consent_language="es",
        )
        stories.keep_private(private, None)
        db.session.commit()
        archive.ids.update(
            public=public.public_id,
            private=private.public_id,
            photo=photo.public_id,
            recording=recording.public_id,
        )


def add_story(archive: Archive, word: str) -> str:
    """One more published story with a new photo; its public id."""
    with archive.context(), write_intent():
        story = stories.submit(
            None,
            body=f"Otra historia: {word}.",
            title=f"Relato {word}",
            language="es",
            choices=ConsentChoices(credit_name="Eva", photos_public=True),
            consent_language="es",
        )
        picture = Image.effect_noise((64, 48), 40 + len(word)).convert("RGB")
        ingest_upload(story, io.BytesIO(media_samples.jpeg(picture)))
        stories.publish(story, None)
        db.session.commit()
        return story.public_id
