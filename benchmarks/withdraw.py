"""Withdrawal benchmark: what a withdrawal and a withholding cost once the archive is large.

    .venv/bin/python benchmarks/withdraw.py 10000
    .venv/bin/python benchmarks/withdraw.py 10000 --repeat 3 [--segment-docs 2000]

Fills a SQLite archive with the corpus of ``benchmarks/search.py`` (as ``reindex.py`` does),
gives a few stories words of their own, rebuilds both indexes, then, while another process
publishes stories one after another (as another worker would), times:

- a **withdrawal**: ``stories.withdraw`` and the commit, which updates and purges both indexes
  (the narrator's request waits for all of it);
- a **withholding**: a paragraph of a published story withheld, and the commit (the public
  document is replaced, and the old one purged);
- when the raw index files stop holding the story's own words: the files are scanned after the
  request returns (``tests/index_bytes``, zlib streams inflated);
- the **lock wait** of the concurrent publisher: the longest it waited for the index's write
  lock, and how many publishes it made meanwhile;
- the segment count of each index, before and after.

Only public interfaces and the index folder are used, so the same script measures an older
version (put its ``nuevonorte`` first on ``PYTHONPATH``).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from reindex import archive_app, fill  # the archive of benchmarks/reindex.py
from search import Corpus

from nuevonorte import search, stories
from nuevonorte.extensions import db
from nuevonorte.models import Story
from nuevonorte.search import store
from nuevonorte.search.documents import public_document, staff_document
from nuevonorte.search.whoosh_internals import segments
from tests.index_bytes import words_in


def own_word(i: int) -> str:
    """A word nothing else in the corpus has (letters only, so no analyser splits it)."""
    return "zumbador" + "".join(chr(97 + int(d)) for d in str(i)) + "q"


def give_words(ids: list[int]) -> None:
    """Put a word of its own in the first paragraph of each story of ``ids``."""
    for sid in ids:
        story = db.session.get(Story, sid)
        assert story is not None
        story.body = f"{own_word(sid)} {story.body}"
    db.session.commit()


def segment_counts(root: Path) -> dict[str, int]:
    return {kind: len(store.open_index(kind, root)._segments()) for kind in store.KINDS}


def publisher(root: Path, n: int, go: Any, stop: Any, results: Any) -> None:
    """Another process publishing stories one by one, each a commit of both indexes; reports
    the longest wait for the public index's write lock and how many it published."""
    corpus = Corpus(1, seed=1234)
    waits = []
    i = gave_up = 0
    go.wait()
    while not stop.is_set():
        story = corpus.story(1)
        story.id = n + 1000 + i
        story.public_id = f"p{story.id:015d}"
        public, staff = public_document(story), staff_document(story)
        assert public is not None
        start = time.perf_counter()
        try:
            with store.writer(store.PUBLIC, root) as w:
                waits.append(time.perf_counter() - start)
                w.update_document(**public.fields)
            with store.writer(store.STAFF, root) as w:
                w.update_document(**staff)
        except store.IndexUnavailable:  # the lock stayed held: a request would use the outbox
            waits.append(time.perf_counter() - start)
            gave_up += 1
        i += 1
    results.put((max(waits, default=0.0), len(waits), statistics.median(waits) if waits else 0.0, gave_up))


#: Seconds spent in index writes (both indexes), added up by ``count_index_time``.
index_seconds = [0.0]


def count_index_time() -> None:
    """Add up the time of every index write of this process (the part of a request the
    index takes; the rest is the database: secure deletion, the WAL checkpoint...)."""
    for name in ("write_public", "write_staff"):
        original = getattr(store, name)

        def timed_write(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                index_seconds[0] += time.perf_counter() - start

        setattr(store, name, timed_write)


def timed(action: Any, root: Path) -> tuple[float, float, float]:
    """Seconds of ``action`` (the request), of the index writes within it, and until no index
    holds a deleted document any more (the background purge swapped its copy in and deleted
    the old segment's file)."""
    index_seconds[0] = 0.0
    start = time.perf_counter()
    action()
    request = time.perf_counter() - start
    while any(store.pending_purge(kind, root) for kind in store.KINDS):
        time.sleep(0.02)
    purged = time.perf_counter() - start
    segments.wait()  # merges the purge may have started: not part of the next measure
    return request, index_seconds[0], purged


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("n", type=int, nargs="?", default=10_000, help="number of stories")
    parser.add_argument("--repeat", type=int, default=3, help="withdrawals and withholdings timed")
    parser.add_argument("--no-scan", action="store_true", help="skip scanning the raw files")
    parser.add_argument("--segment-docs", type=int, default=5000, help="search_segment_docs")
    args = parser.parse_args()
    logging.getLogger("nuevonorte.search.sync").setLevel(logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="nn-withdraw-bench-"))
    root = tmp / "index"
    app = archive_app(tmp, search_segment_docs=args.segment_docs)
    step = max(1, args.n // (2 * args.repeat + 2))
    warm_up = step // 2  # a first withdrawal, untimed: a worker that has served requests is warm
    withdrawn = [step * (k + 1) for k in range(args.repeat)]
    withheld = [step * (args.repeat + k + 1) for k in range(args.repeat)]
    try:
        with app.app_context():
            db.create_all()
            fill(args.n)
            give_words(withdrawn + withheld)
            count_index_time()
            db.session.remove()
            start = time.perf_counter()
            search.rebuild()
            print(f"Rebuilt {args.n} stories in {time.perf_counter() - start:.0f} s")
            before = segment_counts(root)
            print(f"Segments: public {before[store.PUBLIC]}, staff {before[store.STAFF]}")

            segments.wait()  # no maintenance thread of ours runs while forking
            context = multiprocessing.get_context("fork")
            go, stop, results = context.Event(), context.Event(), context.Queue()
            other = context.Process(target=publisher, args=(root, args.n, go, stop, results), daemon=True)
            other.start()
            go.set()
            time.sleep(1.0)  # let it publish a few first

            first = db.session.get(Story, warm_up)
            stories.withdraw(first)
            db.session.commit()
            segments.wait()
            withdrawals, withholdings = [], []
            for sid in withdrawn:
                story = db.session.get(Story, sid)
                withdrawals.append(timed(lambda s=story: (stories.withdraw(s), db.session.commit()), root))
            for sid in withheld:
                story = db.session.get(Story, sid)

                def withhold(s: Story = story) -> None:
                    s.restricted_paragraphs = "0"  # the paragraph with its own word
                    db.session.commit()

                withholdings.append(timed(withhold, root))
            stop.set()
            longest, published, median, gave_up = results.get(timeout=1800)
            other.join(60)
            after = segment_counts(root)

            def show(name: str, times: list[tuple[float, float, float]]) -> None:
                shown = ", ".join(f"{t:.2f}" for t, _, _ in times)
                index = ", ".join(f"{i:.2f}" for _, i, _ in times)
                gone = ", ".join(f"{g:.1f}" for _, _, g in times)
                median = statistics.median(t for t, _, _ in times)
                print(
                    f"{name}: request {shown} s (median {median:.2f} s), of which index writes "
                    f"{index} s; purged from every index file {gone} s after the request began"
                )

            show("Withdrawal", withdrawals)
            show("Withholding", withholdings)
            print(
                f"Concurrent publisher: {published} publishes meanwhile, lock wait longest "
                f"{longest:.2f} s, median {median * 1000:.0f} ms; {gave_up} gave up (lock held too long)"
            )
            print(f"Segments after: public {after[store.PUBLIC]}, staff {after[store.STAFF]}")
            if not args.no_scan:
                words = [own_word(sid) for sid in withdrawn + withheld]
                start = time.perf_counter()
                found = words_in(root, words)
                public_ok = all("/public/" not in f for w in words[args.repeat :] for f in found.get(w, []))
                gone = [w for w in words[: args.repeat] if w not in found]
                print(
                    f"Raw files scanned once the requests had returned "
                    f"({time.perf_counter() - start:.0f} s): "
                    f"{len(gone)}/{args.repeat} withdrawn stories' words in no file; withheld "
                    f"words in no public file: {public_ok} (the staff index keeps them for curators)"
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
