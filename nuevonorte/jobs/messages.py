"""What a job's state and reason mean, in the curator's language (the one place for them)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from nuevonorte.models import JobKind, JobState

STATES = {
    JobState.QUEUED: _l("Waiting"),
    JobState.RUNNING: _l("In progress"),
    JobState.DONE: _l("Done"),
    JobState.FAILED: _l("Failed"),
    JobState.CANCELLED: _l("Cancelled"),
}

REASONS = {
    "model_missing": _l(
        "No speech model is installed on this machine, so no draft can be made. An administrator "
        "can install it (see docs/jobs.md)."
    ),
    "model_refused": _l(
        "The speech model on this machine failed its check (a file does not match its expected "
        "fingerprint), so it was not used. An administrator must reinstall it."
    ),
    "audio_unreadable": _l("The recording could not be decoded, so no draft was made."),
    "recording_gone": _l(
        "The recording was withdrawn or deleted before the draft was made; nothing was kept."
    ),
    "private": _l("The narrator keeps this story to themselves for now, so no draft was made."),
    "already_transcribed": _l("The recording already had a transcript; the draft was not saved over it."),
    "no_speech": _l("No speech was found in the recording, so the draft is empty and was not saved."),
    "interrupted": _l("The work was interrupted; it will be tried again."),
    "not_silenced": _l(
        "The public copy with the withheld seconds silent could not be made, so the public cannot "
        "hear this recording. Saving the transcript again, or “nuevonorte check --repair”, tries again."
    ),
    "not_needed": _l("Nothing needs doing any more."),
    "too_many_attempts": _l("The work stopped unfinished too many times and was given up."),
    "error": _l("Something went wrong while the job ran, several times. It was given up."),
    "not_a_recording": _l("Only recordings can be transcribed."),
}


KINDS = {
    JobKind.DRAFT_TRANSCRIPT: _l("Draft transcript"),
    JobKind.SILENCED_COPY: _l("Public copy with withheld seconds silent"),
    JobKind.PARTNER_HARVEST: _l("Harvest of a partner archive"),
    JobKind.PARTNER_NOTICE: _l("Withdrawal notice to a partner archive"),
}


def kind_label(kind: JobKind) -> str:
    return str(KINDS[kind])


def state_label(state: JobState) -> str:
    return str(STATES[state])


def progress_text(state: JobState, progress: int) -> str:
    """A waiting or running job in a few words: "Waiting", "In progress: 40 % heard"."""
    if state == JobState.RUNNING:
        return str(_l("In progress: %(percent)d %% heard", percent=progress))
    return state_label(state)


#: Why a draft cannot be asked for (``records.Refused``), where the job's reason would say what
#: happened to one already asked for.
REFUSALS = {
    "already_transcribed": _l("This recording already has a transcript."),
    "private": _l("The narrator keeps this story to themselves for now, so no draft can be made."),
}


def refusal_text(code: str) -> str:
    """The sentence for a refused request (``records.Refused``)."""
    return str(REFUSALS.get(code) or reason_text(code))


def reason_text(reason: str) -> str:
    """The sentence for a reason code; "" for none (an unknown code reads as a plain error)."""
    if not reason:
        return ""
    from nuevonorte.partners.messages import PROBLEMS

    return str(REASONS.get(reason) or PROBLEMS.get(reason) or REASONS["error"])
