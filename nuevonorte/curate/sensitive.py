"""The sensitive-passage assistant on the review page: withhold a flagged passage, or keep it."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from nuevonorte import sensitive, stories, withheld_words
from nuevonorte.curate.auth import actor, curator_required
from nuevonorte.curate.forms import ActionForm
from nuevonorte.curate.review import get_story, render_review, stale_message
from nuevonorte.curate.views import bp
from nuevonorte.extensions import db
from nuevonorte.jobs import records as jobs

DECISIONS = ("withhold", "words", "keep")


@bp.post("/stories/<story_id>/passages/<fingerprint>/<decision>")
@curator_required
def decide_flag(story_id: str, fingerprint: str, decision: str) -> Response | tuple[str, int]:
    """Withhold the flagged passage or keep it public; audited. A flag that changed or was
    decided meanwhile, or a story changed since the page was loaded, changes nothing (409)."""
    if decision not in DECISIONS:
        abort(404)
    story = get_story(story_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    if form.revision.data != str(story.revision):
        return render_review(story, stale_message(), 409)
    recording = None
    try:
        if decision == "withhold":
            withheld = sensitive.withhold(story, fingerprint, actor())
            done = withheld is not None
            recording = withheld.recording if withheld else None
        elif decision == "words":
            withheld = sensitive.withhold_words(story, fingerprint, actor())
            done = withheld is not None
            recording = withheld.recording if withheld else None
        else:
            done = sensitive.dismiss(story, fingerprint, actor())
        if not done:
            db.session.rollback()
            return render_review(story, stale_message(), 409)
        if recording is not None:  # its seconds go silent in the public copy, made by the worker
            audio = next(m for m in story.media if m.public_id == recording)
            jobs.request_silenced_copy(audio, actor())
        db.session.commit()
    except (stories.StoryRefused, withheld_words.WordsRefused) as refused:
        db.session.rollback()
        return render_review(get_story(story_id), refused.message, 409)
    except StaleDataError:
        db.session.rollback()
        return render_review(get_story(story_id), stale_message(), 409)
    if decision == "withhold":
        flash(_("Passage withheld from the public."), "notice")
    elif decision == "words" and recording is not None:
        silent = _("Those words are withheld; visitors read the rest of the passage and hear it as silence.")
        flash(silent, "notice")
    elif decision == "words":
        flash(_("Those words are withheld from the public; the rest of the paragraph is not."), "notice")
    else:
        flash(_("Passage kept as it is."), "notice")
    return redirect(url_for("curate.review", story_id=story_id) + "#passages")
