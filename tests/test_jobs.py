"""The job queue without speech: claims and leases, recovery of what a dead worker left, the Redis
engine, the worker command, configuration, and the grouping of words into passages."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update

from nuevonorte.config import ConfigError, load
from nuevonorte.extensions import db
from nuevonorte.jobs import queue, records, worker
from nuevonorte.models import Job, JobState, Story, StoryStatus
from nuevonorte.models.base import utcnow
from nuevonorte.transcribe import cues as grouping
from nuevonorte.transcribe.model import BUNDLED_LIST, ModelUnavailable, parse_hash_list
from tests.curate_fixtures import add_audio, add_image
from tests.job_support import job_row

MakeStory = Callable[..., Story]


def a_job(make_story: MakeStory) -> int:
    story = make_story(status=StoryStatus.SUBMITTED)
    job = records.request_draft(add_audio(story))
    db.session.commit()
    return job.id


def test_one_claim_wins_and_a_live_lease_keeps_others_out(app: Flask, make_story: MakeStory) -> None:
    job_id = a_job(make_story)
    token = records.claim(job_id)
    assert token is not None
    assert records.claim(job_id) is None  # a second delivery of the same message does nothing
    assert records.renew(job_id, token, 40)
    assert job_row(job_id).progress == 40
    assert not records.renew(job_id, "someone-else", 50)


def test_a_passed_lease_is_recovered_and_the_old_holder_cannot_write(
    app: Flask, make_story: MakeStory
) -> None:
    job_id = a_job(make_story)
    token = records.claim(job_id)
    assert token is not None
    db.session.execute(
        update(Job).where(Job.id == job_id).values(lease_until=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    handed: list[int] = []
    assert records.recover(set, lambda i, _kind: handed.append(i)) == 1 and handed == [job_id]
    assert job_row(job_id).state == JobState.QUEUED
    fresh = records.claim(job_id)
    assert fresh is not None and fresh != token
    assert not records.renew(job_id, token, 10)  # the presumed-dead worker woke up: it must stop
    records.end(job_id, token, JobState.DONE)  # and cannot finish the job
    assert job_row(job_id).state == JobState.RUNNING and job_row(job_id).attempts == 2


def test_a_job_the_queue_lost_is_handed_over_again(app: Flask, make_story: MakeStory) -> None:
    job_id = a_job(make_story)
    assert job_id in queue.queued_ids()
    assert queue.engine().dequeue() is not None  # the message is gone (a lost hand-over)
    assert records.recover(queue.queued_ids, queue.enqueue) == 1
    assert job_id in queue.queued_ids()
    assert records.recover(queue.queued_ids, queue.enqueue) == 0  # no duplicate


def test_a_job_that_keeps_dying_is_given_up(app: Flask, make_story: MakeStory) -> None:
    job_id = a_job(make_story)
    db.session.execute(update(Job).where(Job.id == job_id).values(attempts=records.MAX_ATTEMPTS))
    db.session.commit()
    assert records.claim(job_id) is None
    given_up = job_row(job_id)
    assert (given_up.state, given_up.reason) == (JobState.FAILED, "too_many_attempts")


def test_only_recordings_can_be_drafted(app: Flask, make_story: MakeStory) -> None:
    story = make_story(status=StoryStatus.SUBMITTED)
    with pytest.raises(records.Refused, match="not_a_recording"):
        records.request_draft(add_image(story))


def test_a_job_whose_commit_rolled_back_is_never_queued(app: Flask, make_story: MakeStory) -> None:
    story = make_story(status=StoryStatus.SUBMITTED)
    media = add_audio(story)
    records.request_draft(media)
    db.session.rollback()
    assert queue.queued_ids() == set()


def test_the_worker_command_drains_the_queue(
    app: Flask, make_story: MakeStory, runner: FlaskCliRunner
) -> None:
    job_id = a_job(make_story)
    app.config.update(TRANSCRIBE_MODEL_DIR="/nonexistent", TRANSCRIBE_MODEL_SHA256=str(BUNDLED_LIST))
    result = runner.invoke(args=["worker", "--drain"])
    assert result.exit_code == 0 and "1 job(s) run." in result.output
    assert (job_row(job_id).state, job_row(job_id).reason) == (JobState.FAILED, "model_missing")


def test_jobs_run_through_redis_when_it_is_configured(
    app: Flask, make_story: MakeStory, redis_url: str
) -> None:
    app.config["QUEUE_URL"] = redis_url
    app.extensions.pop(queue.EXTENSION, None)
    app.config.update(TRANSCRIBE_MODEL_DIR="/nonexistent", TRANSCRIBE_MODEL_SHA256=str(BUNDLED_LIST))
    job_id = a_job(make_story)
    assert type(queue.engine()).__name__ == "PriorityRedisHuey"
    assert queue.queued_ids() == {job_id}
    assert not Path(app.config["QUEUE_PATH"]).exists()  # nothing went to the SQLite queue
    assert worker.drain(app) == 1
    assert job_row(job_id).reason == "model_missing"
    assert queue.queued_ids() == set()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"queue_url": "amqp://x"}, "queue_url"),
        ({"job_lease_seconds": 1}, "job_lease_seconds"),
        ({"transcribe_model_dir": "/srv/model"}, "go together"),
    ],
)
def test_a_wrong_queue_or_model_setting_stops_the_archive_with_one_line(values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load("/tmp", {"TESTING": True, **values})


@pytest.mark.parametrize(
    "text",
    [
        "not a hash  config.json",
        "0" * 64 + "  ../config.json",
        "0" * 64 + "  config.json\n" + "0" * 64 + "  model.bin",  # no tokenizer.json
    ],
)
def test_a_hash_list_that_cannot_be_trusted_is_refused(text: str) -> None:
    with pytest.raises(ModelUnavailable) as refused:
        parse_hash_list(text, "list")
    assert refused.value.code == "model_refused"


def test_the_bundled_hash_list_names_every_file_a_model_needs() -> None:
    names = parse_hash_list(BUNDLED_LIST.read_text(), "bundled")
    assert set(names) == {"config.json", "model.bin", "tokenizer.json", "vocabulary.txt"}


words = st.lists(
    st.tuples(
        st.floats(0, 3, allow_nan=False),
        st.floats(0, 2, allow_nan=False),
        st.sampled_from([" sí", " la", " frontera.", " y", " caminamos", "…", " ¿dónde?", " " + "a" * 90]),
    ),
    max_size=60,
)


@given(words)
def test_words_become_ordered_passages_that_lose_no_word(gaps: list[tuple[float, float, str]]) -> None:
    clock, heard = 0.0, []
    for gap, length, text in gaps:
        heard.append(grouping.Word(clock + gap, clock + gap + length, text))
        clock += gap + length
    passages = grouping.group(heard)
    # Every character heard is in one passage, in order (a word glued to the one before it, as
    # Whisper gives "…", may start the next passage after a pause).
    assert "".join("".join(p.text.split()) for p in passages) == "".join(
        "".join(w.text for w in heard).split()
    )
    assert all(p.text for p in passages)
    assert all(p.start_ms <= p.end_ms for p in passages)
    assert all(a.end_ms <= b.start_ms for a, b in itertools.pairwise(passages))
    for p in passages:
        assert len(p.text) <= grouping.MAX_CHARACTERS or " " not in p.text


def test_a_long_quiet_step_keeps_its_lease_and_a_cancel_reaches_it(app: Flask, make_story: MakeStory) -> None:
    """The lease proves the worker is alive, not that it reports: a step longer than the lease
    (a large model loading) keeps the job; a withdrawal meanwhile clears the event the work checks."""
    app.config["JOB_LEASE_SECONDS"] = 2
    job_id = a_job(make_story)
    token = records.claim(job_id)
    assert token is not None
    with records.kept_alive(job_id, token) as alive:
        time.sleep(2.6)  # past the first lease, with no progress reported
        assert records.recover(set, lambda *_: None) == 0
        assert job_row(job_id).claim == token
        records.cancel_for_media([job_row(job_id).media_id or 0])
        db.session.commit()
        deadline = time.monotonic() + 5
        while alive.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive.is_set()
    assert job_row(job_id).state == JobState.CANCELLED


def test_a_retry_whose_time_came_runs_with_drain_from_cron(app: Flask, make_story: MakeStory) -> None:
    """``worker --drain`` has no scheduler: a retry Huey scheduled is moved to the queue once its
    time has come, and one overdue counts as lost for recovery (never a job waiting forever)."""
    app.config.update(TRANSCRIBE_MODEL_DIR="/nonexistent", TRANSCRIBE_MODEL_SHA256=str(BUNDLED_LIST))
    job_id = a_job(make_story)
    huey = queue.engine()
    task = huey.dequeue()
    assert task is not None
    task.eta = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=5)  # Huey keeps naive UTC
    huey.add_schedule(task)
    assert job_id not in queue.queued_ids()  # overdue: recovery would hand it over again
    assert worker.drain(app) >= 1
    assert (job_row(job_id).state, job_row(job_id).reason) == (JobState.FAILED, "model_missing")
    assert huey.scheduled() == [] and huey.pending() == []


def test_a_silenced_copy_is_taken_before_drafts_that_wait(app: Flask, make_story: MakeStory) -> None:
    """A curator withholds a passage while hours of drafts wait: the copy that gives the recording
    back to the public is the next job taken, not the last."""
    from nuevonorte import transcripts
    from nuevonorte.models import JobKind

    story = make_story(status=StoryStatus.SUBMITTED)
    drafts = [records.request_draft(add_audio(story)).id for _ in range(3)]
    withheld = add_audio(story)
    transcripts.set_cues(withheld, [transcripts.ParsedCue(0, 500, "Calle.", restricted=True)], "es", None)
    copy = records.request_silenced_copy(withheld)
    db.session.commit()
    assert copy is not None and copy.kind == JobKind.SILENCED_COPY
    taken = queue.engine().dequeue()
    assert taken is not None and taken.args == (copy.id,)
    assert queue.queued_ids() == set(drafts)
