"""Backup benchmark: `nuevonorte backup` (first and incremental), `nuevonorte restore`, and a
plain `tar` of the same database file and media folder, in the same run.

    .venv/bin/python benchmarks/backup.py 10000 [--media-kb 200] [--new 1]

Fills a new SQLite archive (migrated as `nuevonorte init` does) with the stories of
``benchmarks/search.py`` and one stored media file per story (random bytes of ``--media-kb``
KB, stored through storage as ingest stores a cleaned file: backup never parses media), then
times: a first backup into an empty folder; a second one after ``--new`` % more stories with
media (the incremental case); a restore of the newest snapshot into an empty deployment
(verification, database, files, migrations, search rebuild); the full and the public BagIt
export (`nuevonorte export`, validated); and `tar -cf` of the database file
and the media folder. Sizes are what each wrote. The target: the incremental backup under 10%
of the first one's time.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from flask_migrate import upgrade
from pyrage import x25519
from reindex import archive_app, fill  # the corpus of benchmarks/search.py, in batches

from nuevonorte.backups.make import backup
from nuevonorte.backups.restore import restore
from nuevonorte.export import export
from nuevonorte.extensions import db
from nuevonorte.models import MediaFile, MediaKind, Story
from nuevonorte.storage import get_storage


def add_media(stories: list[Story], size: int) -> None:
    storage = get_storage()
    storage.ensure()
    for story in stories:
        data = os.urandom(size)
        key = storage.put_bytes(data, "jpg")
        db.session.add(
            MediaFile(
                story_id=story.id,
                kind=MediaKind.IMAGE,
                mime_type="image/jpeg",
                storage_key=key,
                checksum=hashlib.sha256(data).hexdigest(),
                size_bytes=size,
                width=640,
                height=480,
            )
        )
    for media in db.session.scalars(db.select(MediaFile).where(MediaFile.storage_key == "k")):
        data = os.urandom(size)  # the corpus's recordings get real (random) bytes too
        media.storage_key, media.checksum, media.size_bytes = storage.put_bytes(data, "mp3"), "0", size
    db.session.commit()


def size_of(path: Path) -> int:
    return (
        sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        if path.is_dir()
        else path.stat().st_size
    )


def timed(label: str, fn, results: list[tuple[str, float, int]], measure: Path) -> object:  # type: ignore[no-untyped-def]
    before = size_of(measure) if measure.exists() else 0
    start = time.perf_counter()
    value = fn()
    elapsed = time.perf_counter() - start
    results.append((label, elapsed, size_of(measure) - before))
    return value


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("n", type=int, nargs="?", default=10_000, help="number of stories")
    parser.add_argument("--media-kb", type=int, default=200, help="size of each story's media file")
    parser.add_argument(
        "--new", type=float, default=1.0, help="percent of stories added before the 2nd backup"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="nn-backup-bench-"))
    identity = x25519.Identity.generate()
    (tmp / "identity.txt").write_text(f"{identity}\n")
    recipients = [str(identity.to_public())]
    for folder in ("old", "new"):
        (tmp / folder).mkdir()
    app = archive_app(tmp / "old", backup_recipients=recipients)
    dest = tmp / "dest"
    results: list[tuple[str, float, int]] = []
    try:
        with app.app_context():
            upgrade()
            start = time.perf_counter()
            fill(args.n)
            add_media(list(db.session.scalars(db.select(Story))), args.media_kb * 1024)
            took = time.perf_counter() - start
            print(f"Filled a SQLite archive: {args.n} stories with media in {took:.0f} s")
            db.session.remove()
            timed("first backup", lambda: backup(dest), results, dest)
            extra = max(1, round(args.n * args.new / 100))
            known = set(db.session.scalars(db.select(Story.id)))
            fill_more(args.n, extra)
            add_media(
                [s for s in db.session.scalars(db.select(Story)) if s.id not in known], args.media_kb * 1024
            )
            db.session.remove()
            made = timed(f"second backup (+{extra} stories)", lambda: backup(dest), results, dest)
            print(f"  the second backup wrote {made.objects_written} new object(s) of {made.objects}")  # type: ignore[attr-defined]
            for public in (False, True):
                folder = tmp / ("export-public" if public else "export-full")
                label = "export --public (BagIt)" if public else "export, full (BagIt)"
                run = lambda folder=folder, public=public: export(folder, public=public)  # noqa: E731
                timed(label, run, results, folder)
            old_db, old_media = Path(str(db.engine.url.database)), Path(app.config["MEDIA_DIR"])
        new = archive_app(tmp / "new")
        # The admin brings the withdrawal ledger to the new server before restoring.
        shutil.copyfile(app.config["LEDGER_PATH"], new.config["LEDGER_PATH"])
        with new.app_context():
            upgrade()
            db.session.remove()
            timed("restore", lambda: restore(dest, tmp / "identity.txt"), results, tmp / "new")
        tar = tmp / "plain.tar"
        timed(
            "tar -cf (database + media)",
            lambda: subprocess.run(
                ["tar", "-cf", str(tar), "-C", str(old_db.parent), old_db.name, old_media.name], check=True
            ),
            results,
            tar,
        )
        first = results[0][1]
        for label, elapsed, size in results:
            share = elapsed / first * 100
            print(f"{label:34} {elapsed:8.2f} s  {size / 1e6:9.1f} MB  ({share:5.1f}% of the first backup)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fill_more(have: int, n: int) -> None:
    """``n`` more stories of the same corpus (the next ids, without themes or places)."""
    from search import Corpus

    with db.session.no_autoflush:
        for story in Corpus(have + n).stories(range(have + 1, have + n + 1)):
            story.themes, story.places = [], []
            db.session.add(story)
    db.session.commit()


if __name__ == "__main__":
    main()
