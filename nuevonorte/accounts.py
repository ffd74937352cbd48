"""Curator accounts: creation and password hashing (Argon2id via argon2-cffi)."""

from __future__ import annotations

import enum

from argon2 import PasswordHasher
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from nuevonorte import audit
from nuevonorte.extensions import db
from nuevonorte.models import CuratorAccount, Role

MIN_PASSWORD_LENGTH = 12
# Refused before hashing, so a huge password cannot be used to burn CPU (docs/security.md A15, L08).
MAX_PASSWORD_LENGTH = 256
MAX_EMAIL_LENGTH = 254

hasher = PasswordHasher()


class AccountProblem(enum.StrEnum):
    """Why an account could not be created."""

    EMAIL_INVALID = "email_invalid"
    EMAIL_TAKEN = "email_taken"
    PASSWORD_TOO_SHORT = "password_too_short"  # noqa: S105 (a reason code)
    PASSWORD_TOO_LONG = "password_too_long"  # noqa: S105 (a reason code)


PROBLEM_MESSAGES = {
    AccountProblem.EMAIL_INVALID: _l("That does not look like an email address."),
    AccountProblem.EMAIL_TAKEN: _l("An account with that email address already exists."),
    AccountProblem.PASSWORD_TOO_SHORT: _l("The password must have at least 12 characters."),
    AccountProblem.PASSWORD_TOO_LONG: _l("The password must have at most 256 characters."),
}


class AccountError(Exception):
    """An account change the rules do not allow; nothing was written."""

    def __init__(self, problem: AccountProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem

    @property
    def message(self) -> str:
        """The reason in the active language."""
        return str(PROBLEM_MESSAGES[self.problem])


def normalize_email(email: str) -> str:
    """Email addresses compare case-insensitively and without surrounding spaces."""
    return email.strip().lower()


def check_password(password: str) -> None:
    """Raise AccountError when a new password is too short or too long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(AccountProblem.PASSWORD_TOO_SHORT)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(AccountProblem.PASSWORD_TOO_LONG)


def create_curator(
    email: str, password: str, role: Role = Role.CURATOR, by: CuratorAccount | None = None
) -> CuratorAccount:
    """Create a curator or admin account; the caller commits."""
    email = normalize_email(email)
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > MAX_EMAIL_LENGTH or any(c.isspace() for c in email):
        raise AccountError(AccountProblem.EMAIL_INVALID)
    check_password(password)
    if db.session.scalar(select(CuratorAccount.id).where(CuratorAccount.email == email)):
        raise AccountError(AccountProblem.EMAIL_TAKEN)
    account = CuratorAccount(email=email, password_hash=hasher.hash(password), role=role)
    db.session.add(account)
    db.session.flush()
    audit.record("account.created", "account", str(account.id), actor=by)
    return account
