"""What went wrong with a partner archive, in words for the admin (a code is what the database
and the logs keep: ``Partner.last_error``, a job's reason)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: What a problem code (``Partner.last_error``, ``client.Unreachable.code``,
#: ``address.BadAddress.code``) means, in the admin's language: the one place for these words.
PROBLEMS = {
    "bad_url": _l(
        "This is not an archive's public address. Give it like https://archivo.example.org "
        "(a path after the name is fine; no query or #)."
    ),
    "not_https": _l(
        "The address must start with https://, because withdrawal notices and their keys travel over it."
    ),
    "timeout": _l("The archive did not answer in time. It may be busy or down for a while."),
    "unreachable": _l("The archive could not be reached: nothing answered at its address."),
    "bad_status": _l("The archive answered with an error page instead of its data."),
    "not_json": _l("The archive answered, but not with the data a partner archive gives."),
    "too_large": _l("The archive's answer was larger than this archive accepts, so it was not read."),
    "redirected": _l(
        "The archive's address sends visitors to another address, and redirects are never followed. "
        "Check the address: https, with or without “www”, and its path."
    ),
    "not_a_feed": _l(
        "The archive's list of changes was not in the expected form, so nothing was taken from it."
    ),
    "not_oai": _l(
        "The address is neither a Nuevo Norte archive nor an OAI-PMH repository this archive can read."
    ),
    "oai_error": _l("The OAI-PMH repository answered its harvest with an error."),
    "bad_answer": _l("The archive's description of itself was not in the expected form."),
    "not_subscribed": _l(
        "Its stories were read, but it did not accept our request for its withdrawal notices. "
        "Its withdrawals are still learned at each harvest."
    ),
    "push_failed": _l(
        "One of our withdrawal notices could not be delivered to it. It will be sent again, "
        "and the archive's own harvests of ours catch up meanwhile."
    ),
    "partner_gone": _l("The partner was removed before its harvest ran."),
    "no_public_url": _l(
        "This archive's own public address is not set (public_url in the configuration), "
        "so partners cannot be told where to reach it."
    ),
}
#: The words for a code missing from ``PROBLEMS``.
OTHER_PROBLEM = _l("Something went wrong while reading the archive.")


def problem_text(code: str) -> str:
    """The sentence for a problem code; "" for none."""
    if not code:
        return ""
    return str(PROBLEMS.get(code, OTHER_PROBLEM))
