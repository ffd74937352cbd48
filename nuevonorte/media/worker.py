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

            if not isinstance(image_error, UnidentifiedImageError):
                return {"ok": False, "code": "corrupt"}
            try:
                result = audio.clean(path, outputs, limits)
            except audio.NotAudio:
                return {"ok": False, "code": "unsupported_type"}
    except MemoryError:
        return {"ok": False, "code": "too_large"}
    except Exception:  # any parser failure is a refusal, never a crash (SECURITY.md decision 2)
        return {"ok": False, "code": "corrupt"}
    return {"ok": True, **result}


def main() -> None:
    """Read the job, apply limits, run it, print the result."""
    job = json.loads(sys.stdin.read())
    limit_memory(int(job["limits"]["memory_mb"]))
    result = process(job)
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
