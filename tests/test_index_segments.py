"""Bounded segments, purges that rewrite one segment, compaction in the background, and what a
killed maintainer leaves (docs/decisions/0007; docs/security.md C05, T01, F18).

Real indexes on disk, real stories through the domain functions; the raw files are read
(``tests.index_bytes``) and segments are compared byte for byte."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC
from whoosh.reading import SegmentReader

from nuevonorte import search, stories
from nuevonorte.extensions import db
from nuevonorte.models import Cue, Story, StoryStatus, Transcript
from nuevonorte.search import store
from nuevonorte.search.whoosh_internals import segments
from nuevonorte.search.whoosh_internals.scrub import pending, scrub
from tests import index_bytes
from tests.curate_fixtures import add_audio
from tests.stopped_process import stopped_at

BOUND = 10
#: Words no other story has (letters only, so no analyser splits them).
PLACES = [f"pueblo{''.join(chr(97 + int(d)) for d in f'{i:03d}')}x" for i in range(200)]


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "search_segment_docs": BOUND}


@pytest.fixture
def archive(app: Flask, make_story: Callable[..., Story]) -> Iterator[list[Story]]:
    """35 published stories, each with a word of its own, rebuilt into bounded segments."""
    made = [
        make_story(body=f"Llegué a {PLACES[i]} un martes.\n\nAhí trabajé en la cosecha.", title=f"Relato {i}")
        for i in range(35)
    ]
    media = add_audio(made[3])  # a real recording, so `check` finds its file
    media.transcript = Transcript(
        language="es",
        cues=[Cue(position=0, start_ms=0, end_ms=900, text=f"Recuerdo {PLACES[100]} y a mi familia.")],
    )
    db.session.commit()
    search.rebuild()
    segments.wait()
    yield made
    segments.wait()
    store.forget_searchers()


def folder(kind: str) -> Path:
    return store.index_path(kind).resolve()


def segment_files(kind: str) -> dict[str, str]:
    """Each segment file of the index, by name, with the SHA-256 of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder(kind).glob("*.seg")}


def live_segments(kind: str) -> list[Any]:
    return store.open_index(kind)._segments()


def found(word: str) -> set[str]:
    return {hit.public_id for hit in search.search_public(word, "es").hits}


def holding(app: Flask, word: str) -> list[str]:
    return index_bytes.files_holding(Path(app.config["INDEX_DIR"]), word)


def test_a_rebuild_writes_segments_no_larger_than_the_bound(archive: list[Story]) -> None:
    for kind in store.KINDS:
        sizes = [s.doc_count_all() for s in live_segments(kind)]
        assert sizes == [10, 10, 10, 5], kind
    assert found(PLACES[34]) == {archive[34].public_id}
    assert found(PLACES[100]) == {archive[3].public_id}  # a transcript, in its segment


def test_a_withdrawal_rewrites_only_the_segment_that_held_the_story_C05(
    app: Flask, archive: list[Story]
) -> None:
    """The story is hidden at its commit; its words then leave the files, and every other
    segment's file is left byte for byte as it was."""
    before = {kind: segment_files(kind) for kind in store.KINDS}
    story = archive[14]  # the second segment of each index
    stories.withdraw(story)
    db.session.commit()
    assert found(PLACES[14]) == set()  # at once, whatever the purge is doing
    assert holding(app, PLACES[14]) == []  # once the background purge is done
    for kind in store.KINDS:
        after = segment_files(kind)
        assert len(set(after) - set(before[kind])) == 1, kind  # one new segment file...
        assert len(set(before[kind]) - set(after)) == 1, kind  # ...in the place of one
        kept = set(after) & set(before[kind])
        assert all(after[name] == before[kind][name] for name in kept)
        assert not store.pending_purge(kind)
    assert found(PLACES[15]) == {archive[15].public_id}  # its neighbours stay findable


def test_a_withheld_transcript_passage_is_purged_from_the_public_segment_T01(
    app: Flask, archive: list[Story]
) -> None:
    cue = archive[3].media[0].transcript.cues[0]
    cue.restricted = True
    db.session.commit()
    assert found(PLACES[100]) == set()
    public = [f for f in holding(app, PLACES[100]) if "/public/" in f]
    assert public == []
    assert holding(app, PLACES[3])  # the rest of the story is still indexed


@pytest.mark.parametrize("which", [[0], [9], [0, 4, 9], list(range(1, 10)), [2, 3]])
def test_scrub_leaves_what_a_full_whoosh_merge_would_leave_C05(
    app: Flask, archive: list[Story], tmp_path: Path, which: list[int]
) -> None:
    """A scrubbed segment holds, term by term, the same postings, frequencies and stored
    fields as Whoosh's own rewrite of the segment (its merge), and no term the deleted
    documents alone had."""
    for kind in store.KINDS:
        source = folder(kind)
        merged, scrubbed = tmp_path / f"{kind}-merged", tmp_path / f"{kind}-scrubbed"
        shutil.copytree(source, merged)
        shutil.copytree(source, scrubbed)
        # Whoosh's way: delete, then merge every segment into one.
        ix = whoosh_index.open_dir(str(merged))
        w = ix.writer()
        first = ix._segments()[0]
        for docnum in which:
            w.delete_document(docnum)
        w.commit(optimize=True)
        # Ours: mark the same documents deleted in the first segment, scrub it.
        ix = whoosh_index.open_dir(str(scrubbed))
        segs = ix._segments()
        for docnum in which:
            segs[0].delete_document(docnum)
        work = scrubbed / ".work"
        new = scrub(ix.storage, ix.schema, segs[0], work)
        assert pending(new) == set()
        shutil.move(str(work / f"{new.segment_id()}.seg"), scrubbed / f"{new.segment_id()}.seg")
        shutil.rmtree(work)
        TOC(ix.schema, [new, *segs[1:]], ix.latest_generation() + 1).write(FileStorage(str(scrubbed)), "MAIN")
        gone = {f["sid"] for n, f in SegmentReader(ix.storage, ix.schema, first).iter_docs() if n in which}

        def whole(path: Path) -> dict[str, Any]:
            ix = whoosh_index.open_dir(str(path))
            with ix.reader() as r:
                sid = {n: f["sid"] for n, f in r.iter_docs()}
                out = {}
                for field, text in r.all_terms():
                    m = r.postings(field, text)
                    rows = []
                    while m.is_active():
                        rows.append((sid[m.id()], round(m.weight(), 4), m.value()))
                        m.next()
                    out[(field, text)] = (sorted(rows), r.doc_frequency(field, text))
                stored = {f["sid"]: f for _, f in r.iter_docs()}
            return {"postings": out, "stored": stored}

        ours, whooshs = whole(scrubbed), whole(merged)
        assert ours["stored"] == whooshs["stored"] and not gone & set(ours["stored"])
        assert ours["postings"].keys() == whooshs["postings"].keys()
        assert ours["postings"] == whooshs["postings"]


def test_publishes_stay_in_few_segments_none_above_the_bound(
    app: Flask, make_story: Callable[..., Story]
) -> None:
    """120 single publishes: small segments are merged tier by tier in the background."""
    search.rebuild()
    made = []
    for i in range(120):
        made.append(make_story(body=f"Crucé por {PLACES[i]}."))
        segments.wait()
    for kind in store.KINDS:
        sizes = [s.doc_count_all() for s in live_segments(kind)]
        assert max(sizes) <= BOUND, kind
        assert len(sizes) <= 120 // BOUND + 9, (kind, sizes)  # full ones, and at most 9 small
        assert sum(sizes) == 120
    assert all(found(PLACES[i]) == {made[i].public_id} for i in (0, 57, 119))
    assert not list(folder(store.PUBLIC).glob(".nn-work-*"))


def test_a_deletion_made_during_a_purge_is_purged_too_and_the_lock_stays_free(
    app: Flask, archive: list[Story], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a purge's copy is written (paused here), another withdrawal in the same segment
    commits — it needs the index lock, which the purge does not hold — and is carried over
    to the copy, then purged in turn."""
    monkeypatch.setenv("NUEVONORTE_TEST_FAULT", "index.purge.written=sleep:2")
    stories.withdraw(archive[21])
    db.session.commit()
    deadline = time.monotonic() + 30
    while not list(folder(store.PUBLIC).glob(".nn-work-*/*.seg")) and not list(
        folder(store.STAFF).glob(".nn-work-*/*.seg")
    ):
        assert time.monotonic() < deadline, "the purge never wrote its copy"
        time.sleep(0.01)
    stories.withdraw(archive[22])  # same segment (20-29); the purge is paused mid-way
    db.session.commit()
    assert found(PLACES[21]) == found(PLACES[22]) == set()
    segments.wait()
    monkeypatch.delenv("NUEVONORTE_TEST_FAULT")
    assert holding(app, PLACES[21]) == [] and holding(app, PLACES[22]) == []
    assert not any(store.pending_purge(kind) for kind in store.KINDS)
    assert found(PLACES[23]) == {archive[23].public_id}


def test_check_reports_segments_and_a_late_purge(
    app: Flask, archive: list[Story], runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["check"])
    assert result.exit_code == 0, result.output
    assert "public index: 4 segment(s), 35 document(s), largest segment 10 (bound 10); no purge pending" in (
        result.output
    )
    # A deletion stamped an hour ago and never purged (no maintainer ran): P0, then purged.
    ix = store.open_index(store.PUBLIC)
    w = ix.writer()
    w.delete_by_term("sid", str(archive[5].id))
    w.commit(mergetype=lambda writer, segs: _stamped_long_ago(segs))
    assert store.pending_purge(store.PUBLIC)
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert "P0 public-index-unpurged: 1 deleted document(s) still in the files" in result.output
    assert "public-index-missing" in result.output  # the story is public: indexed again
    assert not store.pending_purge(store.PUBLIC)
    assert found(PLACES[5]) == {archive[5].public_id}
    assert runner.invoke(args=["check"]).exit_code == 0


def _stamped_long_ago(segs: list[Any]) -> list[Any]:
    for s in segs:
        if pending(s):
            s.nn_pending_since = int(time.time()) - 3600
    return segs


# --- a maintainer killed with SIGKILL at each step (F18) -----------------------------------

WITHDRAW = """
import json, os, sys
from nuevonorte import create_app, stories
from nuevonorte.extensions import db
from nuevonorte.models import Cue, Story, StoryStatus, Transcript
from nuevonorte.search.whoosh_internals import segments
app = create_app(json.loads(os.environ["NN_TEST_CONFIG"]))
with app.app_context():
    for sid in json.loads(os.environ["NN_TEST_STORIES"]):
        story = db.session.get(Story, sid)
        if os.environ["NN_TEST_ACTION"] == "withdraw":
            stories.withdraw(story)
        else:
            stories.publish(story, None)
        db.session.commit()
    segments.wait()
"""


FINISHERS = ("next writer", "check", "a worker's first request")


def _stopped(app_config: dict[str, Any], point: str, action: str, ids: list[int]) -> subprocess.Popen[bytes]:
    env = {"NN_TEST_STORIES": json.dumps(ids), "NN_TEST_ACTION": action}
    return stopped_at(WITHDRAW, app_config, point, env)


@pytest.mark.parametrize(
    ("point", "finisher"),
    [
        *((p, f) for p in ("index.purge.written", "index.swap.moved") for f in FINISHERS),
        # killed between the database commit and the index write: the search-log entry is the work
        ("commit.before_index", "a worker's first request"),
        ("commit.before_index", "check"),
    ],
)
def test_a_purge_killed_at_each_step_is_finished_by_the_next_writer_or_check_F18(
    app: Flask,
    app_config: dict[str, Any],
    archive: list[Story],
    runner: FlaskCliRunner,
    client: FlaskClient,
    make_story: Callable[..., Story],
    point: str,
    finisher: str,
) -> None:
    db.session.commit()
    proc = _stopped(app_config, point, "withdraw", [archive[12].id])
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    db.session.rollback()  # a read begun after the other process's commit (reading .id began one)
    assert found(PLACES[12]) == set()  # hidden since its commit, whatever the index holds
    if point != "index.swap.moved":  # the dead process's copy, or its index, still hold the words
        assert holding(app, PLACES[12])
    db.session.rollback()  # end the read the search above began, before writing
    if finisher == "next writer":
        make_story(body=f"Después llegué a {PLACES[150]}.")
    elif finisher == "a worker's first request":
        assert client.get("/es/").status_code == 200
    else:
        runner.invoke(args=["check"])  # reports what the dead process left, and repairs it
        segments.wait()  # the purge a repair marks runs in the background, seconds later
        again = runner.invoke(args=["check"])
        assert again.exit_code == 0 and "no purge pending" in again.output, again.output
    segments.wait()
    assert holding(app, PLACES[12]) == []
    for kind in store.KINDS:
        assert not store.pending_purge(kind)
        left = list(folder(kind).glob(".nn-work-*"))
        assert not left, [(p.name, sorted(x.name for x in p.rglob("*")), p.stat().st_mtime) for p in left]
        listed = {s.segment_id() for s in live_segments(kind)}
        assert {p.name[: -len(".seg")] for p in folder(kind).glob("*.seg")} == listed
    result = runner.invoke(args=["check"])
    assert "P0" not in result.output  # at most the killed request's search-log entry, applied now
    assert runner.invoke(args=["check"]).exit_code == 0
    assert found(PLACES[13]) == {archive[13].public_id}


def test_a_merge_killed_after_writing_is_done_again_and_loses_nothing_F18(
    app: Flask,
    app_config: dict[str, Any],
    make_story: Callable[..., Story],
    runner: FlaskCliRunner,
) -> None:
    """Nine one-story segments, then a tenth publish in another process whose merge is killed
    once its merged segment is written: the next writer merges them, no story is lost."""
    search.rebuild()
    made = [make_story(body=f"Crucé por {PLACES[i]}.") for i in range(9)]
    segments.wait()
    assert len(live_segments(store.PUBLIC)) == 9
    tenth = make_story(body=f"Crucé por {PLACES[9]}.", status=StoryStatus.SUBMITTED)
    db.session.commit()
    proc = _stopped(app_config, "index.merge.written", "publish", [tenth.id])
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    db.session.rollback()
    make_story(body=f"Crucé por {PLACES[10]}.")
    segments.wait()
    for kind in store.KINDS:
        assert not list(folder(kind).glob(".nn-work-*"))
        assert len(live_segments(kind)) < 10
    assert all(found(PLACES[i]) == {made[i].public_id} for i in range(9))
    assert found(PLACES[9]) == {tenth.public_id}
    assert runner.invoke(args=["check"]).exit_code == 0
