"""Reindex benchmark: ``search.rebuild()`` — what ``nuevonorte reindex`` runs — reading a real
SQLite archive.

    .venv/bin/python benchmarks/reindex.py 10000
    .venv/bin/python benchmarks/reindex.py 100000

Fills a new SQLite archive in a temporary folder with the stories of ``benchmarks/search.py``
(the same synthetic bilingual corpus: ~300 words, transcripts on a fifth, restricted passages),
then times the full rebuild of both indexes from the database and prints stories/s.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from flask import Flask
from search import Corpus  # the corpus of benchmarks/search.py

from nuevonorte import create_app, search
from nuevonorte.extensions import db
from nuevonorte.models import Place, Theme

BATCH = 1_000


def fill(n: int) -> None:
    """Add the corpus's ``n`` stories (with their consents, transcripts, themes and places).

    There is no index yet, so every commit leaves its stories in the search outbox (as after
    restoring a database); the rebuild then clears it. The warnings saying so are silenced.
    """
    logging.getLogger("nuevonorte.search.sync").setLevel(logging.ERROR)
    corpus = Corpus(n)
    db.session.add_all(corpus.themes + corpus.places)
    db.session.commit()
    for start in range(1, n + 1, BATCH):
        with db.session.no_autoflush:
            for story in corpus.stories(range(start, min(n, start + BATCH - 1) + 1)):
                story.themes = [db.session.get(Theme, t.id) for t in story.themes]
                story.places = [db.session.get(Place, p.id) for p in story.places]
                db.session.add(story)
        db.session.commit()
        print(f"  {min(n, start + BATCH - 1)} stories in the database", end="\r", flush=True)
    print()


def archive_app(tmp: Path, **overrides: Any) -> Flask:
    """The archive the benchmarks fill: SQLite, media and index under ``tmp``."""
    return create_app(
        {
            "TESTING": True,
            "secret_key": "benchmark-only-secret-key-not-for-any-archive",
            "database_url": f"sqlite:///{tmp / 'archive.sqlite3'}",
            "media_dir": str(tmp / "media"),
            "index_dir": str(tmp / "index"),
            "ledger_path": str(tmp / "withdrawals.ledger"),
            **overrides,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("n", type=int, nargs="?", default=10_000, help="number of stories")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="nn-reindex-bench-"))
    app = archive_app(tmp)
    try:
        with app.app_context():
            db.create_all()
            start = time.perf_counter()
            fill(args.n)
            print(f"Filled a SQLite archive with {args.n} stories in {time.perf_counter() - start:.0f} s")
            db.session.remove()
            start = time.perf_counter()
            public, staff = search.rebuild()
            elapsed = time.perf_counter() - start
            print(
                f"search.rebuild() (nuevonorte reindex): {public} public and {staff} staff documents "
                f"in {elapsed:.1f} s = {args.n / elapsed:.0f} stories/s"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
