"""Consent and exposure in plain words, in the curator's language."""

from __future__ import annotations

from flask_babel import format_date
from flask_babel import gettext as _

from nuevonorte.consent import ConsentChoices, Standing, standing
from nuevonorte.models import (
    PERMISSION_WORDS,
    ConsentRecord,
    Credit,
    MediaKind,
    Story,
    StoryStatus,
    Visibility,
)


def consent_words(consent: ConsentRecord | None) -> list[str]:
    """The consent as short phrases: "public; pseudonym; voice may not be heard; ..."."""
    if consent is None:
        return [_("no consent on record")]
    words = [
        {
            Visibility.PUBLIC: _("public"),
            Visibility.CURATORS: _("curators only"),
            Visibility.CONTRIBUTOR: _("only the narrator"),
        }[consent.visibility],
        {
            Credit.NAME: _("credited by name"),
            Credit.PSEUDONYM: _("pseudonym"),
            Credit.ANONYMOUS: _("anonymous"),
        }[consent.credit],
    ]
    choices = consent.choices
    words += [str(w.granted if choices.allows(name) else w.refused) for name, w in PERMISSION_WORDS.items()]
    if consent.embargo_until is not None:
        words.append(_("embargoed until %(date)s", date=format_date(consent.embargo_until, "long")))
    return words


def exposure_notes(story: Story) -> list[str]:
    """What the public will and will not get once published, given the consent."""
    consent = story.current_consent
    if consent is None:
        return []
    notes = []
    if consent.visibility != Visibility.PUBLIC:
        notes.append(_("This story cannot be published: the narrator did not make it public."))
    kinds = {m.kind for m in story.media}
    choices = consent.choices
    if MediaKind.IMAGE in kinds and not choices.photos_public:
        notes.append(_("Photos will not be shown: the narrator did not allow it."))
    if MediaKind.AUDIO in kinds and not choices.voice_public:
        notes.append(
            _(
                "The recording will not be played: the narrator did not allow their voice to be heard. The transcript can be shown."  # noqa: E501
            )
        )
    if consent.embargo_until is not None:
        notes.append(
            _(
                "Nothing will be visible before %(date)s, even once published.",
                date=format_date(consent.embargo_until, "long"),
            )
        )
    if story.restricted_indexes():
        notes.append(_("Withheld passages appear to visitors as “[passage withheld]”."))
    return notes


def gap_label(code: str) -> str:
    """A localized label for a completeness code from ``description.missing`` or ``collections.completeness``."""  # noqa: E501
    name, _sep, where = code.partition(":")
    labels = {
        "title_es": _("Title in Spanish"),
        "title_en": _("Title in English"),
        "summary_es": _("Summary in Spanish"),
        "summary_en": _("Summary in English"),
        "intro_es": _("Introduction in Spanish"),
        "intro_en": _("Introduction in English"),
        "entries": _("The collection has no entries yet"),
        "entry_es": _("Text in Spanish"),
        "entry_en": _("Text in English"),
        "note": _("The note is in one language only"),
        "story_not_public": _("This story is not public: visitors will see a note instead"),
        "story_title_es": _("Story title in Spanish"),
        "story_title_en": _("Story title in English"),
        "alt_es": _("Image description (alt text) in Spanish"),
        "alt_en": _("Image description (alt text) in English"),
    }
    label = labels.get(name, name)
    if where.isdigit():
        return str(_("Entry %(n)s: %(what)s", n=where, what=label))
    return str(label)


def status_label(status: str) -> str:
    """A story status in words."""
    labels: dict[str, str] = {
        "submitted": _("Waiting for review"),
        "published": _("Published"),
        "private": _("Kept private"),
        "rejected": _("Rejected"),
        "withdrawn": _("Withdrawn by the narrator"),
        "draft": _("Draft"),
    }
    return labels.get(str(status), str(status))


def story_state_label(story: Story) -> str:
    """A story's status, and for a published one what the public sees of it today, in words
    ("Published — curators only"); the reasons come from the consent rule (``consent.standing``)."""
    if story.status != StoryStatus.PUBLISHED:
        return status_label(story.status)
    found = standing(story)
    if found is Standing.EMBARGOED:
        consent = story.current_consent
        assert consent is not None and consent.embargo_until is not None  # what EMBARGOED means
        return str(_("Published — embargoed until %(date)s", date=format_date(consent.embargo_until, "long")))
    labels = {
        Standing.PUBLIC: _("Published — public"),
        Standing.CURATORS_ONLY: _("Published — curators only"),
        Standing.CONTRIBUTOR_ONLY: _("Published — only the narrator"),
        Standing.NO_CONSENT: _("Published — no consent on record, not public"),
    }
    return str(labels.get(found, status_label(story.status)))


def widening_words(before: ConsentChoices, now: ConsentChoices, wider: list[str]) -> list[str]:
    """What a wider consent newly exposes, one phrase per choice (``consent.widenings`` names)."""
    words: list[str] = []
    visibility = {
        Visibility.PUBLIC: _("anyone, once published"),
        Visibility.CURATORS: _("curators only"),
        Visibility.CONTRIBUTOR: _("only the narrator"),
    }
    credit = {
        Credit.NAME: _("by name"),
        Credit.PSEUDONYM: _("by a pseudonym"),
        Credit.ANONYMOUS: _("anonymous"),
    }
    for name in wider:
        if name == "visibility":
            words.append(
                _(
                    "Who may see it: now %(now)s (it was %(then)s).",
                    now=visibility[now.visibility],
                    then=visibility[before.visibility],
                )
            )
        elif name == "credit":
            shown = f"{credit[now.credit]} “{now.credit_name}”" if now.credit_name else credit[now.credit]
            words.append(_("Credit: now %(now)s (it was %(then)s).", now=shown, then=credit[before.credit]))
        elif name in PERMISSION_WORDS:
            words.append(str(PERMISSION_WORDS[name].widened))
        elif name == "embargo_until":
            until = format_date(now.embargo_until, "long") if now.embargo_until else ""
            words.append(
                _("The embargo now ends on %(date)s.", date=until) if until else _("The embargo was lifted.")
            )
    return [str(w) for w in words]
