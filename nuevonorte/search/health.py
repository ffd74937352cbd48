"""Index health: rebuilding from the database, and comparing the indexes with it."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from nuevonorte import consent, faults
from nuevonorte.extensions import db
from nuevonorte.models import Story
from nuevonorte.search import common_words, follow, rebuild_lock, store, sync
from nuevonorte.search.documents import PublicDocument, public_document, staff_document
from nuevonorte.search.whoosh_internals import bulk


@dataclass(frozen=True)
class IndexFinding:
    """One disagreement between an index and the database (ids only, never content)."""

    kind: str
    detail: str
    urgent: bool = False


def rebuild(progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Rebuild both indexes from the database into a new build and swap it in atomically.

    The new build starts at the search log's number read before it is filled. While it is
    filled, changes reach the live index at once; the entries past the build's number are
    applied to the new build before the swap (a story withdrawn meanwhile is not brought back)
    and, from its own position, after it. Holds the rebuild lock for its whole life
    (``rebuild_lock``). ``progress`` is called with the number of stories done. Returns
    the number of documents written to the public and staff indexes. The build's common words
    (``common_words``) are chosen first, from a sample of the public documents.
    """
    root = store.index_root()
    root.mkdir(parents=True, exist_ok=True)
    with rebuild_lock.held(root):
        faults.point("rebuild.locked")
        store.delete_other_builds(root)  # what a killed rebuild left behind (T09)
        with sync.own_session(write=False) as session:
            ids = sync.all_story_ids(session)
        build = store.new_build(root, common_words.choose(_public_texts(common_words.sample(ids))))
        try:
            follow.set_position(build, follow.number())  # before a story is read for the build
            counts = _fill(build, progress)
            faults.point("rebuild.filled")
            store.check_counts(build, counts)
            follow.follow(build)  # what changed while it was filled (T03), outside the lock
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)  # never swapped in: nothing reads it
            raise
        with follow.swapping(root):  # no follower writes the old build and moves the new one on
            try:
                follow.follow(build)  # what changed since
                _add_partner_stories(build)
            except BaseException:
                shutil.rmtree(build, ignore_errors=True)
                raise
            store.swap_in(build, root)
    store.forget_searchers()
    sync.apply_log()  # what changed between the build's last follow and the swap
    _partner_findings(repair=True)  # one removed at its origin while the build was filled
    return counts


def _add_partner_stories(build: Path) -> None:
    """The partner stories shown now, into a new build (their log entries of the time the build
    was filled were applied before; ``_partner_findings`` settles any difference)."""
    from nuevonorte.models import PartnerStory
    from nuevonorte.partners import shown
    from nuevonorte.search.documents import partner_document

    with sync.own_session(write=False) as session:
        ids = list(session.scalars(shown.shown_stories().with_only_columns(PartnerStory.id)))
        for i in range(0, len(ids), 200):
            batch = session.scalars(select(PartnerStory).where(PartnerStory.id.in_(ids[i : i + 200])))
            store.write_public([partner_document(s) for s in batch], [], root=build)


def _partner_findings(repair: bool) -> list[IndexFinding]:
    """Partner stories in the public index that are not shown (removed at their origin, or not
    confirmed in time): urgent, removed at once; shown ones missing from it: added."""
    from nuevonorte.partners import holdings

    leaked, missing = holdings.out_of_step()
    out = [
        IndexFinding("public-index-partner-not-shown", f"partner story p{i}", urgent=True)
        for i in sorted(leaked)
    ]
    out += [IndexFinding("public-index-partner-missing", f"partner story p{i}") for i in sorted(missing)]
    if repair and (leaked or missing):
        holdings.repair(leaked | missing)
    return out


def _public_texts(ids: list[int]) -> Iterator[PublicDocument]:
    """The public documents of the stories ``ids`` (none of a story that is not public): what
    the common words are chosen from."""
    with sync.own_session(write=False) as session:
        for batch in sync.stories_in_batches(session, ids):
            for story in batch:
                public = public_document(story)
                if public is not None:
                    yield public


def _fill(build: Path, progress: Callable[[int], None] | None) -> tuple[int, int]:
    with sync.own_session(write=False) as session:
        ids = sync.all_story_ids(session)
    return bulk.fill(build, ids, _documents, store.segment_bound(), progress, in_child=_forget_connections)


def _documents(ids: list[int]) -> Iterator[tuple[PublicDocument | None, dict[str, Any] | None]]:
    """Each story's public and staff documents, read from the database in batches."""
    with sync.own_session(write=False) as session:
        for batch in sync.stories_in_batches(session, ids):
            for story in batch:
                yield public_document(story), staff_document(story)


def _forget_connections() -> None:
    """In a forked worker: never touch the parent's database connections, open new ones."""
    db.engine.dispose(close=False)


def findings(repair: bool = True) -> list[IndexFinding]:
    """Compare the indexes with the database; with ``repair``, fix what was found.

    Urgent (P0): a story in the public index that is not public now — it is removed at once
    (and its terms purged from the lexicon); deleted documents still in the public index files;
    a build no link points at (an earlier build, or a killed rebuild's). Also reported: public
    stories missing from the public index, staff index drift, and search-log entries this
    machine has not applied yet.
    """
    out: list[IndexFinding] = []
    if not sync.rebuilding():
        stray = store.stray_builds()
        out += [IndexFinding("index-stray-build", f"builds/{p.name}", urgent=True) for p in stray]
        if repair and stray:
            rebuild_lock.clean_after_dead_rebuild()
    try:
        public_held = {sid for sid in store.indexed_sids(store.PUBLIC) if not sid.startswith("p")}
        staff_held = store.indexed_sids(store.STAFF)
    except store.IndexUnavailable as e:
        store.collect_abandoned_files()
        return [IndexFinding("index-unavailable", f"{e}; run `nuevonorte reindex`", urgent=True)]
    public_ids = {str(i) for i in db.session.scalars(consent.public_stories().with_only_columns(Story.id))}
    # The staff index holds what curators may read (not "nobody but me, for now" stories).
    staff_ids = {
        str(i) for i in db.session.scalars(consent.curator_readable_stories().with_only_columns(Story.id))
    }
    leaked = sorted(public_held - public_ids, key=int)
    missing = sorted(public_ids - public_held, key=int)
    staff_drift = sorted(staff_held ^ staff_ids, key=int)
    waiting = follow.behind()
    out += [IndexFinding("public-index-not-public", f"story id {sid}", urgent=True) for sid in leaked]
    out += [IndexFinding("public-index-missing", f"story id {sid}") for sid in missing]
    out += [IndexFinding("staff-index-drift", f"story id {sid}") for sid in staff_drift]
    if waiting:
        out.append(IndexFinding("index-log-behind", f"{waiting} update(s) not applied here yet"))
    if follow.position() is None and follow.state_of(db.session())[0]:
        # Which entries it holds is unknown: only a rebuild knows (the worker makes one).
        out.append(IndexFinding("index-log-no-position", "run `nuevonorte reindex`", urgent=True))
    out += purge_findings(repair)  # before the repairs below, whose commits may drop segments
    out += _partner_findings(repair)
    if repair and (leaked or missing or staff_drift):
        with sync.own_session(write=False) as session:
            sync.index_stories({int(s) for s in (*leaked, *missing, *staff_drift)}, session)
    if repair and waiting:
        sync.apply_log()
    return out


#: A purge still pending after this long means no maintainer is running (C05, T01).
PURGE_LATE_S = 600


def purge_findings(repair: bool = True) -> list[IndexFinding]:
    """Words of deleted or replaced documents left in either index's files longer than a
    maintainer takes, or by a writer that did not stamp them (P0); with ``repair``, purged."""
    out = []
    for kind in store.KINDS:
        state = store.segment_state(kind)
        if not state.pending_purges:
            if repair and state.leftovers:  # what a killed maintainer left: cleaned
                store.purge(kind)
            continue
        if state.oldest_pending is None or time.time() - state.oldest_pending > PURGE_LATE_S:
            detail = f"{state.pending_purges} deleted document(s) still in the files"
            out.append(IndexFinding(f"{kind}-index-unpurged", detail, urgent=True))
        if repair:
            store.purge(kind)
    return out


def summary() -> list[str]:
    """One line per index: segments, stories, the largest segment, purges pending (no ids)."""
    lines = []
    for kind in store.KINDS:
        try:
            state = store.segment_state(kind)
        except Exception as e:  # an unreadable index is reported by ``findings``
            lines.append(f"{kind} index: cannot be read ({type(e).__name__})")
            continue
        waiting = "no purge pending"
        if state.pending_purges:
            since = datetime.fromtimestamp(state.oldest_pending or 0, UTC).strftime("%Y-%m-%d %H:%M UTC")
            waiting = f"{state.pending_purges} document(s) waiting to be purged since {since}"
        lines.append(
            f"{kind} index: {state.segments} segment(s), {state.documents} document(s), "
            f"largest segment {state.largest} (bound {store.segment_bound()}); {waiting}"
        )
    return lines
