"""Throughput and latency of public pages under load, next to a minimal Flask page.

Loads the demo plus 10,000 generated public stories into SQLite in a temporary folder, serves
the archive with gunicorn (2 workers) on loopback, and runs a bounded ``wrk`` against the home
page, a collection, a story and a media file (a thumbnail), the three pages again with a cookie
(a visitor who chose a language; the page asked once without cookies first, as pages are stored
only from such requests), all four again with the page cache off (every page rendered for its
request), then against a minimal Flask page served the same way. Last, the public pages and
listings (themes, places, a big theme's first and hundredth page, a small place) rendered in
this process with the page cache off, without a server.
Needs ``wrk`` (Debian: ``apt-get install wrk``). Run: ``.venv/bin/python benchmarks/pages.py``.
"""

from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

GENERATED = 10_000
DURATION = os.environ.get("BENCH_DURATION", "10s")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "8")
ROOT = Path(__file__).resolve().parent.parent
WORDS = (
    "volver casa frontera trabajo familia madre hermano ciudad noche camino tren carta idioma "
    "escuela cocina mercado lluvia tierra maíz pan calle albergue papeles teléfono esperanza"
).split()


def _environment(folder: Path) -> dict[str, str]:
    (folder / "config.toml").write_text("")
    return {
        **os.environ,
        "NUEVONORTE_CONFIG": str(folder / "config.toml"),
        "NUEVONORTE_SECRET_KEY": "benchmark-secret-key-0123456789-abcdefghijklmnop",
        "NUEVONORTE_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        "NUEVONORTE_MEDIA_DIR": str(folder / "media"),
        "NUEVONORTE_INDEX_DIR": str(folder / "index"),
        "NUEVONORTE_LEDGER_PATH": str(folder / "withdrawals.ledger"),
    }


def load(env: dict[str, str]) -> dict[str, str]:
    """Create the database with the demo and generated stories; return URLs to measure."""
    os.environ.update(env)
    from sqlalchemy import select

    from nuevonorte import create_app, demo
    from nuevonorte.extensions import db
    from nuevonorte.models import (
        Collection,
        ConsentRecord,
        Credit,
        GivenBy,
        MediaFile,
        MediaKind,
        Story,
        StoryStatus,
        Theme,
        Visibility,
    )

    app = create_app()
    with app.app_context():
        db.create_all()
        demo.load()
        db.session.commit()
        themes = db.session.scalars(select(Theme)).all()
        rng = random.Random(6)
        start = date(2024, 1, 1)
        # Generated rows are written directly (not through stories.py) to keep the set-up short;
        # each is a published story with one public consent record, as the domain would leave it.
        for n in range(GENERATED):
            body = "\n\n".join(" ".join(rng.choices(WORDS, k=60)) for _ in range(4))
            story = Story(
                status=StoryStatus.PUBLISHED,
                original_language="es",
                body=body,
                title_es=" ".join(rng.choices(WORDS, k=4)).capitalize(),
                title_en=f"Generated story {n}",
                summary_es=" ".join(rng.choices(WORDS, k=14)),
                summary_en="",
                submitted_on=start + timedelta(days=n % 600),
                published_on=start + timedelta(days=n % 600),
                themes=rng.sample(themes, 2),
            )
            story.consents.append(
                ConsentRecord(
                    seq=1,
                    visibility=Visibility.PUBLIC,
                    credit=Credit.PSEUDONYM,
                    credit_name="Bench",
                    voice_public=True,
                    photos_public=True,
                    in_collections=True,
                    text_version="2026-11",
                    text_language="es",
                    given_by=GivenBy.CONTRIBUTOR,
                )
            )
            db.session.add(story)
            if n % 1000 == 999:
                db.session.commit()
        db.session.commit()
        collection = db.session.scalar(select(Collection))
        image = db.session.scalar(select(MediaFile).where(MediaFile.kind == MediaKind.IMAGE))
        story = collection.entries[1].story
        return {
            "home": "/es/",
            "collection": f"/es/collections/{collection.public_id}",
            "story": f"/es/stories/{story.public_id}",
            "media": f"/media/{image.public_id}/thumbnail",
        }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(app: str, env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [str(gunicorn), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning", app],
        env=env,
        cwd=cwd,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{app} did not start")


def _to_ms(value: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if found is None:
        raise SystemExit(f"cannot read the latency {value!r}")
    number, unit = found.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def measure(url: str, cookie: bool = False) -> tuple[float, float, float]:
    """Requests per second, p50 and p99 latency (ms) from one bounded wrk run; with ``cookie``,
    every request carries one, as a visitor's who switched language or contributed does."""
    headers = ["-H", "Cookie: session=a-visitors-session"] if cookie else []
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--timeout", "5s", "--latency", *headers, url],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    if "Latency Distribution" not in out:
        raise SystemExit(f"wrk said:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    if re.search(r"Non-2xx or 3xx responses", out):
        raise SystemExit(f"errors while measuring {url}:\n{out}")
    return rps, p50, p99


def renders(env: dict[str, str], paths: dict[str, str]) -> dict[str, float]:
    """Milliseconds to render each public page and listing in this process with the page cache
    off (Flask's test client; no server): what a page itself costs, before any server."""
    os.environ.update(env)
    from nuevonorte import create_app, term_counts
    from nuevonorte.models import Place, Theme

    app = create_app({"PUBLIC_PAGE_CACHE_SECONDS": 0})
    with app.app_context():
        themes, places = term_counts.in_public_use(Theme), term_counts.in_public_use(Place)
    big, stories = max(themes, key=lambda pair: pair[1])
    small, few = min(places, key=lambda pair: pair[1])
    timed = {
        "home": paths["home"],
        "themes": "/es/themes/",
        "places": "/es/places/",
        "read API: themes": "/api/v1/themes",
        f"a theme of {stories:,}, page 1": f"/es/themes/{big.slug}",
        f"a theme of {stories:,}, page 100": f"/es/themes/{big.slug}?page=100",
        f"a place of {few}": f"/es/places/{small.slug}",
        "collection": paths["collection"],
        "story": paths["story"],
    }
    client = app.test_client()
    results = {}
    for name, path in timed.items():
        for _ in range(3):
            client.get(path)
        began = time.perf_counter()
        for _ in range(40):
            assert client.get(path).status_code == 200, path
        results[name] = (time.perf_counter() - began) / 40 * 1000
    return results


def main() -> None:
    """Load, serve, measure, print."""
    with tempfile.TemporaryDirectory(prefix="nn-bench-") as tmp:
        folder = Path(tmp)
        env = _environment(folder)
        began = time.monotonic()
        paths = load(env)
        print(f"loaded demo + {GENERATED:,} stories in {time.monotonic() - began:.0f} s")
        results: dict[str, tuple[float, float, float]] = {}
        archive, base = _serve("nuevonorte:create_app()", env, ROOT)
        try:
            for name, path in paths.items():
                measure(base + path)  # warm both workers
                results[name] = measure(base + path)
            for name, path in paths.items():
                if name != "media":  # media answers are the same with or without a cookie
                    # Pages are stored only from cookie-less requests and kept 30 s: a visitor
                    # without cookies has asked for this page within that time.
                    for _ in range(8):  # reaching both workers
                        urllib.request.urlopen(base + path, timeout=10).close()
                    results[f"{name} (with a cookie)"] = measure(base + path, cookie=True)
        finally:
            archive.terminate()
            archive.wait(timeout=10)
        uncached, base = _serve("uncached_app:app", env, ROOT / "benchmarks")
        try:
            for name, path in paths.items():
                measure(base + path)
                results[f"{name} (cache off)"] = measure(base + path)
        finally:
            uncached.terminate()
            uncached.wait(timeout=10)
        minimal, base = _serve("minimal_app:app", env, ROOT / "benchmarks")
        try:
            measure(base + "/")
            results["minimal Flask page"] = measure(base + "/")
        finally:
            minimal.terminate()
            minimal.wait(timeout=10)
        rendered = renders(env, paths)
    baseline = results["minimal Flask page"][0]
    print(f"wrk -t2 -c{CONNECTIONS} -d{DURATION}, gunicorn 2 sync workers, SQLite")
    print(f"{'page':<30}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'vs minimal':>12}")
    for name, (rps, p50, p99) in results.items():
        print(f"{name:<30}{rps:>10.0f}{p50:>10.1f}{p99:>10.1f}{rps / baseline:>11.0%}")
    print("rendered in this process, page cache off (ms per page)")
    for name, ms in rendered.items():
        print(f"{name:<36}{ms:>8.1f}")


if __name__ == "__main__":
    main()
