"""OAI-PMH harvest benchmark: a complete ``ListRecords`` harvest of an archive of N stories.

    .venv/bin/python benchmarks/oai.py 10000
    .venv/bin/python benchmarks/oai.py 100000 --keep /tmp/nn-100k   # keep the archive
    .venv/bin/python benchmarks/oai.py --reuse /tmp/nn-100k [--profile]  # no fill

Fills a new SQLite archive with the stories of ``benchmarks/search.py`` (``benchmarks/reindex.py``'s
``fill``; the commits write ``public_record`` as any change does), then harvests all of it through
``/oai`` in this process, following resumption tokens as a harvester does, and prints: the time,
the pages, the records (and deleted ones), each page's time (p50, p95, max), the worker's resident
memory after the first page and after the last, and the most memory one page allocated
(tracemalloc, on a second pass over ``--memory-pages`` pages spread over the archive, 50 by
default, 0 for all: tracing makes a page several times slower), which must not grow with the
archive.

``--keep DIR`` fills DIR (new or empty) and leaves it; ``--reuse DIR`` harvests an archive kept
so, without filling (``benchmarks/changes.py`` takes the same two options, so that a large fill
is paid once). ``--profile`` prints cProfile's costliest calls (cumulative) for one page from
the middle of the archive.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TypeVar
from xml.etree import ElementTree as ET

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from flask import Flask
from reindex import archive_app, fill  # the archive of benchmarks/reindex.py

from nuevonorte import oai
from nuevonorte.extensions import db
from nuevonorte.models import PublicRecord, Story

T = TypeVar("T")
NS = {"o": oai.OAI}
#: A harvest's first request.
HARVEST: dict[str, str] = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}


# --- the archive, shared with benchmarks/changes.py -----------------------------------------


def archive_arguments(parser: argparse.ArgumentParser) -> None:
    """N, ``--keep DIR``, ``--reuse DIR``, ``--profile`` and ``--memory-pages K``."""
    parser.add_argument("n", type=int, nargs="?", default=10_000, help="number of stories (not with --reuse)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--keep", metavar="DIR", help="fill the archive in DIR (new or empty) and keep it")
    where.add_argument("--reuse", metavar="DIR", help="use the archive a --keep left in DIR: no fill")
    parser.add_argument("--profile", action="store_true", help="cProfile one page from the middle")
    parser.add_argument(
        "--memory-pages",
        type=int,
        default=50,
        metavar="K",
        help="trace the memory of K pages spread over the archive, first and last included (0: all)",
    )


@contextmanager
def archive(args: argparse.Namespace) -> Iterator[Flask]:
    """The app of a filled archive: a new temporary one (removed after), one filled into
    ``--keep``'s folder, or the one ``--reuse`` names. Prints what it holds."""
    # No index yet: every commit leaves its stories in the search outbox, and says so.
    logging.getLogger("nuevonorte.search.sync").setLevel(logging.ERROR)
    if args.reuse:
        tmp = Path(args.reuse)
        if not (tmp / "archive.sqlite3").exists():
            sys.exit(f"{tmp} holds no archive.sqlite3 (make one with --keep)")
    elif args.keep:
        tmp = Path(args.keep)
        tmp.mkdir(parents=True, exist_ok=True)
        if any(tmp.iterdir()):
            sys.exit(f"{tmp} is not empty")
    else:
        tmp = Path(tempfile.mkdtemp(prefix="nn-oai-bench-"))
    app = archive_app(tmp)
    try:
        with app.app_context():
            if not args.reuse:
                db.create_all()
                start = time.perf_counter()
                fill(args.n)
                seconds = time.perf_counter() - start
                filled = f"Filled a SQLite archive with {args.n} stories in {seconds:.0f} s"
            else:
                filled = f"Reused the SQLite archive in {tmp}"
            stories = db.session.query(Story).count()
            rows = db.session.query(PublicRecord).count()
            print(f"{filled}: {stories} stories, {rows} public records")
            db.session.remove()
        yield app
    finally:
        if args.keep or args.reuse:
            print(f"  (the archive stays in {tmp})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def percentiles(times: list[float]) -> str:
    """p50, p95 and max of ``times`` (seconds), in ms."""
    ordered = sorted(times)
    return (
        f"p50 {statistics.median(times) * 1000:.0f} ms, "
        f"p95 {ordered[int(0.95 * (len(ordered) - 1))] * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"
    )


def profile(request: Callable[[], object], top: int = 40) -> None:
    """cProfile one call of ``request``; print the costliest entries, cumulative."""
    profiler = cProfile.Profile()
    profiler.enable()
    request()
    profiler.disable()
    pstats.Stats(profiler).strip_dirs().sort_stats("cumulative").print_stats(top)


def resident() -> int:
    """This process's resident memory now (bytes; Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def sample(pages: list[T], k: int) -> list[T]:
    """At most ``k`` of ``pages``, evenly spread, the first and the last among them (all: 0)."""
    if k <= 0 or len(pages) <= k:
        return pages
    return [pages[round(i * (len(pages) - 1) / (k - 1))] for i in range(k)]


def memory_peak(requests: list[Callable[[], object]]) -> int:
    """The most memory one of ``requests`` allocated, all traced in one tracemalloc session
    (so memory a page keeps shows in the pages after it): tracing every allocation slows
    Python several times over, hence a pass of its own, on a sample of the pages."""
    peak = 0
    tracemalloc.start()
    try:
        for request in requests:
            tracemalloc.reset_peak()
            request()
            peak = max(peak, tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()
    return peak


# --- the harvest ----------------------------------------------------------------------------


def harvest(client) -> tuple[int, int, list[float], list[dict[str, str]], tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Records, deleted records, seconds per page, each page's request, and the worker's
    resident memory after the first page and after the last (bytes)."""
    records = deleted = 0
    times: list[float] = []
    pages: list[dict[str, str]] = []
    args: dict[str, str] = HARVEST
    while True:
        pages.append(args)
        start = time.perf_counter()
        body = client.get("/oai", query_string=args).data
        times.append(time.perf_counter() - start)
        if len(times) == 1:
            first = resident()
        document = ET.fromstring(body)
        for header in document.iter(f"{{{oai.OAI}}}header"):
            records += 1
            deleted += header.get("status") == "deleted"
        token = document.findtext("o:ListRecords/o:resumptionToken", namespaces=NS)
        if not token:
            return records, deleted, times, pages, (first, resident())
        args = {"verb": "ListRecords", "resumptionToken": token}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    archive_arguments(parser)
    args = parser.parse_args()
    with archive(args) as app:
        client = app.test_client()
        start = time.perf_counter()
        records, deleted, times, pages, (first, last) = harvest(client)
        total = time.perf_counter() - start
        print(
            f"ListRecords, complete harvest: {records} records ({deleted} deleted) in {len(times)} pages, "
            f"{total:.1f} s; a page: {percentiles(times)}; the worker's resident memory "
            f"{first / 1e6:.0f} MB after the first page, {last / 1e6:.0f} MB after the last"
        )
        traced = sample(pages, args.memory_pages)
        peak = memory_peak([partial(client.get, "/oai", query_string=page) for page in traced])
        print(f"  most memory one page allocated: {peak / 1e6:.1f} MB ({len(traced)} pages traced)")
        if args.profile:
            middle = pages[len(pages) // 2]
            print(f"cProfile, page {len(pages) // 2 + 1} of {len(pages)}:")
            profile(lambda: client.get("/oai", query_string=middle))


if __name__ == "__main__":
    main()
