"""OAI-PMH harvest benchmark: a complete ``ListRecords`` harvest of an archive of N stories.

    .venv/bin/python benchmarks/oai.py 10000
    .venv/bin/python benchmarks/oai.py 100000

Fills a new SQLite archive with the stories of ``benchmarks/search.py`` (``benchmarks/reindex.py``'s
``fill``; the commits write ``public_record`` as any change does), then harvests all of it through
``/oai`` in this process, following resumption tokens as a harvester does, and prints: the time,
the pages, the records (and deleted ones), each page's time (p50, p95, max), and the most memory
one page allocated (tracemalloc, on a second harvest), which must not grow with the archive.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from xml.etree import ElementTree as ET

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from reindex import archive_app, fill  # the archive of benchmarks/reindex.py

from nuevonorte import oai
from nuevonorte.extensions import db
from nuevonorte.models import PublicRecord

NS = {"o": oai.OAI}


def harvest(client) -> tuple[int, int, list[float], int]:  # type: ignore[no-untyped-def]
    """Records, deleted records, seconds per page, and the largest allocation peak of a page."""
    records = deleted = 0
    times: list[float] = []
    peak = 0
    args: dict[str, str] = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    while True:
        if tracemalloc.is_tracing():
            tracemalloc.reset_peak()
        start = time.perf_counter()
        body = client.get("/oai", query_string=args).data
        times.append(time.perf_counter() - start)
        if tracemalloc.is_tracing():
            peak = max(peak, tracemalloc.get_traced_memory()[1])
        document = ET.fromstring(body)
        for header in document.iter(f"{{{oai.OAI}}}header"):
            records += 1
            deleted += header.get("status") == "deleted"
        token = document.findtext("o:ListRecords/o:resumptionToken", namespaces=NS)
        if not token:
            return records, deleted, times, peak
        args = {"verb": "ListRecords", "resumptionToken": token}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("n", type=int, nargs="?", default=10_000, help="number of stories")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="nn-oai-bench-"))
    app = archive_app(tmp)
    try:
        with app.app_context():
            db.create_all()
            start = time.perf_counter()
            fill(args.n)
            rows = db.session.query(PublicRecord).count()
            print(
                f"Filled a SQLite archive with {args.n} stories ({rows} public records) in "
                f"{time.perf_counter() - start:.0f} s"
            )
            db.session.remove()
        client = app.test_client()
        start = time.perf_counter()
        records, deleted, times, _ = harvest(client)
        total = time.perf_counter() - start
        # Memory on its own pass: tracing every allocation slows Python several times over.
        tracemalloc.start()
        peak = harvest(client)[3]
        tracemalloc.stop()
        ordered = sorted(times)
        print(
            f"ListRecords, complete harvest: {records} records ({deleted} deleted) in {len(times)} pages, "
            f"{total:.1f} s; a page: p50 {statistics.median(times) * 1000:.0f} ms, "
            f"p95 {ordered[int(0.95 * (len(ordered) - 1))] * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms; "
            f"most memory one page allocated: {peak / 1e6:.1f} MB"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
