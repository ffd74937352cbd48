"""The admin command line, through the real console script where exit codes matter."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import create_engine, func, inspect, select

from nuevonorte import cli, demo
from nuevonorte.extensions import db
from nuevonorte.models import CuratorAccount, Role, Story
from nuevonorte.storage import get_storage
from tests.conftest import TEST_SECRET

SCRIPT = str(Path(sys.executable).parent / "nuevonorte")


@pytest.fixture
def run(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the console script with a config file of its own; returns the finished process."""

    def run_command(*args: str, config: str | None = None) -> subprocess.CompletedProcess[str]:
        path = tmp_path / "config.toml"
        path.write_text(
            config
            if config is not None
            else f'secret_key = "{TEST_SECRET}"\n'
            f'database_url = "sqlite:///{tmp_path / "cli.sqlite3"}"\n'
            f'media_dir = "{tmp_path / "media"}"\nindex_dir = "{tmp_path / "index"}"\n'
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("NUEVONORTE_")}
        env["NUEVONORTE_CONFIG"] = str(path)
        return subprocess.run([SCRIPT, *args], env=env, capture_output=True, text=True, timeout=120)

    return run_command


def test_init_creates_the_schema_and_is_idempotent(run, tmp_path: Path) -> None:
    first = run("init")
    assert first.returncode == 0, first.stderr
    engine = create_engine(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    tables = set(inspect(engine).get_table_names())
    assert {"story", "consent_record", "media_file", "alembic_version"} <= tables
    with engine.connect() as conn:
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    second = run("init")
    assert second.returncode == 0, second.stderr
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == version
    assert (tmp_path / "media").is_dir() and oct((tmp_path / "media").stat().st_mode)[-3:] == "700"
    engine.dispose()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('secret_key = "x"\nfavourite_colour = "blue"\n', "unknown key 'favourite_colour'"),
        ('secret_key = "unterminated\n', "not valid TOML"),
        ('secret_key = ""\n', "no secret key is set"),
    ],
)
@pytest.mark.parametrize("command", [["init"], ["check"], ["--help"]])
def test_a_broken_configuration_is_one_line_and_exit_code_2(
    run, config: str, message: str, command: list[str]
) -> None:
    result = run(*command, config=config)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [["init"], ["check"], ["demo"]])
def test_an_unreachable_database_is_one_line_and_exit_code_2(run, command: list[str], tmp_path: Path) -> None:
    config = (
        f'secret_key = "{TEST_SECRET}"\n'
        'database_url = "postgresql+psycopg://nobody@127.0.0.1:9/nothing?connect_timeout=2"\n'
        f'media_dir = "{tmp_path / "media"}"\nindex_dir = "{tmp_path / "index"}"\n'
    )
    result = run(*command, config=config)
    assert result.returncode == 2, result.stderr
    assert not (tmp_path / "media").exists() and not (tmp_path / "index").exists()
    assert result.stderr.startswith("nuevonorte: cannot use the database")
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_init_writes_a_private_secret_key_only_when_none_is_configured(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("NUEVONORTE_CONFIG", raising=False)
    monkeypatch.delenv("NUEVONORTE_SECRET_KEY", raising=False)
    path = tmp_path / "config.toml"
    assert cli._write_default_config(path) is True
    assert oct(path.stat().st_mode)[-3:] == "600"
    content = path.read_text()
    assert len(content.split('secret_key = "')[1].split('"')[0]) == 64
    assert cli._write_default_config(path) is False
    assert path.read_text() == content
    monkeypatch.setenv("NUEVONORTE_SECRET_KEY", "k" * 40)
    assert cli._write_default_config(tmp_path / "other.toml") is False


def test_create_curator_asks_for_the_password_twice(app: Flask, runner: FlaskCliRunner) -> None:
    password = "a long enough password"
    result = runner.invoke(
        args=["create-curator", "Ana@Example.org", "--admin"], input=f"{password}\n{password}\n"
    )
    assert result.exit_code == 0, result.output
    account = db.session.scalar(select(CuratorAccount))
    assert account is not None
    assert (account.email, account.role) == ("ana@example.org", Role.ADMIN)
    assert password not in account.password_hash and account.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("ana@example.org", "short pass", "at least 12 characters"),
        ("ana@example.org", "x" * 300, "at most 256 characters"),
        ("not-an-email", "a long enough password", "email address"),
        ("taken@example.org", "a long enough password", "already exists"),
    ],
)
def test_create_curator_refuses_bad_input_and_writes_nothing(
    app: Flask, runner: FlaskCliRunner, make_curator, email: str, password: str, message: str
) -> None:
    existing = make_curator()
    existing.email = "taken@example.org"
    db.session.commit()
    result = runner.invoke(args=["create-curator", email], input=f"{password}\n{password}\n")
    assert result.exit_code == 1
    assert message in result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count(CuratorAccount.id))) == 1


def test_create_curator_never_takes_the_password_on_the_command_line(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["create-curator", "ana@example.org", "--password", "secret secret 1"])
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_demo_loads_once(app: Flask, runner: FlaskCliRunner) -> None:
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "8 stories" in first.output
    again = runner.invoke(args=["demo"])
    assert "already loaded" in again.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Story.id))) == 8


def test_demo_if_empty_leaves_a_real_archive_alone(app: Flask, runner: FlaskCliRunner, make_story) -> None:
    make_story()
    result = runner.invoke(args=["demo", "--if-empty"])
    assert "was not loaded" in result.output
    assert not demo.is_loaded()


def test_demo_content_says_it_is_fictional(app: Flask) -> None:
    demo.load()
    db.session.commit()
    for story in db.session.scalars(select(Story)):
        assert story.body.startswith(("(Relato ficticio de demostración.)", "(Fictional demo story.)"))


def test_check_passes_on_a_consistent_archive(app: Flask, runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["reindex"]).exit_code == 0  # as `nuevonorte init` does
    demo.load()
    db.session.commit()
    result = runner.invoke(args=["check", "--verify-content"])
    assert result.exit_code == 0, result.output
    assert "agree" in result.output


def test_check_reports_missing_orphan_altered_and_temporary_files(app: Flask, runner: FlaskCliRunner) -> None:
    demo.load()
    db.session.commit()
    storage = get_storage()
    keys = sorted(storage.keys())
    storage.path(keys[0]).unlink()  # a row pointing at nothing
    storage.path(keys[1]).write_bytes(b"tampered")  # content no longer matches its hash
    orphan = storage.put_bytes(b"nobody claims me", "jpg")
    with storage.temp_file() as leftover:
        leftover.write(b"interrupted upload")
    os.utime(leftover.name, (0, 0))  # old enough to be an interrupted upload, not one in progress
    result = runner.invoke(args=["check", "--verify-content"])
    assert result.exit_code == 1
    assert "missing-file: " in result.output and keys[0] in result.output
    assert "altered-file: " in result.output and keys[1] in result.output
    assert f"orphan-file: {orphan}" in result.output
    assert "Removed 1 temporary file(s) of interrupted uploads" in result.output  # F01 sweeper


def test_init_then_demo_then_check_on_a_fresh_database(run, empty_database_url: str, tmp_path: Path) -> None:
    """What `make run` does, on SQLite or (in CI) a scratch PostgreSQL database."""
    config = (
        f'secret_key = "{TEST_SECRET}"\ndatabase_url = "{empty_database_url}"\n'
        f'media_dir = "{tmp_path / "media"}"\nindex_dir = "{tmp_path / "index"}"\n'
    )
    for command in (["init"], ["demo", "--if-empty"], ["check", "--verify-content"], ["init"]):
        result = run(*command, config=config)
        assert result.returncode == 0, (command, result.stderr)
    assert "agree" in run("check", config=config).stdout
