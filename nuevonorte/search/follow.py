"""Each machine's indexes follow the search log from their own position (decision 0026).

A change touching a story writes an unnumbered ``search_log`` entry in its own transaction
(``sync``). After the commit, ``number`` gives the committed entries the next numbers, in a short
transaction of its own that holds the log's one state row: so numbers are given in order and only
to entries that committed, and a reader that sees the state row's value N can read every entry up
to N. ``follow`` then applies, to this machine's index folder, every entry past the position
written in the index build (``position``) and moves the position on.

Whoever commits follows at once (a withdrawal is gone from the committing machine's index before
its answer), and ``nuevonorte worker`` follows twice a second on every machine (a change made on
another machine reaches this one within about a second). Results are re-checked against the
database as they are read, and the hits of stories this index has not caught up with are left
out (``stale``), so a machine that lags can only show less, never more.

A killed process leaves its entries unnumbered or past the position: the next ``follow`` on any
machine numbers them, and each machine applies them. A build records the position it was filled
from; entries after it are applied to it before and after the swap.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from nuevonorte import database, faults
from nuevonorte.models.base import utcnow
from nuevonorte.models.search import SearchLogEntry, SearchLogState
from nuevonorte.search import rebuild_lock, store

log = logging.getLogger(__name__)

POSITION = "position"
LOCK = ".follow.lock"
#: Entries applied in one index write.
BATCH = 500
#: How long a follower waits for another process of this machine that is following already.
LOCK_WAIT_S = 10.0
#: How long a rebuild waits for this machine's follower before its swap.
REBUILD_WAIT_S = 120.0


class Behind(Exception):
    """This index's position is below entries pruned from the log: only a rebuild can catch up."""


def write(session: Session, stories: Iterable[int] = (), partner_stories: Iterable[int] = ()) -> None:
    """Entries for these stories and partner stories, in the caller's transaction (unnumbered
    until it commits)."""
    rows = [{"story_id": i} for i in sorted(set(stories))]
    rows += [{"partner_story_id": i} for i in sorted(set(partner_stories))]
    if rows:
        session.connection().execute(insert(SearchLogEntry), rows)


# --- numbering ------------------------------------------------------------------------------


def _locked_state(session: Session) -> SearchLogState:
    """The state row, locked until the session's transaction ends (made if missing)."""
    upsert = database.upsert(SearchLogState, session.get_bind().dialect.name)
    session.execute(
        upsert.values(id=1, numbered=0, pruned_below=0).on_conflict_do_update(
            index_elements=["id"], set_={"numbered": SearchLogState.numbered}
        )
    )
    state = session.get(SearchLogState, 1, populate_existing=True)
    assert state is not None
    return state


def number() -> int:
    """Number the committed entries that have no number yet; returns the last number given."""
    from nuevonorte.search.sync import own_session

    with own_session(write=False) as session:  # most looks find nothing: no write lock for them
        waiting = session.scalar(select(SearchLogEntry.id).where(SearchLogEntry.seq.is_(None)).limit(1))
        if waiting is None:
            return state_of(session)[0]
    with own_session(write=True) as session:
        state = _locked_state(session)
        ids = session.scalars(
            select(SearchLogEntry.id).where(SearchLogEntry.seq.is_(None)).order_by(SearchLogEntry.id)
        ).all()
        last = state.numbered
        if ids:
            values = [{"id": row_id, "seq": last + n} for n, row_id in enumerate(ids, start=1)]
            session.execute(update(SearchLogEntry), values)
            last += len(ids)
            state.numbered = last
        session.commit()
        return last


def state_of(session: Session) -> tuple[int, int]:
    """The last number given, and the highest number pruned."""
    row = session.execute(select(SearchLogState.numbered, SearchLogState.pruned_below)).first()
    return (row[0], row[1]) if row else (0, 0)


# --- positions ------------------------------------------------------------------------------


def position_file(root: Path) -> Path:
    """Where an index folder's position is kept: in the build its ``public`` link points into,
    so a swapped-in build brings its own."""
    public = store.index_path(store.PUBLIC, root)
    return Path(os.path.realpath(public)).parent / POSITION


def position(root: Path | None = None) -> int | None:
    """The number of the last entry applied to this index (None: never recorded)."""
    path = position_file(root or store.index_root())
    try:
        return int(path.read_text().strip() or 0)
    except (FileNotFoundError, ValueError):
        return None


def set_position(root: Path, value: int) -> None:
    """Write the position atomically (fsync'ed, then renamed into place)."""
    path = position_file(root)
    tmp = path.with_name(f".{POSITION}.{os.getpid()}.tmp")
    with open(tmp, "w") as out:
        out.write(str(value))
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


@contextmanager
def _following(root: Path, wait: float = LOCK_WAIT_S) -> Iterator[bool]:
    """This machine's one follower of ``root`` at a time (processes and threads alike: each
    holder opens the file anew); yields False if another kept it longer than ``wait`` seconds."""
    fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        yield rebuild_lock.lock_within(fd, wait, pause=0.01)
    finally:
        os.close(fd)


@contextmanager
def swapping(root: Path) -> Iterator[None]:
    """Held by a rebuild around its last follow of the new build and its swap: no follower of
    ``root`` writes into the old build and then moves the new one's position meanwhile."""
    with _following(root, wait=REBUILD_WAIT_S) as mine:
        if not mine:
            raise store.RebuildFailed("the index's follower held its lock too long; try again")
        yield


# --- following ------------------------------------------------------------------------------


def follow(root: Path | None = None) -> int:
    """Number what waits, then apply to ``root``'s index every entry past its position; returns
    how many entries were applied. Raises ``Behind`` when entries this index needs were pruned,
    or when it has no position and the log has numbers (an index made before the log, or whose
    position file was lost: only a rebuild knows what it holds).

    The build the ``public`` link points to is resolved once, under the lock: the index writes
    and the position go to that build even if a rebuild swaps another in meanwhile (the rebuild
    takes this lock for its last follow and its swap)."""
    from nuevonorte.search.sync import index_stories, own_session

    root = root or store.index_root()
    if position(root) is not None:
        number()  # this process's own entries, even if another process of the machine follows
    applied = 0
    with _following(root) as mine:
        if not mine:
            log.warning("search log: another process of this machine is still following")
            return 0
        build = build_of(root)
        if position(build) is None:
            with own_session(write=False) as session:
                if state_of(session)[0]:
                    raise Behind("this index has no position in the search log")
            set_position(build, 0)
        number()
        while True:
            here = position(build) or 0
            with own_session(write=False) as session:
                numbered, pruned = state_of(session)
                if here < pruned:
                    raise Behind(f"index at {here}, log pruned up to {pruned}")
                rows = session.execute(
                    select(SearchLogEntry.seq, SearchLogEntry.story_id, SearchLogEntry.partner_story_id)
                    .where(SearchLogEntry.seq > here, SearchLogEntry.seq <= numbered)
                    .order_by(SearchLogEntry.seq)
                    .limit(BATCH)
                ).all()
                if not rows:
                    return applied
                if rows[0].seq != here + 1:  # numbers are dense: a gap is a prune read meanwhile
                    raise Behind(f"index at {here}, the log goes on at {rows[0].seq}")
                index_stories({r.story_id for r in rows if r.story_id is not None}, session, build)
                partners = {r.partner_story_id for r in rows if r.partner_story_id is not None}
                if partners:
                    from nuevonorte.partners import holdings

                    holdings.write_index(partners, session, build)
            _sync_index(build)  # the index durable before the position that says it holds them
            faults.point("follow.before_position")
            set_position(build, rows[-1].seq)
            applied += len(rows)


def build_of(root: Path) -> Path:
    """The build folder the ``public`` index of ``root`` is in (``root`` itself for a build)."""
    return Path(os.path.realpath(store.index_path(store.PUBLIC, root))).parent


def _sync_index(build: Path) -> None:
    """fsync every file of both indexes of ``build``, and their folders (Whoosh does not)."""
    for kind in store.KINDS:
        folder = build / kind
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):
                    try:
                        fd = os.open(entry.path, os.O_RDONLY)
                    except FileNotFoundError:
                        continue  # replaced by a maintainer meanwhile: its successor is synced below
                    try:
                        os.fsync(fd)
                    finally:
                        os.close(fd)
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def lagging() -> bool:
    """Whether this index may lack an entry of the log (one statement and a file read): False when
    its position is the last number given and nothing waits for a number, as on a machine that
    has caught up — then no story of it can be ``stale``."""
    from nuevonorte.search.sync import own_session

    here = position()
    with own_session(write=False) as session:
        waiting = exists().where(SearchLogEntry.seq.is_(None))
        row = session.execute(select(SearchLogState.numbered, waiting)).first()
        numbered, unnumbered = (row[0], row[1]) if row else (0, session.scalar(select(waiting)))
    if unnumbered:
        return True
    return here != numbered if here is not None else bool(numbered)


def stale(story_ids: Iterable[int], partner_story_ids: Iterable[int] = ()) -> tuple[set[int], set[int]]:
    """Of these stories and partner stories, those with a change this index has not applied yet
    (an entry past its position, or not numbered yet): what the index holds of them may be wider
    than what they show now (a paragraph withheld since), so search does not show them. An index
    with no position, or one below what was pruned, may hold anything: all of them, until its
    rebuild."""
    from nuevonorte.search.sync import own_session

    ids, partner_ids = set(story_ids), set(partner_story_ids)
    if not ids and not partner_ids:
        return set(), set()
    here = position()
    with own_session(write=False) as session:
        numbered, pruned = state_of(session)
        if here is None and not numbered:
            return set(), set()  # no log yet: nothing has changed since the index was made
        if here is None or here < pruned:
            # Nothing is known of what this index holds, or the entries saying what changed
            # since it was written were pruned: any of its stories may have narrowed since.
            return ids, partner_ids
        past = or_(SearchLogEntry.seq.is_(None), SearchLogEntry.seq > here)
        found = session.execute(
            select(SearchLogEntry.story_id, SearchLogEntry.partner_story_id).where(
                past,
                or_(SearchLogEntry.story_id.in_(ids), SearchLogEntry.partner_story_id.in_(partner_ids)),
            )
        ).all()
        if here < state_of(session)[1]:  # pruned while it was read (each read sees new commits)
            return ids, partner_ids
    return {r.story_id for r in found if r.story_id in ids}, {
        r.partner_story_id for r in found if r.partner_story_id in partner_ids
    }


def behind(root: Path | None = None) -> int:
    """How many entries this index has still to apply (unnumbered ones included)."""
    from nuevonorte.search.sync import own_session

    here = position(root)
    with own_session(write=False) as session:
        numbered, _ = state_of(session)
        unnumbered = session.scalar(
            select(func.count()).select_from(SearchLogEntry).where(SearchLogEntry.seq.is_(None))
        )
    return max(0, numbered - (here if here is not None else numbered)) + (unnumbered or 0)


def prune(keep_days: int) -> int:
    """Delete numbered entries older than ``keep_days``; a machine whose index is below what was
    pruned rebuilds (``Behind``). Returns how many were deleted."""
    from nuevonorte.search.sync import own_session

    cutoff = utcnow() - timedelta(days=keep_days)
    with own_session(write=True) as session:
        old = select(func.max(SearchLogEntry.seq)).where(
            SearchLogEntry.seq.is_not(None), SearchLogEntry.queued_at < cutoff
        )
        top = session.scalar(old)
        if top is None:
            return 0
        state = _locked_state(session)
        gone = session.scalar(
            select(func.count()).select_from(SearchLogEntry).where(SearchLogEntry.seq <= top)
        )
        session.execute(delete(SearchLogEntry).where(SearchLogEntry.seq <= top))
        state.pruned_below = max(state.pruned_below, top)
        session.commit()
        return gone or 0
