"""Configuration: defaults, file, environment, and refusal of unsafe or broken settings."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from nuevonorte import create_app
from nuevonorte.config import KEYS, PROJECT_DIR, ConfigError, load
from nuevonorte.storage import StorageError

SECRET = "s" * 40


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "config.toml"

    def write(text: str) -> Path:
        path.write_text(text)
        monkeypatch.setenv("NUEVONORTE_CONFIG", str(path))
        return path

    for name in (
        "NUEVONORTE_SECRET_KEY",
        "NUEVONORTE_DATABASE_URL",
        "NUEVONORTE_MEDIA_DIR",
        "NUEVONORTE_INDEX_DIR",
        "NUEVONORTE_PUBLIC_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    return write


def test_example_file_documents_every_key_with_its_default() -> None:
    example = tomllib.loads((PROJECT_DIR / "config.example.toml").read_text())
    commented = set(re.findall(r"^# (\w+) = ", (PROJECT_DIR / "config.example.toml").read_text(), re.M))
    assert set(example) | commented == set(KEYS)
    for name, value in example.items():
        if name != "secret_key":
            assert value == KEYS[name].default, name


def test_embedded_defaults(config_file, tmp_path: Path) -> None:
    config_file(f'secret_key = "{SECRET}"\n')
    config = load(str(tmp_path / "instance"))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'instance' / 'nuevonorte.sqlite3'}"
    assert config["MEDIA_DIR"] == str(PROJECT_DIR / "media")
    assert config["INDEX_DIR"] == str(tmp_path / "instance" / "index")
    assert config["BABEL_DEFAULT_LOCALE"] == "es"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert config["DEBUG"] is False


def test_environment_overrides_the_file(config_file, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_file(f'secret_key = "{SECRET}"\ndatabase_url = "sqlite:////from/file.db"\n')
    monkeypatch.setenv("NUEVONORTE_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/nn")
    monkeypatch.setenv("NUEVONORTE_MEDIA_DIR", str(tmp_path / "m"))
    monkeypatch.setenv("NUEVONORTE_INDEX_DIR", str(tmp_path / "i"))
    monkeypatch.setenv("NUEVONORTE_SECRET_KEY", "e" * 40)
    config = load(str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@127.0.0.1/nn"
    assert config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True, "hide_parameters": True}
    assert (config["MEDIA_DIR"], config["INDEX_DIR"]) == (str(tmp_path / "m"), str(tmp_path / "i"))
    assert config["SECRET_KEY"] == "e" * 40


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('secret_key = "x"\ncolour = "blue"\n', "unknown key 'colour'"),
        ("secret_key = \n", "not valid TOML"),
        ('secret_key = "unterminated\n', "not valid TOML"),
        ("max_upload_mb = true\n", "wrong type"),
        ('max_upload_mb = "10"\n', "wrong type"),
        ('default_locale = "fr"\n', "default_locale"),
        ('database_url = "mysql://x"\n', "sqlite:// or postgresql"),
        ('database_url = "::not a url::"\n', "not a valid database URL"),
        ('public_url = "archivo.example.org"\n', "public_url"),
        ('public_url = "ftp://archivo.example.org"\n', "public_url"),
        ('public_url = "https://archivo.example.org/es/"\n', "public_url"),
        ('public_url = "https://archivo.example.org?x=1"\n', "public_url"),
        ('public_url = "https://user@archivo.example.org"\n', "public_url"),
        ('public_url = "https://archivo.example.org:port"\n', "public_url"),
        ('public_url = "https://[::1"\n', "public_url"),
        ("allow_ai_crawlers = 1\n", "wrong type"),
        ('media_storage = "nfs"\n', "media_storage must be"),
        ('media_storage = "s3"\n', "needs s3_bucket"),
        (
            'media_storage = "s3"\ns3_bucket = "b"\nmedia_sendfile = "nginx"\n',
            "cannot send media kept in a bucket",
        ),
        ('media_storage = "s3"\ns3_bucket = "b"\ns3_prefix = "../x"\n', "s3_prefix"),
        ("search_log_days = 0\n", "search_log_days"),
        ("search_warm_mb = -1\n", "search_warm_mb"),
        ("search_warm_mb = 64\n", "search_warm_mb"),
        ("search_cache_mb = 4\n", "search_cache_mb"),
    ],
)
def test_broken_configuration_is_one_clear_error(
    config_file, tmp_path: Path, text: str, message: str
) -> None:
    config_file(f"debug = true\n{text}" if "secret_key" not in text else text.replace('"x"', f'"{SECRET}"'))
    with pytest.raises(ConfigError, match=message):
        load(str(tmp_path))


def test_a_missing_config_file_named_by_the_environment_is_an_error(
    config_file, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUEVONORTE_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="not found"):
        load(str(tmp_path))


@pytest.mark.parametrize("secret", ["", "change-me", "short"])
def test_production_refuses_a_default_missing_or_short_secret_key(
    config_file, tmp_path: Path, secret: str
) -> None:
    config_file(f'secret_key = "{secret}"\n')
    with pytest.raises(ConfigError, match="secret key") as error:
        load(str(tmp_path))
    if not secret:
        assert "NUEVONORTE_SECRET_KEY" in str(error.value)


def test_debug_and_testing_may_run_without_a_secret_key(config_file, tmp_path: Path) -> None:
    config_file("debug = true\n")
    assert load(str(tmp_path))["SESSION_COOKIE_SECURE"] is False
    config_file("")
    assert load(str(tmp_path), {"TESTING": True})["TESTING"] is True


def test_the_factory_refuses_media_inside_the_static_folder(config_file) -> None:
    """A03, F17: uploads must never be reachable as static files."""
    config_file(f'secret_key = "{SECRET}"\nmedia_dir = "nuevonorte/static/uploads"\n')
    with pytest.raises(StorageError, match="static"):
        create_app()


def test_the_factory_does_not_touch_the_database(config_file, tmp_path: Path) -> None:
    """The factory only wires: an unreachable database does not stop it from being built."""
    config_file(f'secret_key = "{SECRET}"\ndatabase_url = "postgresql+psycopg://nobody@127.0.0.1:1/none"\n')
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith(":1/none")
    assert not (tmp_path / "instance").exists()


def test_a24_the_public_address_decides_the_trusted_hosts(
    config_file, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A24: outside debug, only the public address's host and the machine itself are served."""
    config_file(f'secret_key = "{SECRET}"\npublic_url = "https://Archivo.Example.org:8443/"\n')
    config = load(str(tmp_path))
    assert config["PUBLIC_URL"] == "https://archivo.example.org:8443"
    assert config["TRUSTED_HOSTS"] == ["archivo.example.org", "localhost", "127.0.0.1"]
    monkeypatch.setenv("NUEVONORTE_PUBLIC_URL", "http://otro.example.org")
    assert load(str(tmp_path))["PUBLIC_URL"] == "http://otro.example.org"
    config_file(f'secret_key = "{SECRET}"\n')
    monkeypatch.delenv("NUEVONORTE_PUBLIC_URL")
    default = load(str(tmp_path))
    assert default["PUBLIC_URL"] == "" and default["TRUSTED_HOSTS"] == ["localhost", "127.0.0.1"]
    assert (default["ALLOW_SEARCH_ENGINES"], default["ALLOW_AI_CRAWLERS"]) == (True, False)
    config_file("debug = true\n")
    assert load(str(tmp_path))["TRUSTED_HOSTS"] is None
