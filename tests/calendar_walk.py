"""What the walks of an archive through days share (the change feed's, the term counts'): a
fresh archive for each Hypothesis example, driven in its own app context with an isolated test
client, a clock that moves a day at a time (embargoes end with no write), and the end of it."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from freezegun import freeze_time
from freezegun.api import TickingDateTimeFactory, _freeze_time
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, rule, run_state_machine_as_test

from nuevonorte import create_app, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Story, StoryStatus, Visibility
from nuevonorte.models.base import today, utcnow
from tests.conftest import POSTGRES_URL, IsolatedClient, _empty_tables, archive_settings


class CalendarWalk(RuleBasedStateMachine):
    """One archive for each example (``make_app``, set by ``run_walk``), and the days passing."""

    make_app: Any = None

    #: The stories a walk made (a subclass adds to it: ``stories_ = CalendarWalk.stories_``).
    stories_ = Bundle("stories")

    def __init__(self) -> None:
        super().__init__()
        self.app: Flask = self.make_app()
        self.ctx = self.app.app_context()
        self.ctx.push()
        # Each request in a context (and database session) of its own, as on a real server.
        self.app.test_client_class = IsolatedClient
        self.client = self.app.test_client()
        self.freezer: _freeze_time | None = None
        self.clock: TickingDateTimeFactory | None = None

    @rule()
    def a_day_passes(self) -> None:
        """The clock moves a day on: embargoes that end show stories with no write."""
        db.session.rollback()
        if self.clock is None:
            # Hypothesis times itself (and how long it may shrink) with the real clock.
            self.freezer = freeze_time(utcnow() + timedelta(days=1), tick=True, ignore=["hypothesis"])
            clock = self.freezer.start()
            assert isinstance(clock, TickingDateTimeFactory)
            self.clock = clock
        else:
            self.clock.move_to(self.clock() + timedelta(days=1))

    @rule(
        sid=stories_,
        action=st.sampled_from(
            ["curators only", "nobody but me", "public again", "wait a day", "wait two days", "withdraw"]
        ),
    )
    def the_narrator_acts(self, sid: int, action: str) -> None:
        """The narrator narrows who may see it (it leaves public view at once), makes it public
        again with no embargo (a published story goes back to review), asks that it wait a day
        or two (a narrowing, unless a later embargo held), or withdraws it."""
        story = self._story(sid)
        current = story.current_consent
        if story.status == StoryStatus.WITHDRAWN or current is None:
            return
        choices = ConsentChoices.of(current)
        if action == "withdraw":
            stories.withdraw(story)
        else:
            choices = {
                "curators only": replace(choices, visibility=Visibility.CURATORS),
                "nobody but me": replace(choices, visibility=Visibility.CONTRIBUTOR),
                "public again": replace(choices, visibility=Visibility.PUBLIC, embargo_until=None),
                "wait a day": replace(choices, embargo_until=today() + timedelta(days=1)),
                "wait two days": replace(choices, embargo_until=today() + timedelta(days=2)),
            }[action]
            stories.change_consent(story, choices, language="es")
        db.session.commit()

    def _story(self, sid: int) -> Story:
        db.session.rollback()  # a fresh read, after whatever requests committed
        story = db.session.get(Story, sid)
        assert story is not None
        return story

    def teardown(self) -> None:
        db.session.remove()
        if POSTGRES_URL:
            _empty_tables()
        db.engine.dispose()
        self.ctx.pop()
        if self.freezer is not None:
            self.freezer.stop()


def run_walk(
    machine: type[CalendarWalk],
    examples: int,
    template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
) -> None:
    """Walk ``machine`` ``examples`` times, each on a fresh archive (the migrated SQLite template,
    or the test's PostgreSQL schema emptied after each example)."""

    def make_app() -> Flask:
        folder = tmp_path_factory.mktemp(name)
        url = POSTGRES_URL
        if not url:
            shutil.copyfile(template, folder / "archive.sqlite3")
            url = f"sqlite:///{folder / 'archive.sqlite3'}"
        return create_app(archive_settings(folder, url))

    machine.make_app = staticmethod(make_app)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=20,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
