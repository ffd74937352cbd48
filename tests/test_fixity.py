"""`nuevonorte fixity`: stored media re-hashed on a rotation, real files and a real database.

Each run is given its day (``today``) instead of reading the clock; the CLI tests use today.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from nuevonorte import fixity, stories
from nuevonorte.config import ConfigError, load
from nuevonorte.extensions import db
from nuevonorte.media import ingest_upload
from nuevonorte.models import MediaFile, MediaFixity, Story
from nuevonorte.storage import get_storage
from tests.media_samples import jpeg, picture, wav

DAY0 = date(2030, 3, 1)
PERIOD = 4


@pytest.fixture
def archive(app: Flask, make_story: Callable[..., Story]) -> list[Story]:
    """Four stories with a photo each (original, display and thumbnail files), one also with a
    recording: stored through ingest like any upload, files of different sizes."""
    made = []
    for n in range(4):
        story = make_story(title=f"Relato {n}")
        image = picture(1700 + 40 * n, 1200 + 30 * n)  # larger than the display copy: three files
        ingest_upload(story, io.BytesIO(jpeg(image)))
        if n == 0:
            ingest_upload(story, io.BytesIO(wav(seconds=1.0 + n)), position=1)
        db.session.commit()
        made.append(story)
    return made


def records() -> dict[tuple[int, str], date]:
    rows = db.session.execute(select(MediaFixity.media_id, MediaFixity.storage_key, MediaFixity.verified_on))
    found = {(m, k): d for m, k, d in rows}
    db.session.rollback()
    return found


def all_files() -> set[tuple[int, str]]:
    found = {(m.id, k) for m in db.session.scalars(select(MediaFile)) for k in m.storage_keys()}
    db.session.rollback()
    return found


def flip_a_byte(key: str) -> None:
    path = get_storage().path(key)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def run(day: date, **kwargs: Any) -> fixity.Result:
    return fixity.run(get_storage(), PERIOD, today=day, **kwargs)


def test_every_stored_file_has_its_checksum_in_its_key(archive: list[Story]) -> None:
    """Why fixity can verify derivatives: every key is the SHA-256 of its file's content."""
    storage = get_storage()
    files = all_files()
    roles = {f.role for f in fixity.snapshot(storage).files}
    assert roles == {"original", "display", "thumbnail"}
    assert len(files) == 13 and all(storage.verify(key) for _media, key in files)


def test_a_rotation_reads_every_file_within_the_period_a_share_a_day(archive: list[Story]) -> None:
    files = all_files()
    total_bytes = sum(get_storage().path(k).stat().st_size for _m, k in files)
    read_in_first_period = 0
    for n in range(3 * PERIOD):
        day = DAY0 + timedelta(days=n)
        result = run(day)
        assert result.problems == []
        seen = records()
        if n < PERIOD:
            read_in_first_period += result.checked
        # A share a day: never the whole store (13 files, period 4: at least 4 and 1/4 of the bytes).
        assert 4 <= result.checked <= 7, (n, result.checked)
        assert result.checked_bytes >= total_bytes / PERIOD
        assert result.total == len(files)
        if n >= PERIOD - 1:
            # From the end of the first period on, no file's last check is a period old.
            assert set(seen) == files
            assert min(seen.values()) > day - timedelta(days=PERIOD), n
            assert result.never == 0 and result.overdue == 0
            assert result.oldest == min(seen.values())
    # The first period reads the store about once, not once a day.
    assert len(files) <= read_in_first_period < 2 * len(files)


def test_new_files_go_first_and_missed_days_are_caught_up(
    archive: list[Story], make_story: Callable[..., Story]
) -> None:
    for n in range(PERIOD):
        run(DAY0 + timedelta(days=n))
    story = make_story(title="Nuevo")
    media, _report = ingest_upload(story, io.BytesIO(jpeg(picture(90, 60))))
    db.session.commit()
    new = {(media.id, k) for k in media.storage_keys()}
    result = run(DAY0 + timedelta(days=PERIOD))
    assert new <= {key for key, day in records().items() if day == DAY0 + timedelta(days=PERIOD)}
    assert result.never == 0
    # Cron stopped for two periods: the next run reads everything that became due.
    late = DAY0 + timedelta(days=3 * PERIOD)
    result = run(late)
    assert result.checked == len(all_files()) and result.overdue == 0
    assert set(records().values()) == {late}


def test_an_altered_byte_is_named_and_its_file_not_marked_verified(archive: list[Story]) -> None:
    story = archive[2]
    media = story.media[0]
    key, media_id, media_public, story_public = media.display_key, media.id, media.public_id, story.public_id
    assert key
    db.session.rollback()
    flip_a_byte(key)
    altered = get_storage().path(key).read_bytes()
    result = fixity.run(get_storage(), 1, today=DAY0)  # a period of one day: every file
    assert result.checked == 12
    assert [p.line() for p in result.problems] == [
        f"altered-file: display {key} of media {media_public} in story {story_public}"
    ]
    assert (media_id, key) not in records() and len(records()) == 12
    # Reported again by the next run, never repaired: the file is as it was.
    again = fixity.run(get_storage(), 1, today=DAY0 + timedelta(days=1))
    assert [p.key for p in again.problems] == [key]
    assert get_storage().path(key).read_bytes() == altered
    assert (media_id, key) not in records()


def test_the_cli_exits_1_on_an_altered_or_missing_file_and_0_otherwise(
    app: Flask, archive: list[Story], runner: FlaskCliRunner
) -> None:
    app.config["FIXITY_PERIOD_DAYS"] = 1  # a share of the whole store
    ok = runner.invoke(args=["fixity"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.count("\n") == 1 and ok.output.startswith("Fixity: verified 13 of 13 stored file(s)")
    original, media_public, story_public = archive[1].media[0].storage_key, "", archive[1].public_id
    media_public = archive[1].media[0].public_id
    thumbnail = archive[3].media[0].thumbnail_key
    assert thumbnail
    db.session.rollback()
    flip_a_byte(original)
    get_storage().path(thumbnail).unlink()
    bad = runner.invoke(args=["fixity"])
    assert bad.exit_code == 1
    assert f"altered-file: original {original} of media {media_public} in story {story_public}" in bad.output
    assert f"missing-file: thumbnail {thumbnail} of media {archive[3].media[0].public_id}" in bad.output
    assert "2 file(s) failed the fixity check" in bad.stderr
    assert "Fixity: verified 11 of 13" in bad.stdout


def test_a_missing_file_is_reported_even_outside_the_runs_share(archive: list[Story]) -> None:
    media = archive[3].media[0]
    key, public_id = media.storage_key, media.public_id
    db.session.rollback()
    get_storage().path(key).unlink()
    result = run(DAY0, max_files=1)
    assert result.checked == 1
    assert [(p.kind, p.key, p.media_public_id) for p in result.problems] == [("missing-file", key, public_id)]


def test_a_withdrawal_between_runs_leaves_no_record_and_no_false_report(archive: list[Story]) -> None:
    fixity.run(get_storage(), 1, today=DAY0)
    gone = {m.id for m in archive[0].media}
    assert any(m in gone for m, _k in records())
    stories.withdraw(archive[0])
    db.session.commit()
    assert not any(m in gone for m, _k in records())  # the cascade: no record outlives its row
    result = fixity.run(get_storage(), 1, today=DAY0 + timedelta(days=1))
    # 13 files less the withdrawn story's photo (three files) and recording
    assert result.problems == [] and result.total == 9 and result.checked == 9


def test_a_withdrawal_between_selection_and_reading_is_not_reported(archive: list[Story]) -> None:
    storage = get_storage()
    seen = fixity.snapshot(storage)  # the run has chosen its files...
    withdrawn = archive[1]
    gone = {m.id for m in withdrawn.media}
    stories.withdraw(withdrawn)  # ...then a contributor withdraws: rows, then files, go
    db.session.commit()
    assert any(f.media_id in gone and not storage.exists(f.key) for f in seen.files)
    result = fixity.verify(storage, seen, 1, DAY0)
    assert result.problems == []
    assert result.checked == 10  # the others were read and recorded
    assert not any(m in gone for m, _k in records())


def test_a_replaced_public_copy_is_not_reported_and_its_record_goes(archive: list[Story]) -> None:
    """The silenced copy of a recording is replaced when other passages are withheld: the old
    file is deleted, the row names the new one."""
    run(DAY0, max_files=100)
    audio = next(m for m in archive[0].media if m.kind == "audio")
    audio_id = audio.id
    old = get_storage().put_bytes(b"an old silenced copy", "ogg")
    audio.public_audio_key = old
    db.session.commit()
    assert run(DAY0 + timedelta(days=1), max_files=100).problems == []
    assert (audio_id, old) in records()
    seen = fixity.snapshot(get_storage())
    audio = db.session.get(MediaFile, audio_id)
    assert audio is not None
    audio.public_audio_key = None
    db.session.commit()
    get_storage().delete(old)
    result = fixity.verify(get_storage(), seen, 1, DAY0 + timedelta(days=2))
    assert result.problems == []
    # The next run forgets the record of the file the row no longer names.
    run(DAY0 + timedelta(days=3))
    assert (audio_id, old) not in records()


def test_the_bounds_of_a_run_are_respected(archive: list[Story]) -> None:
    assert run(DAY0, max_files=2).checked == 2
    queue = sorted(
        (f for f in fixity.snapshot(get_storage()).files), key=lambda f: f.queue_position
    )  # 11 never verified first
    sizes = [f.size or 0 for f in queue]
    budget = sizes[0] + sizes[1] + sizes[2] - 1  # the share (4 files) would read more
    result = run(DAY0 + timedelta(days=1), max_bytes=budget)
    assert result.checked == 2 and result.checked_bytes == sizes[0] + sizes[1] <= budget
    # A file larger than the budget at the head of the queue is still read, alone.
    capped = run(DAY0 + timedelta(days=2), max_bytes=1)
    assert capped.checked == 1
    # Caps too tight for the period: the summary says what is overdue.
    late = run(DAY0 + timedelta(days=30), max_files=1)
    assert late.overdue > 0 and "not verified within 4 days" in late.summary()


def test_the_cli_bounds_and_the_period_setting(
    app: Flask, archive: list[Story], runner: FlaskCliRunner
) -> None:
    assert app.config["FIXITY_PERIOD_DAYS"] == 90
    result = runner.invoke(args=["fixity"])  # a first run: 1/90 of the store
    assert result.exit_code == 0 and "Fixity: verified 1 of 13" in result.output
    app.config["FIXITY_PERIOD_DAYS"] = 1
    result = runner.invoke(args=["fixity", "--max-files", "3"])
    assert result.exit_code == 0 and "Fixity: verified 3 of 13" in result.output
    assert "9 never verified" in result.output
    result = runner.invoke(args=["fixity", "--limit-mb", "1"])
    assert result.exit_code == 0 and "Fixity: verified 13 of 13" in result.output
    assert db.session.scalar(select(func.count()).select_from(MediaFixity)) == 13
    assert runner.invoke(args=["fixity", "--max-files", "0"]).exit_code == 2


def test_the_period_must_be_at_least_a_day(tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="fixity_period_days"):
        load(str(tmp_path), {"TESTING": True, "fixity_period_days": 0})
