"""The consent lifecycle as sequences: random walks of what contributors, curators and admins do,
with every surface and the raw files checked after every step (docs/security.md T01–T06,
T09, C02, C05, C06, C22, F09; issue 10).

What people do: contribute (a story with a recording, its transcript and a photo), publish,
withhold paragraphs and passages, re-upload the transcript, narrow consent (curators only,
nobody but me, anonymous), add an embargo, widen again (back to review), withdraw the
recording, withdraw the story, add it to a published collection with a curator's note and take
it out, name a passage's speaker and add a part (segment) to the recording (C22), rebuild the
search index (at once or concurrently) and run ``nuevonorte check``.

Each story carries unique marker words: its title, each paragraph, its credited name and each
transcript passage. The test keeps its own model of the rules — a marker is public when the story
is published, its newest consent says public, the marker is not withheld, and (for the name) the
credit is not anonymous — and after every step compares it with (a speaker label and a part's
title are shown on the story page only, never found by search: C22):

- public search (page and JSON API) in both languages: a hidden marker finds nothing; a public
  one finds its story, so the walk is not vacuous; a quoted phrase of a paragraph's two marker
  words finds it only while both are shown;
- the public story page and the collection page in Spanish and English (through the page
  cache: no cookies), and search suggestions for a misspelt hidden word;
- the photo's three variants (GET and HEAD): served exactly while the story is public;
- the public recording (GET and Range), decoded: silent in every withheld passage, heard in the
  others, and not served at all when the story is not public;
- the media folder: exactly the files the database references, nothing else;
- the raw bytes of every public index file of every build under INDEX_DIR, zlib streams inflated;
- for a withdrawn story (and a withdrawn recording's transcript), also every staff index file,
  the SQLite database and its journals, and the media folder.

A rebuild runs either at once or concurrently (a thread paused inside it while other steps run),
and ``nuevonorte check`` must agree with the database whenever no rebuild runs. The CI
profile is 30 walks of 15 steps (about a minute on SQLite); ``NUEVONORTE_LIFECYCLE_EXAMPLES=300``
walks much further by hand.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import shutil
import string
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from nuevonorte import (
    collections,
    consent,
    corrections,
    create_app,
    curation,
    database,
    description,
    drafts,
    search,
    sensitive,
    stories,
    transcripts,
    translations,
    withheld_words,
)
from nuevonorte.consent import ConsentChoices
from nuevonorte.description import Description
from nuevonorte.extensions import db
from nuevonorte.jobs import records as jobs
from nuevonorte.jobs import worker
from nuevonorte.media import ingest_upload
from nuevonorte.models import (
    Collection,
    Credit,
    CuratorAccount,
    CuratorDraft,
    MediaFile,
    Provenance,
    Role,
    SensitiveDismissal,
    Story,
    StoryStatus,
    Visibility,
)
from nuevonorte.models.base import today
from nuevonorte.search import warmup
from nuevonorte.search.whoosh_internals import postings_cache
from tests import index_bytes, media_samples, oai_schemas
from tests.conftest import POSTGRES_URL, TEST_SECRET, IsolatedClient, _empty_tables
from tests.media_samples import LOUD, SILENT, fetched, loudness
from tests.s3_server import S3Server
from tests.search_fixtures import PausedRebuild

EXAMPLES = int(os.environ.get("NUEVONORTE_LIFECYCLE_EXAMPLES", "30"))
_words = ("".join(p) for p in itertools.product(string.ascii_lowercase, repeat=3))


def saved(cue: Any) -> transcripts.ParsedCue:
    """A saved passage as the editor sends it back unchanged (its withheld words included)."""
    words = withheld_words.of_cue(cue)
    assert words is not None
    return transcripts.ParsedCue(
        cue.start_ms, cue.end_ms, cue.text, cue.translation, cue.restricted, cue.speaker, words
    )


def marker() -> str:
    """A word found nowhere else (letters only, so no analyser splits it)."""
    return f"zqx{next(_words)}vwk"


@dataclass
class Model:
    """What the rules say about one story."""

    story_id: int
    public_id: str
    title: str
    paragraphs: list[str]
    name: str
    cues: list[str]
    status: StoryStatus = StoryStatus.SUBMITTED
    visibility: Visibility = Visibility.PUBLIC
    credit: Credit = Credit.NAME
    withheld_paragraphs: set[int] = field(default_factory=set)
    spans: list[str] = field(default_factory=list)  # one more word in each paragraph...
    withheld_spans: set[int] = field(default_factory=set)  # ...withheld alone by a curator
    corrected: set[int] = field(default_factory=set)  # paragraphs a curator corrected (C24)
    withheld_cues: set[int] = field(default_factory=set)
    cue_spans: list[str] = field(default_factory=list)  # one more word in each cue...
    withheld_cue_spans: set[int] = field(default_factory=set)  # ...withheld alone (C23)
    kept_flags: set[int] = field(default_factory=set)  # paragraphs whose flag a curator kept
    recording: str = ""  # the public id of its recording
    photo: str = ""  # the public id of its photo
    note: str = ""  # a curator's note about it in the collection
    staff_note: str = ""  # words of a curators' internal note (never public, gone on withdrawal)
    message: str = ""  # words of the message to its narrator (only in "my stories")
    translations: list[str] = field(default_factory=list)  # the body's paragraphs in English
    draft: str = ""  # words a curator typed after their session expired (kept, unsaved: A26)
    draft_kept: bool = False
    embargoed: bool = False
    recording_gone: bool = False  # the contributor withdrew the recording
    in_collection: bool = False
    speaker: str = ""  # a speaker label a curator gave one passage (it can name a person)
    part: str = ""  # the title of a part (segment) of the recording a curator added
    speaker_cue: int | None = None  # the passage the label is on
    part_cue: int | None = None  # the passage inside which the part starts
    was_visible: bool = False  # public after some step: harvesters must learn it left (OAI)
    machine_draft: bool = False  # its transcript came from speech recognition, not yet reviewed (C27)

    def markers(self) -> list[str]:
        words = [
            self.title,
            *self.paragraphs,
            *self.spans,
            *self.translations,
            self.name,
            *self.cues,
            *self.cue_spans,
            self.note,
            self.staff_note,
            self.message,
            self.draft,
            self.speaker,
            self.part,
        ]
        return [w for w in words if w]  # a label and a part exist once a curator adds them

    def on_collection_page(self) -> set[str]:
        """The story's title and the curator's note about it, while it is public and collected."""
        return {self.title, self.note} if self.visible() and self.in_collection else set()

    def gone_markers(self) -> list[str]:
        """Words that must be in no file at all: all of a withdrawn story's, a withdrawn
        recording's transcript."""
        if self.status == StoryStatus.WITHDRAWN:
            return self.markers()
        gone = (*self.cues, *self.cue_spans, self.speaker, self.part)
        return [w for w in gone if w] if self.recording_gone else []

    def visible(self) -> bool:
        return (
            self.status == StoryStatus.PUBLISHED
            and self.visibility == Visibility.PUBLIC
            and not self.embargoed
        )

    def audible(self) -> bool:
        """The contributor lets their voice be heard; the rest is the story's visibility."""
        return self.visible() and not self.recording_gone

    def public_markers(self) -> set[str]:
        if not self.visible():
            return set()
        shown = {self.title}
        shown |= {p for i, p in enumerate(self.paragraphs) if i not in self.withheld_paragraphs}
        hidden = self.withheld_paragraphs | self.withheld_spans
        shown |= {w for i, w in enumerate(self.spans) if i not in hidden}
        # C20: a withheld paragraph is withheld in its translation too. A paragraph with withheld
        # words shows its translation only once as many are withheld in it (the walk withholds
        # none there), and a corrected one only once someone checks it again (C24): until then
        # visitors read the paragraph as told.
        hidden |= self.corrected
        shown |= {t for i, t in enumerate(self.translations) if i not in hidden}
        if not self.recording_gone and not self.machine_draft:
            shown |= {c for i, c in enumerate(self.cues) if i not in self.withheld_cues}
            hidden_spans = self.withheld_cues | self.withheld_cue_spans
            shown |= {w for i, w in enumerate(self.cue_spans) if i not in hidden_spans}
        if self.credit != Credit.ANONYMOUS:
            shown.add(self.name)
        return shown

    def label_shown(self) -> bool:
        """C22: a speaker label is public with its passage, but not under anonymous credit."""
        return (
            self.audible()
            and not self.machine_draft
            and self.speaker_cue is not None
            and self.speaker_cue not in self.withheld_cues
            and self.credit != Credit.ANONYMOUS
        )

    def part_shown(self) -> bool:
        """C22: a part is public with the recording, unless it starts in a withheld passage."""
        return self.audible() and self.part_cue is not None and self.part_cue not in self.withheld_cues

    def only_on_the_page(self) -> set[str]:
        """Words the story page shows but no search ever finds (labels and parts, C22)."""
        return {
            w for w, shown in ((self.speaker, self.label_shown()), (self.part, self.part_shown())) if shown
        }

    def silent_cues(self) -> set[int]:
        """Passages heard as silence: withheld, or with words withheld in them (C23)."""
        return self.withheld_cues | self.withheld_cue_spans

    def vtt(self) -> str:
        blocks = [
            f"00:00:{4 * i:02d}.000 --> 00:00:{4 * i + 4:02d}.000\nVoz {c} y {w}."
            for i, (c, w) in enumerate(zip(self.cues, self.cue_spans, strict=True))
        ]
        return "WEBVTT\n\n" + "\n\n".join(blocks) + "\n"


class Lifecycle(RuleBasedStateMachine):
    """One archive, driven through the domain layer, checked through every surface."""

    make_app: Any = None  # set by the test function: builds a fresh archive for each example
    #: The names of the stored media files, read where they are kept (the media folder on disk,
    #: or the S3 server's own folder for the archive's bucket); set by the test function.
    stored_names: Any = None

    def __init__(self) -> None:
        super().__init__()
        self.app: Flask = self.make_app()
        self.ctx = self.app.app_context()
        self.ctx.push()
        # Write as requests and commands do (BEGIN IMMEDIATE on SQLite), so a step queues behind
        # a concurrent rebuild's writes instead of failing.
        self.writes = database.write_intent()
        self.writes.__enter__()
        search.rebuild()
        # Each request in a context of its own, as on a real server: a shared one would keep the
        # first request's language for every page (Flask-Babel caches it in ``g``).
        self.app.test_client_class = IsolatedClient
        self.client = self.app.test_client()
        self.models: dict[int, Model] = {}
        self.rebuild_thread: PausedRebuild | None = None
        self.rebuild_errors: list[BaseException] = []
        self.recording = media_samples.wav(seconds=8.0)
        self.photo = media_samples.jpeg()
        self.collection = collections.create(None, "Colección", "Collection")  # type: ignore[arg-type]
        collections.publish(self.collection, None)  # type: ignore[arg-type]
        self.curator = CuratorAccount(email="lifecycle@example.org", password_hash="-", role=Role.CURATOR)
        db.session.add(self.curator)
        db.session.commit()
        self.collection_url = f"/es/collections/{self.collection.public_id}"

    stories_ = Bundle("stories")

    # --- what people do ------------------------------------------------------------------

    @rule(target=stories_, published=st.booleans(), cue_withheld=st.booleans(), drafted=st.booleans())
    def contribute(self, published: bool, cue_withheld: bool, drafted: bool) -> int:
        """A contribution with marker words everywhere; half the time a curator publishes it at
        once, and half the time its second cue is withheld from the start, so that short walks
        reach what happens after publication, with and without withheld passages. Half the time
        its transcript is a machine draft nobody reviewed yet (C27)."""
        model_words = dict(
            title=marker(), paragraphs=[marker(), marker()], name=marker(), cues=[marker(), marker()]
        )
        spans = [marker(), marker()]
        choices = ConsentChoices(
            credit=Credit.NAME,
            credit_name=model_words["name"],
            voice_public=True,
            photos_public=True,
            embeddable=True,
        )
        story = stories.submit(
            None,
            # Each paragraph carries words the sensitive-passage assistant flags (T16).
            body="\n\n".join(
                f"Párrafo con {w} y {s}. El coyote nos dejó."
                for w, s in zip(model_words["paragraphs"], spans, strict=True)
            ),
            title=f"Relato {model_words['title']}",
            choices=choices,
            consent_language="es",
        )
        media, _report = ingest_upload(story, io.BytesIO(self.recording))
        photo, _report = ingest_upload(story, io.BytesIO(self.photo))
        model = Model(
            story.id,
            story.public_id,
            **model_words,
            recording=media.public_id,
            photo=photo.public_id,
            note=marker(),
            staff_note=marker(),
            message=marker(),
            translations=[marker(), marker()],
            spans=spans,
            cue_spans=[marker(), marker()],
            draft=marker(),
        )
        cues = [
            replace(c, restricted=cue_withheld and i == 1)
            for i, c in enumerate(transcripts.parse(model.vtt()))
        ]
        transcripts.set_cues(media, cues, "es", None)  # type: ignore[arg-type]
        if drafted:  # as nuevonorte.jobs.drafts saves what speech recognition heard
            assert media.transcript is not None
            media.transcript.machine_draft = True
            model.machine_draft = True
        english = {i: f"Paragraph with {w}." for i, w in enumerate(model.translations)}
        translations.save(story, english, Provenance.COMMUNITY, None)
        db.session.commit()
        self.models[story.id] = model
        if cue_withheld:
            model.withheld_cues.add(1)
            self._silence(story.id)
        if published:
            self.publish(story.id)
        return story.id

    @rule(sid=stories_)
    def publish(self, sid: int) -> None:
        m = self.models[sid]
        if m.status == StoryStatus.SUBMITTED and m.visibility == Visibility.PUBLIC:
            stories.publish(self._story(sid), None)
            db.session.commit()
            m.status = StoryStatus.PUBLISHED

    @rule(sid=stories_)
    def curator_publishes(self, sid: int) -> None:
        """T16: a curator's publish waits until each flagged paragraph is withheld or kept."""
        m = self.models[sid]
        if m.status == StoryStatus.SUBMITTED and m.visibility == Visibility.PUBLIC:
            undecided = {0, 1} - m.withheld_paragraphs - m.kept_flags
            try:
                stories.publish(self._story(sid), self.curator)
            except stories.StoryRefused as refused:
                db.session.rollback()
                assert refused.reason == stories.Refusal.SENSITIVE_UNDECIDED and undecided
                return
            assert not undecided, "published with a flagged paragraph nobody decided"
            db.session.commit()
            m.status = StoryStatus.PUBLISHED

    @rule(sid=stories_, stale=st.booleans())
    def bulk_publish(self, sid: int, stale: bool) -> None:
        """F19: a curator publishes it among a selection from the queue; a stale pick is skipped."""
        m = self.models[sid]
        story = self._story(sid)
        pick = curation.Pick(m.public_id, story.revision - 1 if stale else story.revision)
        (result,) = curation.apply_to_each(
            [pick], lambda s: stories.publish(s, self.curator), consent.curators_may_read, "es"
        )
        if m.status == StoryStatus.WITHDRAWN or m.visibility == Visibility.CONTRIBUTOR:
            assert result.outcome == curation.Outcome.MISSING
        elif stale:
            assert result.outcome == curation.Outcome.CHANGED
        elif m.status in (StoryStatus.SUBMITTED, StoryStatus.PUBLISHED) and m.visibility == Visibility.PUBLIC:
            undecided = {0, 1} - m.withheld_paragraphs - m.kept_flags
            if m.status == StoryStatus.SUBMITTED and undecided:
                assert result.outcome == curation.Outcome.REFUSED
            else:
                assert result.outcome == curation.Outcome.DONE
                m.status = StoryStatus.PUBLISHED
        else:
            assert result.outcome == curation.Outcome.REFUSED

    @rule(sid=stories_)
    def staff_notes(self, sid: int) -> None:
        """T17: a curator leaves an internal note, and a message to the narrator."""
        m = self.models[sid]
        if m.status != StoryStatus.WITHDRAWN:
            story = self._story(sid)
            curation.add_note(story, self.curator, f"Nota {m.staff_note}: hablar con el taller.")
            curation.tell_narrator(story, f"Mensaje {m.message} para ti.", self.curator)
            db.session.commit()

    @rule(sid=stories_)
    def curator_draft(self, sid: int) -> None:
        """A26: a curator's session expired while they typed a translation: the post is kept as
        their draft, while curators may read the story."""
        m = self.models[sid]
        if m.status == StoryStatus.WITHDRAWN or m.visibility == Visibility.CONTRIBUTOR:
            return
        page = f"/curate/stories/{m.public_id}/translation"
        form = MultiDict([("p-0", f"Borrador {m.draft}."), ("provenance", "community")])
        assert drafts.keep(self.curator.id, self._story(sid), page, form)
        db.session.commit()
        m.draft_kept = True

    @rule(sid=stories_, i=st.integers(0, 1), withhold=st.booleans())
    def decide_flag(self, sid: int, i: int, withhold: bool) -> None:
        """T16: the curator withholds a flagged paragraph through the assistant, or keeps it."""
        m = self.models[sid]
        if m.status == StoryStatus.WITHDRAWN or i in m.withheld_paragraphs | m.kept_flags:
            return
        story = self._story(sid)
        (flag,) = [f for f in sensitive.undecided(story) if f.passage.ref == str(i)]
        if withhold:
            assert sensitive.withhold(story, flag.fingerprint, self.curator) is not None
            m.withheld_paragraphs.add(i)
        else:
            assert sensitive.dismiss(story, flag.fingerprint, self.curator)
            m.kept_flags.add(i)
        db.session.commit()

    @rule(sid=stories_, i=st.integers(0, 1))
    def withhold_words(self, sid: int, i: int) -> None:
        """A curator withholds two words inside a paragraph (as typed: other capitals), leaving
        the rest of it public."""
        m = self.models[sid]
        if m.status == StoryStatus.WITHDRAWN or i in m.withheld_spans:
            return
        story = self._story(sid)
        text = story.paragraphs()[i]
        withheld_words.add(story, withheld_words.TOLD, i, text, f"Y {m.spans[i].upper()}")
        db.session.commit()
        m.withheld_spans.add(i)

    @rule(sid=stories_, i=st.integers(0, 1))
    def correct_text(self, sid: int, i: int) -> None:
        """C24: a curator corrects a paragraph's wording, after publishing too."""
        m = self.models[sid]
        if m.status == StoryStatus.WITHDRAWN or i in m.corrected:
            return
        story = self._story(sid)
        paragraphs = story.paragraphs()
        paragraphs[i] = paragraphs[i].replace("nos dejó", "nos dejó allí")
        corrections.correct(story, paragraphs, self.curator)
        db.session.commit()
        m.corrected.add(i)

    @rule(sid=stories_, i=st.integers(0, 1))
    def withhold_paragraph(self, sid: int, i: int) -> None:
        m = self.models[sid]
        if m.status != StoryStatus.WITHDRAWN:
            m.withheld_paragraphs.add(i)
            story = self._story(sid)
            kept = Description(title_es=story.title_es, restricted_paragraphs=sorted(m.withheld_paragraphs))
            description.describe(story, kept, None)  # type: ignore[arg-type]
            db.session.commit()

    @rule(sid=stories_, i=st.integers(0, 1))
    def withhold_cue(self, sid: int, i: int) -> None:
        m = self.models[sid]
        if m.status != StoryStatus.WITHDRAWN and not m.recording_gone:
            m.withheld_cues.add(i)
            media = self._audio(sid)
            assert media.transcript is not None
            edited = [
                replace(saved(c), restricted=c.restricted or n == i)
                for n, c in enumerate(media.transcript.cues)
            ]
            transcripts.set_cues(media, edited, "es", None)  # type: ignore[arg-type]
            db.session.commit()
            self._silence(sid)

    @rule(sid=stories_, i=st.integers(0, 1))
    def withhold_cue_words(self, sid: int, i: int) -> None:
        """C23: a curator withholds words inside a passage (as typed: other capitals); the rest
        of it stays readable, and the whole passage is heard as silence."""
        m = self.models[sid]
        if m.status == StoryStatus.WITHDRAWN or m.recording_gone or i in m.withheld_cue_spans:
            return
        media = self._audio(sid)
        assert media.transcript is not None
        cue = media.transcript.cues[i]
        transcripts.withhold_cue_words(cue, f"Y {m.cue_spans[i].upper()}", in_translation=False, curator=None)
        db.session.commit()
        m.withheld_cue_spans.add(i)
        self._silence(sid)

    @rule(sid=stories_)
    def reupload_transcript(self, sid: int) -> None:
        """The curator uploads the same transcript file again (as the upload view does)."""
        m = self.models[sid]
        if m.status != StoryStatus.WITHDRAWN and not m.recording_gone:
            media = self._audio(sid)
            old = media.transcript.cues if media.transcript else []
            change = transcripts.replacement(old, transcripts.parse(m.vtt()))
            assert not change.needs_confirmation  # nothing is lost, so nothing to confirm
            transcripts.set_cues(media, change.cues, "es", None)  # type: ignore[arg-type]
            transcripts.mark_reviewed(media, self.curator)  # a curator's own file
            db.session.commit()
            m.machine_draft = False
            self._silence(sid)

    @rule(sid=stories_, i=st.integers(0, 1), j=st.integers(0, 1))
    def label_and_part(self, sid: int, i: int, j: int) -> None:
        """A curator names the speaker of passage ``i`` and adds a part that starts inside
        passage ``j`` (C22), as the editor's views do."""
        m = self.models[sid]
        if m.status == StoryStatus.WITHDRAWN or m.recording_gone or m.speaker_cue is not None:
            return
        m.speaker, m.part, m.speaker_cue, m.part_cue = marker(), marker(), i, j
        media = self._audio(sid)
        assert media.transcript is not None
        labelled = [
            replace(saved(c), speaker=m.speaker if n == i else c.speaker)
            for n, c in enumerate(media.transcript.cues)
        ]
        transcripts.set_cues(media, labelled, "es", None)  # type: ignore[arg-type]
        text = transcripts.SegmentText(title_es=m.part, synopsis_en="A part.")
        transcripts.add_segment(media, 4000 * j + 500, text, None)
        db.session.commit()

    @rule(sid=stories_, to=st.sampled_from([Visibility.CURATORS, Visibility.CONTRIBUTOR, "anonymous"]))
    def narrow(self, sid: int, to: Visibility | str) -> None:
        m = self.models[sid]
        if m.status == StoryStatus.WITHDRAWN:
            return
        if to == "anonymous":
            m.credit = Credit.ANONYMOUS
        elif isinstance(to, Visibility) and ORDER.index(to) < ORDER.index(m.visibility):
            m.visibility = to
        self._change_consent(sid)

    @rule(sid=stories_)
    def widen(self, sid: int) -> None:
        """The contributor makes it public again: a published story goes back to review."""
        m = self.models[sid]
        if m.status == StoryStatus.WITHDRAWN or (m.visibility == Visibility.PUBLIC and not m.embargoed):
            return
        m.visibility = Visibility.PUBLIC
        m.embargoed = False
        if m.status == StoryStatus.PUBLISHED:
            m.status = StoryStatus.SUBMITTED
        self._change_consent(sid)

    @rule(sid=stories_)
    def withdraw(self, sid: int) -> None:
        stories.withdraw(self._story(sid))
        db.session.commit()
        self.models[sid].draft_kept = False
        self.models[sid].status = StoryStatus.WITHDRAWN

    @rule(sid=stories_)
    def embargo(self, sid: int) -> None:
        """The contributor asks that it wait a month (a narrowing: it applies at once)."""
        m = self.models[sid]
        if m.status != StoryStatus.WITHDRAWN:
            m.embargoed = True
            self._change_consent(sid)

    @rule(sid=stories_)
    def review_machine_draft(self, sid: int) -> None:
        """A curator reads the machine draft and marks it reviewed: public from now on, as the
        narrator's consent says (C27)."""
        m = self.models[sid]
        if m.status != StoryStatus.WITHDRAWN and not m.recording_gone:
            try:
                transcripts.mark_reviewed(self._audio(sid), self.curator)
            except transcripts.TranscriptError:  # a flag on its passages is undecided (C27)
                db.session.rollback()
                return
            db.session.commit()
            m.machine_draft = False

    @rule(sid=stories_)
    def withdraw_recording(self, sid: int) -> None:
        """The contributor withdraws the recording only (its transcript goes with it)."""
        m = self.models[sid]
        if m.status != StoryStatus.WITHDRAWN and not m.recording_gone:
            stories.withdraw_media(self._story(sid), self._audio(sid))
            db.session.commit()
            m.recording_gone = True

    @rule(sid=stories_)
    def collect(self, sid: int) -> None:
        """A curator adds the story to the published collection, with a note about it."""
        m = self.models[sid]
        if m.status != StoryStatus.WITHDRAWN and not m.in_collection:
            collections.add_story(
                self._collection(), self._story(sid), None, f"Nota {m.note}", f"Note {m.note}"
            )  # type: ignore[arg-type]
            db.session.commit()
            m.in_collection = True

    @rule(sid=stories_)
    def uncollect(self, sid: int) -> None:
        m = self.models[sid]
        entry = next((e for e in self._collection().entries if e.story_id == m.story_id), None)
        if entry is not None:
            collections.remove(entry, None)  # type: ignore[arg-type]
            db.session.commit()
            m.in_collection = False

    @precondition(lambda self: self.rebuild_thread is None)
    @rule()
    def rebuild(self) -> None:
        search.rebuild()

    @precondition(lambda self: self.rebuild_thread is None)
    @rule()
    def start_rebuild(self) -> None:
        """A rebuild that pauses inside, so the next steps happen while it runs (T03)."""
        self.rebuild_thread = PausedRebuild(self.app).start()

    @precondition(lambda self: self.rebuild_thread is not None)
    @rule()
    def finish_rebuild(self) -> None:
        self._join_rebuild()

    @rule()
    def warm_up(self) -> None:
        """A web worker's warm-up pass (``search.warmup``: at its start, or for a new segment)."""
        warmup.Warmer(Path(self.app.config["INDEX_DIR"]), 4 * 1024 * 1024).warm_now()

    @precondition(lambda self: self.rebuild_thread is None)
    @rule()
    def check(self) -> None:
        result = self.app.test_cli_runner().invoke(args=["check"])
        assert result.exit_code == 0, result.output

    # --- what everyone must see ----------------------------------------------------------

    @invariant()
    def every_surface_shows_exactly_what_the_rules_allow(self) -> None:
        # Read as visitors do (plain BEGIN): the requests below share this test's app context.
        with database.reading():
            self._check_every_surface()

    def _check_every_surface(self) -> None:
        running = self.rebuild_thread.errors if self.rebuild_thread is not None else []
        assert not self.rebuild_errors + running, self.rebuild_errors + running
        index_root = Path(self.app.config["INDEX_DIR"])
        public_files: dict[str, list[str]] = {}
        for build in sorted((index_root / "builds").glob("*/public")):
            hidden = [w for m in self.models.values() for w in m.markers() if w not in m.public_markers()]
            for word, files in index_bytes.words_in(build, hidden).items():
                public_files.setdefault(word, []).extend(files)
        for m in self.models.values():
            m.was_visible = m.was_visible or m.visible()
            self._harvesters_learn_what_is_allowed(m)
            shown = m.public_markers()
            for word in m.markers():
                if word in shown:
                    assert m.public_id in self._found(word), f"public {word} not found"
                    continue
                assert m.public_id not in self._found(word), f"hidden {word} found by search"
                assert word not in public_files, f"hidden {word} in public index files {public_files[word]}"
                typo = search.search_public(word[:-1] + "q", "es").suggestion or ""
                db.session.rollback()  # end the re-check's read before the next request
                assert word not in typo, f"hidden {word} suggested for a typo"
            # Quoted phrases go through their own matcher (positions read as arrays, decision
            # 0024): "<paragraph word> y <span word>" is found only while both words are shown
            # ("y" is a stop word, which positions skip).
            for word, span in zip(m.paragraphs, m.spans, strict=True):
                phrase = f'"{word} y {span}"'
                assert (m.public_id in self._found(phrase)) == ({word, span} <= shown), phrase
            if m.status == StoryStatus.WITHDRAWN:  # a curator's kept flags go with the story (T16)
                kept = select(SensitiveDismissal.id).where(SensitiveDismissal.story_id == m.story_id)
                assert db.session.scalars(kept).all() == []
            draft = select(CuratorDraft.id).where(CuratorDraft.story_id == m.story_id)
            assert bool(db.session.scalars(draft).all()) == m.draft_kept, "a draft outlived its story (A26)"
            for lang in ("es", "en"):
                page = self.client.get(f"/{lang}/stories/{m.public_id}").get_data(as_text=True)
                leaked = [w for w in m.markers() if w not in shown | m.only_on_the_page() and w in page]
                assert not leaked, f"{leaked} on the {lang} page"
                missing = [w for w in m.only_on_the_page() if w not in page]
                assert not missing, f"{missing} not on the {lang} page"
            self._recording_is_heard_as_allowed(m)
            self._transcript_file_holds_what_is_allowed(m)
            self._photo_is_seen_as_allowed(m)
        self._collection_shows_what_is_allowed()
        self._partners_learn_what_is_allowed()
        self._withdrawn_leave_nothing(index_root)
        self._media_folder_holds_what_rows_reference()
        db.session.rollback()  # end this read, so a concurrent rebuild never waits for it

    def _harvesters_learn_what_is_allowed(self, m: Model) -> None:
        """OAI-PMH (issue 17): a public story is a record with none of its hidden words; one that
        was public and is not is a deleted header with no words at all; one never public after
        any step is unknown (idDoesNotExist), not even as deleted. Valid against the schemas."""
        args = {"verb": "GetRecord", "identifier": f"oai:localhost:{m.public_id}", "metadataPrefix": "oai_dc"}
        body = self.client.get("/oai", query_string=args).data
        db.session.rollback()
        document = oai_schemas.validate(body)
        text = body.decode()
        header = document.find(
            f"{{{oai_schemas.OAI}}}GetRecord/{{{oai_schemas.OAI}}}record/{{{oai_schemas.OAI}}}header"
        )
        if m.visible():
            assert header is not None and header.get("status") is None, "public story not a record"
            assert m.title in text, "public story's title not in its record"
            leaked = [w for w in m.markers() if w not in m.public_markers() and w in text]
            assert not leaked, f"{leaked} in the OAI record"
        elif m.was_visible:
            assert header is not None and header.get("status") == "deleted", (
                "a story that left is not deleted"
            )
            assert not [w for w in m.markers() if w in text], "words of a deleted record"
        else:
            assert header is None and 'code="idDoesNotExist"' in text, "a never-public story is named"

    def _partners_learn_what_is_allowed(self) -> None:
        """The read API, the change feed, the Atom feed and the embedded player (issue 17): a
        public story is in all four with none of its hidden words; one that was public and is
        not is a 404, and the newest change and the feed say it was removed; one never public is
        named nowhere."""
        found: list[dict[str, Any]] = []
        since = "0"
        while True:
            page = self.client.get(f"/api/v1/changes?since={since}").get_json()
            found += page["changes"]
            since = page["next"]
            if not page["more"]:
                break
        newest = {c["id"]: c["change"] for c in found if c["type"] == "story"}
        feed = self.client.get("/es/feed.atom").get_data(as_text=True)
        db.session.rollback()
        for m in self.models.values():
            response = self.client.get(f"/api/v1/stories/{m.public_id}")
            db.session.rollback()
            text = response.get_data(as_text=True)
            allowed = m.public_markers() | m.only_on_the_page()
            leaked = [w for w in m.markers() if w not in allowed and (w in text or w in feed)]
            assert not leaked, f"{leaked} in the read API or the feed"
            embedded = self.client.get(f"/en/embed/{m.public_id}").get_data(as_text=True)
            db.session.rollback()
            leaked = [w for w in m.markers() if w not in allowed and w in embedded]
            assert not leaked, f"{leaked} in the embedded player"
            if m.visible():
                assert m.title in embedded, "a story its narrator lets be embedded is not"
                assert response.status_code == 200 and m.title in text, "public story missing from the API"
                assert newest.get(m.public_id) in ("added", "updated"), "public story not in the changes"
                assert f"/s/{m.public_id}</id>" in feed, "public story not in the feed"
                continue
            assert response.status_code == 404, "a story out of view answered by the API"
            assert self.client.get(f"/es/embed/{m.public_id}").status_code == 404, "embedded out of view"
            if m.was_visible:
                assert newest.get(m.public_id) == "removed", "a story that left is not removed"
                assert f'ref="http://localhost/s/{m.public_id}"' in feed, "no tombstone in the feed"
            else:
                assert m.public_id not in str(found) and m.public_id not in feed, "a never-public story named"

    def _collection_shows_what_is_allowed(self) -> None:
        for lang in ("es", "en"):
            page = self.client.get(self.collection_url.replace("/es/", f"/{lang}/")).get_data(as_text=True)
            for m in self.models.values():
                for word in (m.title, m.note):
                    expected = word in m.on_collection_page()
                    assert (word in page) == expected, (
                        f"{word} {'missing from' if expected else 'on'} the collection"
                    )
        db.session.rollback()

    def _transcript_file_holds_what_is_allowed(self, m: Model) -> None:
        """The WebVTT download: exactly the public cues, while the story is public."""
        response = self.client.get(f"/media/{m.recording}/transcript.vtt")
        db.session.rollback()
        if not m.visible() or m.recording_gone or m.machine_draft:
            assert response.status_code == 404, f"transcript file of a non-public story ({m.status})"
            return
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        for i, cue in enumerate(m.cues):
            assert (cue in text) == (i not in m.withheld_cues), f"cue {i} in the transcript file: wrong"
            heard = i not in m.silent_cues()
            assert (m.cue_spans[i] in text) == heard, f"words of cue {i} in the transcript file: wrong"
        if m.speaker:
            assert (f"<v {m.speaker}>" in text) == m.label_shown(), "speaker label in the transcript file"

    def _photo_is_seen_as_allowed(self, m: Model) -> None:
        for variant in ("original", "display", "thumbnail"):
            url = f"/media/{m.photo}/{variant}"
            expected = 200 if m.visible() else 404
            assert fetched(self.client, url)[0] == expected, f"photo {variant}: not {expected}"
            assert fetched(self.client, url, "HEAD")[0] == expected
        db.session.rollback()

    def _recording_is_heard_as_allowed(self, m: Model) -> None:
        url = f"/media/{m.recording}/original"
        status, heard = fetched(self.client, url)
        assert fetched(self.client, url, "HEAD")[0] == status
        if not m.audible():
            assert status == 404, f"recording of a non-public story served ({m.status})"
            db.session.rollback()
            return
        assert status == 200, "recording of a public story not served"
        for i in range(len(m.cues)):
            level = loudness(heard, 4 * i + 0.05, 4 * i + 3.95)
            if i in m.silent_cues():
                assert level < SILENT, f"withheld passage {i} audible (loudness {level:.0f})"
            else:
                assert level > LOUD, f"passage {i} silenced although not withheld"
        assert fetched(self.client, url, headers={"Range": "bytes=44-"}) == (206, heard[44:])
        # The requests ran in this test's app context (and session): end their read.
        db.session.rollback()

    def _media_folder_holds_what_rows_reference(self) -> None:
        files = self.stored_names(self.app)
        rows = {k for media in db.session.scalars(select(MediaFile)) for k in media.storage_keys()}
        assert files == rows, f"media storage differs from the rows: {files ^ rows}"

    def _withdrawn_leave_nothing(self, index_root: Path) -> None:
        # The job queue's own files carry ids only: no word of any story, withdrawn or not.
        queue = Path(self.app.config["QUEUE_PATH"])
        everything = [w for m in self.models.values() for w in m.markers()]
        for path in (queue, Path(f"{queue}-wal")):
            if path.exists():
                data = path.read_bytes()
                assert not [w for w in everything if w.encode() in data], f"a story's words in {path.name}"
        gone = [w for m in self.models.values() for w in m.gone_markers()]
        if not gone:
            return
        left = index_bytes.words_in(index_root, gone)
        assert not left, f"withdrawn words in index files: {left}"
        # Nor in this worker's decoded postings (T19), once a search has opened the purged index.
        search.search_public("zqxcachevwk", "es")
        db.session.rollback()
        kept = {text for _, text in postings_cache.terms_under(str(index_root.resolve()))}
        assert not [w for w in gone if index_bytes.forms(w) & kept], "withdrawn words in decoded postings"
        left = index_bytes.words_in(Path(self.app.config["MEDIA_DIR"]), gone)
        assert not left, f"withdrawn words in media files: {left}"
        if not POSTGRES_URL and self.rebuild_thread is None:
            main = Path(str(db.engine.url.database))
            for path in [main, *(Path(f"{main}{s}") for s in ("-wal", "-journal"))]:
                if path.exists():
                    data = path.read_bytes()
                    assert not [w for w in gone if w.encode() in data], f"withdrawn words in {path.name}"

    def _found(self, word: str) -> set[str]:
        """The stories a search for ``word`` finds, on the page and through the API; what they
        show of themselves (snippets and transcript moments) holds no hidden word."""
        found = search.search_public(word, "es").hits
        db.session.rollback()
        api = self.client.get("/api/v1/search", query_string={"q": word, "lang": "en"}).get_json()
        api_hits = api.get("results", api.get("hits", []))
        shown = [str(h.snippet) + " ".join(str(c.text_html) for c in h.cues) for h in found]
        shown.append(json.dumps(api_hits, ensure_ascii=False))
        hidden = [w for m in self.models.values() for w in m.markers() if w not in m.public_markers()]
        leaked = [w for w in hidden if any(w in text for text in shown)]
        assert not leaked, f"hidden {leaked} shown by a search for {word}"
        return {h.public_id for h in found} | {h["id"] for h in api_hits}

    # --- plumbing ------------------------------------------------------------------------

    def _story(self, sid: int) -> Story:
        story = db.session.get(Story, sid)
        assert story is not None
        return story

    def _collection(self) -> Collection:
        found = db.session.get(Collection, self.collection.id)
        assert found is not None
        return found

    def _silence(self, sid: int) -> None:
        """As the curator's views do after a change of withheld passages: a job for the public
        copy with their seconds silent, committed; then the worker runs it (T05)."""
        if self.models[sid].recording_gone or self.models[sid].status == StoryStatus.WITHDRAWN:
            return
        jobs.request_silenced_copy(self._audio(sid))
        db.session.commit()
        worker.drain(self.app)

    def _audio(self, sid: int) -> MediaFile:
        return next(media for media in self._story(sid).media if media.transcript is not None)

    def _change_consent(self, sid: int) -> None:
        m = self.models[sid]
        if m.visibility == Visibility.CONTRIBUTOR:
            m.draft_kept = False  # curators may no longer read it, nor their drafts of it
        choices = ConsentChoices(
            visibility=m.visibility,
            credit=m.credit,
            credit_name="" if m.credit == Credit.ANONYMOUS else m.name,
            voice_public=True,
            photos_public=True,
            embeddable=True,
        )
        embargo = today() + timedelta(days=30) if m.embargoed else None
        stories.change_consent(self._story(sid), replace(choices, embargo_until=embargo), language="es")
        db.session.commit()

    def _join_rebuild(self) -> None:
        if self.rebuild_thread is not None:
            self.rebuild_thread.finish()
            self.rebuild_errors += self.rebuild_thread.errors
            self.rebuild_thread = None

    def teardown(self) -> None:
        self._join_rebuild()
        db.session.remove()
        if POSTGRES_URL:
            _empty_tables()
        db.engine.dispose()
        self.writes.__exit__(None, None, None)
        self.ctx.pop()
        search.store.forget_searchers()


ORDER = [Visibility.CONTRIBUTOR, Visibility.CURATORS, Visibility.PUBLIC]


def _on_disk(app: Flask) -> set[str]:
    media_dir = Path(app.config["MEDIA_DIR"])
    return {p.name for p in media_dir.rglob("*") if p.is_file() and p.parent.name not in (".tmp", ".intents")}


def _walk(
    template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    examples: int,
    media: Callable[[], dict[str, Any]],
    stored_names: Callable[[Flask], set[str]],
) -> None:
    def make_app() -> Flask:
        folder = tmp_path_factory.mktemp("lifecycle")
        url = POSTGRES_URL
        if not url:
            shutil.copyfile(template, folder / "archive.sqlite3")
            url = f"sqlite:///{folder / 'archive.sqlite3'}"
        return create_app(
            {
                "TESTING": True,
                "secret_key": TEST_SECRET,
                "database_url": url,
                "media_dir": str(folder / "media"),
                "index_dir": str(folder / "index"),
                "ledger_path": str(folder / "withdrawals.ledger"),
                "queue_path": str(folder / "jobs.sqlite3"),
                "PUBLIC_PAGE_CACHE_SECONDS": 30,
                "sqlite_busy_timeout_ms": 3000,
                # Small segments: a rebuild writes several, purges rewrite one of them, and
                # publishes are merged in the background (decision 0007).
                "search_segment_docs": 10,
                **media(),
            }
        )

    Lifecycle.make_app = staticmethod(make_app)
    Lifecycle.stored_names = staticmethod(stored_names)
    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=examples,
            stateful_step_count=15,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


@pytest.mark.timeout(1800)
def test_consent_holds_through_every_sequence(
    _sqlite_template: Path, _postgres_schema: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    _walk(_sqlite_template, tmp_path_factory, EXAMPLES, dict, _on_disk)


@pytest.mark.timeout(1800)
def test_consent_holds_through_every_sequence_with_media_in_a_bucket(
    _sqlite_template: Path,
    _postgres_schema: None,
    tmp_path_factory: pytest.TempPathFactory,
    s3_server: S3Server,
) -> None:
    """The same walk with media in an S3-compatible bucket (issue 21): after every step the
    bucket, read as the S3 server keeps it on its disk, holds exactly what the rows name, and
    every photo variant and the recording answer as the rules say through ``/media/``."""
    buckets: list[str] = []

    def media() -> dict[str, Any]:
        buckets.append(s3_server.bucket())
        return s3_server.settings(buckets[-1])

    def in_bucket(app: Flask) -> set[str]:
        assert _on_disk(app) == set()  # nothing stored on the web machine itself
        return set(s3_server.files(app.config["S3_BUCKET"]))

    _walk(_sqlite_template, tmp_path_factory, max(3, EXAMPLES // 6), media, in_bucket)
