"""Configuration: embedded defaults, the TOML file, environment overrides, and safety checks.

Precedence, lowest first: the defaults below, the TOML file named by ``NUEVONORTE_CONFIG``
(or ``instance/config.toml`` when present), then the ``NUEVONORTE_*`` environment variables.
Every key is documented in ``config.example.toml``; a test keeps the two in step.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

#: The value shipped in config.example.toml; never accepted outside debug or testing.
EXAMPLE_SECRET_KEY = "change-me"  # noqa: S105 (refused, never used)

LOCALES = ("es", "en")

#: The checkout the package runs from: home of instance/, media/, migrations/, translations/.
PROJECT_DIR = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """The configuration cannot be used; the message names the problem in one line."""


@dataclass(frozen=True)
class Key:
    """One documented configuration key."""

    type: type | tuple[type, ...]
    default: Any


# Paths left as None are resolved against the project folder in ``load``.
KEYS: dict[str, Key] = {
    "secret_key": Key(str, ""),
    "database_url": Key(str, None),
    "media_dir": Key(str, None),
    "index_dir": Key(str, None),
    "debug": Key(bool, False),
    "default_locale": Key(str, "es"),
    "max_upload_mb": Key(int, 250),
    "max_image_pixels": Key(int, 40_000_000),
    "media_timeout_seconds": Key(int, 300),
    "media_memory_mb": Key(int, 2048),
    "curator_idle_minutes": Key(int, 30),
    "session_cookie_secure": Key(bool, True),
    "sqlite_busy_timeout_ms": Key(int, 10_000),
    "contributor_daily_files": Key(int, 100),
    "contributor_daily_megabytes": Key(int, 1000),
    "daily_upload_megabytes": Key(int, 20_000),
    "temp_file_max_age_minutes": Key(int, 60),
    "search_segment_docs": Key(int, 5_000),
    "search_cache_mb": Key(int, 96),
    "search_warm_mb": Key(int, 48),
    "fixity_period_days": Key(int, 90),
    "public_url": Key(str, ""),
    "contact_email": Key(str, "archivo@nuevonorte.example"),
    "allow_search_engines": Key(bool, True),
    "allow_ai_crawlers": Key(bool, False),
    "ledger_path": Key(str, None),
    "backup_recipients": Key(list, []),
    "queue_url": Key(str, ""),
    "queue_path": Key(str, None),
    "job_lease_seconds": Key(int, 60),
    "transcribe_model_dir": Key(str, ""),
    "transcribe_model_sha256": Key(str, ""),
    "transcribe_threads": Key(int, 0),
    "media_sendfile": Key(str, ""),
    "media_storage": Key(str, "local"),
    "s3_endpoint": Key(str, ""),
    "s3_bucket": Key(str, ""),
    "s3_prefix": Key(str, ""),
    "s3_region": Key(str, ""),
    "s3_access_key": Key(str, ""),
    "s3_secret_key": Key(str, ""),
    "archive_name": Key(str, "Nuevo Norte — Archivo del Taller Nuevo Norte"),
    "partner_harvest_seconds": Key(int, 300),
    "partner_confirm_seconds": Key(int, 7 * 24 * 3600),
    "search_log_days": Key(int, 14),
    "partner_timeout_seconds": Key(int, 10),
}

#: Who sends public media files once the archive has decided: itself, or nginx.
MEDIA_SENDFILE = ("", "nginx")

#: Host names always served: the machine itself (``make run``, a health check from the server).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")

ENV_OVERRIDES = {
    "NUEVONORTE_SECRET_KEY": "secret_key",
    "NUEVONORTE_DATABASE_URL": "database_url",
    "NUEVONORTE_MEDIA_DIR": "media_dir",
    "NUEVONORTE_INDEX_DIR": "index_dir",
    "NUEVONORTE_PUBLIC_URL": "public_url",
    "NUEVONORTE_LEDGER_PATH": "ledger_path",
    "NUEVONORTE_QUEUE_URL": "queue_url",
    "NUEVONORTE_QUEUE_PATH": "queue_path",
    "NUEVONORTE_ARCHIVE_NAME": "archive_name",
    "NUEVONORTE_MEDIA_STORAGE": "media_storage",
    "NUEVONORTE_S3_ENDPOINT": "s3_endpoint",
    "NUEVONORTE_S3_BUCKET": "s3_bucket",
    "NUEVONORTE_S3_PREFIX": "s3_prefix",
    "NUEVONORTE_S3_REGION": "s3_region",
    "NUEVONORTE_S3_ACCESS_KEY": "s3_access_key",
    "NUEVONORTE_S3_SECRET_KEY": "s3_secret_key",
}


def read_toml(path: Path) -> dict[str, Any]:
    """Read and validate a TOML config file; unknown keys and wrong types are errors."""
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from None
    for name, value in data.items():
        key = KEYS.get(name)
        if key is None:
            raise ConfigError(f"unknown key '{name}' in {path} (see config.example.toml)")
        # bool is a subclass of int in Python; refuse `max_upload_mb = true`.
        if not isinstance(value, key.type) or (key.type is int and isinstance(value, bool)):
            raise ConfigError(f"key '{name}' in {path} has the wrong type")
    return data


def load(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return Flask config values from defaults, file, environment and ``overrides``."""
    instance = Path(instance_path)
    project = PROJECT_DIR
    values: dict[str, Any] = {name: key.default for name, key in KEYS.items()}

    env_path = os.environ.get("NUEVONORTE_CONFIG")
    if env_path:
        values.update(read_toml(Path(env_path)))
    elif (instance / "config.toml").is_file():
        values.update(read_toml(instance / "config.toml"))
    for env_name, name in ENV_OVERRIDES.items():
        if os.environ.get(env_name):
            values[name] = os.environ[env_name]

    overrides = dict(overrides or {})
    testing = bool(overrides.pop("TESTING", False))
    values.update({k: v for k, v in overrides.items() if k in KEYS})
    flask_extra = {k: v for k, v in overrides.items() if k not in KEYS}

    if values["database_url"] is None:
        values["database_url"] = f"sqlite:///{instance / 'nuevonorte.sqlite3'}"
    values["media_dir"] = _absolute(values["media_dir"] or project / "media", project)
    values["index_dir"] = _absolute(values["index_dir"] or instance / "index", project)
    values["ledger_path"] = _absolute(values["ledger_path"] or instance / "withdrawals.ledger", project)
    values["queue_path"] = _absolute(values["queue_path"] or instance / "jobs.sqlite3", project)

    _check(values, testing)
    public_url = _public_url(values["public_url"])
    cookie_secure = values["session_cookie_secure"] and not (values["debug"] or testing)
    config: dict[str, Any] = {
        "TESTING": testing,
        "DEBUG": values["debug"],
        "SECRET_KEY": values["secret_key"],
        "SQLALCHEMY_DATABASE_URI": values["database_url"],
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(values),
        "MEDIA_DIR": values["media_dir"],
        "INDEX_DIR": values["index_dir"],
        # The withdrawal ledger (nuevonorte.ledger): outside the database and its backups.
        "LEDGER_PATH": values["ledger_path"],
        "BABEL_DEFAULT_LOCALE": values["default_locale"],
        "BABEL_TRANSLATION_DIRECTORIES": str(project / "translations"),
        "LOCALES": LOCALES,
        "MAX_CONTENT_LENGTH": values["max_upload_mb"] * 1024 * 1024,
        "MAX_FORM_PARTS": 200,
        "MAX_IMAGE_PIXELS": values["max_image_pixels"],
        "MEDIA_TIMEOUT_SECONDS": values["media_timeout_seconds"],
        "MEDIA_MEMORY_MB": values["media_memory_mb"],
        "CURATOR_IDLE_MINUTES": values["curator_idle_minutes"],
        "SESSION_COOKIE_SECURE": cookie_secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "__Host-session" if cookie_secure else "session",
        # A contribution over a poor connection can take hours; the token must outlive it.
        "WTF_CSRF_TIME_LIMIT": 24 * 3600,
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "SQLITE_BUSY_TIMEOUT_MS": values["sqlite_busy_timeout_ms"],
        "CONTRIBUTOR_DAILY_FILES": values["contributor_daily_files"],
        "CONTRIBUTOR_DAILY_BYTES": values["contributor_daily_megabytes"] * 1024 * 1024,
        "DAILY_UPLOAD_BYTES": values["daily_upload_megabytes"] * 1024 * 1024,
        "TEMP_FILE_MAX_AGE_SECONDS": values["temp_file_max_age_minutes"] * 60,
        "SEARCH_SEGMENT_DOCS": values["search_segment_docs"],
        "SEARCH_CACHE_BYTES": values["search_cache_mb"] * 1024 * 1024,
        "SEARCH_WARM_BYTES": values["search_warm_mb"] * 1024 * 1024,
        "FIXITY_PERIOD_DAYS": values["fixity_period_days"],
        # Every absolute URL (og:url, og:image, canonical, hreflang, sitemap) starts with this;
        # empty: the request's own host, which outside debug can then only be a loopback name.
        "PUBLIC_URL": public_url,
        # Outside debug a request for any other host is refused (400) before routing (A24).
        "TRUSTED_HOSTS": None if values["debug"] else _trusted_hosts(public_url),
        # Who answers for the archive: OAI-PMH's Identify names it to harvesters.
        "CONTACT_EMAIL": values["contact_email"],
        "ALLOW_SEARCH_ENGINES": values["allow_search_engines"],
        "ALLOW_AI_CRAWLERS": values["allow_ai_crawlers"],
        # age public keys `nuevonorte backup` encrypts to; the identities stay offline.
        "BACKUP_RECIPIENTS": list(values["backup_recipients"]),
        # Background jobs (nuevonorte.jobs): Huey on this SQLite file, or on Redis when a URL is set.
        "QUEUE_URL": values["queue_url"],
        "QUEUE_PATH": values["queue_path"],
        # Media files on this machine's disk (media_dir), or in an S3-compatible bucket
        # (nuevonorte.object_storage); media_dir then keeps only temporary files and intents.
        "MEDIA_STORAGE": values["media_storage"],
        "S3_ENDPOINT": values["s3_endpoint"],
        "S3_BUCKET": values["s3_bucket"],
        "S3_PREFIX": values["s3_prefix"],
        "S3_REGION": values["s3_region"],
        "S3_ACCESS_KEY": values["s3_access_key"],
        "S3_SECRET_KEY": values["s3_secret_key"],
        "JOB_LEASE_SECONDS": values["job_lease_seconds"],
        # Draft transcripts: the bundled Whisper base model unless a folder and its hash list are set.
        "TRANSCRIBE_MODEL_DIR": values["transcribe_model_dir"],
        "TRANSCRIBE_MODEL_SHA256": values["transcribe_model_sha256"],
        "TRANSCRIBE_THREADS": values["transcribe_threads"],
        # "nginx": public media are sent by nginx (X-Accel-Redirect) once the archive has said
        # which stored file may be served; "" (default): the archive sends them itself.
        "MEDIA_SENDFILE": values["media_sendfile"],
        # The name partner archives and harvesters see (OAI-PMH Identify, /api/v1/archive).
        "ARCHIVE_NAME": values["archive_name"],
        # Partner archives (nuevonorte.partners): how often each is harvested, how long a story it
        # has not confirmed stays shown (fail closed), and how long one request to it may take.
        "PARTNER_HARVEST_SECONDS": values["partner_harvest_seconds"],
        "PARTNER_CONFIRM_SECONDS": values["partner_confirm_seconds"],
        "SEARCH_LOG_DAYS": values["search_log_days"],
        "PARTNER_TIMEOUT_SECONDS": values["partner_timeout_seconds"],
    }
    config.update(flask_extra)
    return config


def _absolute(value: str | Path, project: Path) -> str:
    path = Path(value)
    return str(path if path.is_absolute() else (project / path).resolve())


def _public_url(value: str) -> str:
    """``value`` as scheme://host[:port] without a trailing slash; "" when not configured."""
    if not value:
        return ""
    try:
        parts = urlsplit(value.strip())
        usable = (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and parts.port != 0  # reading the port raises ValueError when it is not a number
            and "@" not in parts.netloc
            and parts.path in ("", "/")
            and not (parts.query or parts.fragment)
        )
    except ValueError:
        usable = False
    if not usable:
        raise ConfigError(
            "public_url must be the archive's public address, such as https://archivo.example.org "
            "(http or https, no path, query or user name)"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _trusted_hosts(public_url: str) -> list[str]:
    hosts = list(LOOPBACK_HOSTS)
    if public_url:
        hosts.insert(0, str(urlsplit(public_url).hostname))
    return hosts


def _check(values: dict[str, Any], testing: bool) -> None:
    """Refuse configurations that would be unsafe or cannot work."""
    if values["media_sendfile"] not in MEDIA_SENDFILE:
        raise ConfigError('media_sendfile must be "" (the archive sends media) or "nginx"')
    if values["media_storage"] not in ("local", "s3"):
        raise ConfigError('media_storage must be "local" (media_dir) or "s3" (an S3-compatible bucket)')
    if values["media_storage"] == "s3" and not values["s3_bucket"]:
        raise ConfigError('media_storage = "s3" needs s3_bucket')
    if values["media_storage"] == "s3" and values["media_sendfile"]:
        raise ConfigError('media_sendfile = "nginx" reads media_dir: it cannot send media kept in a bucket')
    if values["s3_prefix"] and not re.fullmatch(r"[A-Za-z0-9._/-]{1,100}/", values["s3_prefix"]):
        raise ConfigError("s3_prefix must be letters, digits, . _ - / and end with /")
    try:
        url = make_url(values["database_url"])
    except ArgumentError:
        raise ConfigError("database_url is not a valid database URL") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError("database_url must be a sqlite:// or postgresql+psycopg:// URL")
    if values["default_locale"] not in LOCALES:
        raise ConfigError(f"default_locale must be one of {', '.join(LOCALES)}")
    if values["max_upload_mb"] < 1 or values["max_image_pixels"] < 1:
        raise ConfigError("max_upload_mb and max_image_pixels must be positive")
    if min(values["contributor_daily_files"], values["contributor_daily_megabytes"]) < 1:
        raise ConfigError("contributor_daily_files and contributor_daily_megabytes must be positive")
    # The archive's daily total is counted in KiB in a 32-bit column.
    if not 1 <= values["daily_upload_megabytes"] <= 2_000_000:
        raise ConfigError("daily_upload_megabytes must be between 1 and 2000000")
    if values["queue_url"] and not values["queue_url"].startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("queue_url must be empty (a SQLite queue) or a redis:// URL")
    if values["job_lease_seconds"] < 2 or values["transcribe_threads"] < 0:
        raise ConfigError("job_lease_seconds must be at least 2 and transcribe_threads not negative")
    if values["partner_harvest_seconds"] < 1 or values["partner_timeout_seconds"] < 1:
        raise ConfigError("partner_harvest_seconds and partner_timeout_seconds must be at least 1")
    if values["search_log_days"] < 1:
        raise ConfigError("search_log_days must be at least 1")
    if values["partner_confirm_seconds"] < values["partner_harvest_seconds"]:
        raise ConfigError("partner_confirm_seconds must be at least partner_harvest_seconds")
    if not 1 <= len(values["archive_name"]) <= 200:
        raise ConfigError("archive_name must be between 1 and 200 characters")
    if bool(values["transcribe_model_dir"]) != bool(values["transcribe_model_sha256"]):
        raise ConfigError("transcribe_model_dir and transcribe_model_sha256 go together: set both or neither")
    # A temporary file is in use for at most one file's processing time; never sweep sooner.
    if values["temp_file_max_age_minutes"] * 60 < 2 * values["media_timeout_seconds"]:
        raise ConfigError("temp_file_max_age_minutes must be at least twice media_timeout_seconds")
    # A segment of fewer documents than this would make a rebuild write thousands of files.
    if values["search_segment_docs"] < 10:
        raise ConfigError("search_segment_docs must be at least 10")
    if not 8 <= values["search_cache_mb"] <= 4096:
        raise ConfigError("search_cache_mb must be between 8 and 4096")
    # The warm-up fills at most half the postings cache, leaving room for the words visitors ask for.
    if not 0 <= values["search_warm_mb"] <= values["search_cache_mb"] // 2:
        raise ConfigError("search_warm_mb must be between 0 and half of search_cache_mb")
    if not 1 <= values["fixity_period_days"] <= 3650:
        raise ConfigError("fixity_period_days must be between 1 and 3650")
    if not all(isinstance(r, str) and r.startswith("age1") for r in values["backup_recipients"]):
        raise ConfigError("backup_recipients must be a list of age public keys (age1...)")
    if values["debug"] or testing:
        return
    if not values["secret_key"] or values["secret_key"] == EXAMPLE_SECRET_KEY:
        raise ConfigError(
            "no secret key is set: run `nuevonorte init`, or set NUEVONORTE_SECRET_KEY "
            'to a long random value (python -c "import secrets; print(secrets.token_hex(32))")'
        )
    if len(values["secret_key"]) < 32:
        raise ConfigError("the secret key is too short: use at least 32 random characters")


def _engine_options(values: dict[str, Any]) -> dict[str, Any]:
    url = make_url(values["database_url"])
    # A database error's message never quotes the values of its statement: they can be a story's
    # words, and such messages reach logs (a background job's retried failure, a stack trace).
    common = {"hide_parameters": True}
    if url.get_backend_name() == "sqlite":
        return common | {"connect_args": {"timeout": values["sqlite_busy_timeout_ms"] / 1000}}
    # Survive a PostgreSQL restart: test each pooled connection before handing it out.
    return common | {"pool_pre_ping": True}
