"""Change-feed benchmark: ``GET /api/v1/changes?since=`` read from 0 to the end in an archive of N
stories, then only what 1 % of them withdrawn adds.

    .venv/bin/python benchmarks/changes.py 10000
    .venv/bin/python benchmarks/changes.py 100000 --keep /tmp/nn-100k
    .venv/bin/python benchmarks/changes.py --reuse /tmp/nn-100k [--profile]  # no fill

Fills a new SQLite archive with the stories of ``benchmarks/search.py`` as ``benchmarks/oai.py``
does (``--keep DIR`` and ``--reuse DIR`` as there), then reads the whole change feed through the
read API in this process, a page of ``CHANGES_PAGE`` at a time, following ``next`` from cursor 0
as a partner archive does on its first sync, and prints: the time, the pages, the entries (and
removals), each page's time (p50, p95, max), the worker's resident memory after the first page
and after the last, and the most memory one page allocated (tracemalloc, on a second pass over
``--memory-pages`` pages spread over the feed, as ``oai.py`` does), which must not grow with the
archive.

Then it withdraws 1 % of the public stories (``stories.withdraw`` and a commit each, as a
narrator's request does; with no search index built, their search updates wait in the outbox)
and reads only what came after the first pass's last cursor, as a client that keeps up does:
the time, and the entries, which must be exactly the removals. The withdrawals stay in the
archive: with ``--reuse``, run ``oai.py`` on it first.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

# The archive and the measures of benchmarks/oai.py
from oai import archive, archive_arguments, memory_peak, percentiles, profile, resident, sample

from nuevonorte import consent, stories
from nuevonorte.api.read import CHANGES_PAGE
from nuevonorte.extensions import db
from nuevonorte.models import Story

#: The share of the public stories withdrawn before the second read.
WITHDRAWN = 0.01


def read_feed(client: Any, since: str = "0") -> tuple[int, int, list[float], list[str], tuple[int, int]]:
    """From cursor ``since`` to the end: entries, removals, seconds per page, each page's
    cursor followed by the last one, and the worker's resident memory after the first page and
    after the last (bytes)."""
    entries = removed = 0
    times: list[float] = []
    cursors: list[str] = []
    while True:
        cursors.append(since)
        start = time.perf_counter()
        answer = client.get("/api/v1/changes", query_string={"since": since})
        times.append(time.perf_counter() - start)
        if len(times) == 1:
            first = resident()
        assert answer.status_code == 200, answer.status_code
        page = answer.get_json()
        entries += len(page["changes"])
        removed += sum(change["change"] == "removed" for change in page["changes"])
        since = page["next"]
        if not page["more"]:
            return entries, removed, times, [*cursors, since], (first, resident())


def withdraw_some(share: float) -> tuple[int, float]:
    """Withdraw every (1 / ``share``)-th public story, one commit each: how many, and the time."""
    public = list(db.session.scalars(consent.public_stories().with_only_columns(Story.id).order_by(Story.id)))
    chosen = public[:: round(1 / share)]
    start = time.perf_counter()
    for story_id in chosen:
        story = db.session.get(Story, story_id)
        assert story is not None
        stories.withdraw(story)
        db.session.commit()
    elapsed = time.perf_counter() - start
    db.session.remove()
    return len(chosen), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    archive_arguments(parser)
    args = parser.parse_args()
    with archive(args) as app:
        client = app.test_client()
        start = time.perf_counter()
        entries, removed, times, cursors, (first, last) = read_feed(client)
        total = time.perf_counter() - start
        end = cursors.pop()
        print(
            f"Change feed from 0, page of {CHANGES_PAGE}: {entries} entries ({removed} removed) in "
            f"{len(times)} pages, {total:.1f} s; a page: {percentiles(times)}; the worker's resident "
            f"memory {first / 1e6:.0f} MB after the first page, {last / 1e6:.0f} MB after the last"
        )
        traced = sample(cursors, args.memory_pages)
        peak = memory_peak(
            [partial(client.get, "/api/v1/changes", query_string={"since": since}) for since in traced]
        )
        print(f"  most memory one page allocated: {peak / 1e6:.1f} MB ({len(traced)} pages traced)")
        if args.profile:
            middle = cursors[len(cursors) // 2]
            print(f"cProfile, page {len(cursors) // 2 + 1} of {len(cursors)} (after cursor {middle}):")
            profile(lambda: client.get("/api/v1/changes", query_string={"since": middle}))
        with app.app_context():
            withdrawn, spent = withdraw_some(WITHDRAWN)
        print(
            f"Withdrew {withdrawn} stories ({WITHDRAWN:.0%} of the public ones), a commit each, in "
            f"{spent:.1f} s ({spent / max(withdrawn, 1) * 1000:.0f} ms each)"
        )
        start = time.perf_counter()
        news, news_removed, times, _, _ = read_feed(client, end)
        total = time.perf_counter() - start
        print(
            f"Change feed from the previous end ({end}): {news} entries ({news_removed} removed) in "
            f"{len(times)} pages, {total:.2f} s; a page: {percentiles(times)}"
        )
        if (news, news_removed) != (withdrawn, withdrawn):
            print(f"  ! expected exactly the {withdrawn} removals")


if __name__ == "__main__":
    main()
