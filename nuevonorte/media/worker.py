"""The sandboxed worker: the only process that parses untrusted media bytes.

Run as a script (``python worker.py``) by ``sandbox.run``, so that it imports neither Flask
nor the database: it reads one job as JSON on stdin, limits its own memory, cleans the file
and prints one JSON result on stdout. Every failure becomes a stable refusal code.
"""

from __future__ import annotations

import json
import resource
import sys
from typing import Any


def limit_memory(megabytes: int) -> None:
    """Cap this process's address space, so a hostile file cannot exhaust the machine."""
    size = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


#: Metadata values shorter than this are too common to prove a leak (e.g. "2026", "Apple").
MIN_NEEDLE = 8


def contains_any(path: str, needles: list[bytes], chunk_size: int = 1 << 20) -> bool:
    """Whether any needle occurs in the file, read in overlapping chunks (memory stays flat)."""
    needles = [n for n in needles if len(n) >= MIN_NEEDLE]
    if not needles:
        return False
    overlap = max(len(n) for n in needles) - 1
    tail = b""
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            window = tail + chunk
            if any(n in window for n in needles):
                return True
            tail = window[-overlap:] if overlap else b""
    return False


def process(job: dict[str, Any]) -> dict[str, Any]:
    """Clean one file, trying images first, then audio; return the facts or a refusal code."""
    import audio
    import images

    path, outputs, limits = job["input"], job["outputs"], job["limits"]
    try:
        try:
            result = images.clean(path, outputs, limits)
        except images.TooManyPixels:
            return {"ok": False, "code": "too_many_pixels"}
        except MemoryError:
            return {"ok": False, "code": "too_many_pixels"}
        except Exception as image_error:
            from PIL import UnidentifiedImageError

            if not isinstance(image_error, UnidentifiedImageError) or images.looks_like_image(path):
                return {"ok": False, "code": "corrupt"}
            try:
                result = audio.clean(path, outputs, limits)
            except audio.NotAudio:
                return {"ok": False, "code": "unsupported_type"}
    except MemoryError:
        return {"ok": False, "code": "too_large"}
    except Exception:  # any parser failure is a refusal, never a crash (SECURITY.md decision 2)
        return {"ok": False, "code": "corrupt"}
    # Re-check: no metadata value of the upload may occur in what we are about to store.
    needles = [n.encode("latin-1") for n in result.pop("needles", [])]
    outputs_written = [outputs[name] for name in ("original", "display", "thumbnail") if name in outputs]
    if any(contains_any(out, needles) for out in outputs_written[: 3 if result["kind"] == "image" else 1]):
        return {"ok": False, "code": "storage_error"}
    return {"ok": True, **result}


def preload() -> None:
    """Import the decoders before a job arrives, so a spare worker is ready at once."""
    import audio  # noqa: F401
    import images  # noqa: F401
    import PIL.JpegImagePlugin
    import PIL.PngImagePlugin
    import PIL.WebPImagePlugin  # noqa: F401


def main() -> None:
    """Preload, wait for the job, apply limits, run it, print the result."""
    preload()
    job = json.loads(sys.stdin.read())
    limit_memory(int(job["limits"]["memory_mb"]))
    result = process(job)
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
