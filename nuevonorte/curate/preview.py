"""The public preview of a story, in either language, before a curator publishes it: what
visitors would see under the narrator's newest consent, and what is still missing."""

from __future__ import annotations

from flask import abort, render_template
from flask_babel import force_locale

from nuevonorte import consent, description, sensitive
from nuevonorte.consent import Standing
from nuevonorte.content_warnings import labels
from nuevonorte.curate.auth import curator_required
from nuevonorte.curate.review import get_story
from nuevonorte.curate.views import bp
from nuevonorte.curate.wording import exposure_notes, gap_label
from nuevonorte.models import StoryStatus, Visibility


@bp.get("/stories/<story_id>/preview/<lang>")
@curator_required
def story_preview(story_id: str, lang: str) -> str:
    """The story as the public page would show it once published, marked as a preview."""
    if lang not in ("es", "en"):
        abort(404)
    story = get_story(story_id)
    if story.status == StoryStatus.WITHDRAWN:
        abort(404)
    current = story.current_consent
    publishable = current is not None and current.visibility == Visibility.PUBLIC
    with force_locale(lang):
        return render_template(
            "curate/preview.html",
            story=story,
            lang=lang,
            publishable=publishable,
            public_now=consent.standing(story) is Standing.PUBLIC,
            gaps=[gap_label(code) for code in description.missing(story)],
            undecided=len(sensitive.undecided(story)),
            notes=exposure_notes(story),
            warnings=labels(story.warning_codes()),
            images=[m for m in story.media if m.kind == "image" and consent.media_choice_allows(m)],
            voiced={m.id for m in story.media if m.kind == "audio" and consent.media_choice_allows(m)},
        )
