"""Proofs of work already spent, so that a solved challenge admits one request only."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from nuevonorte.models.base import Base


class SpentChallenge(Base):
    """The random id of a challenge that admitted a request, kept until the challenge expires.

    Nothing else: no address, no time but the minute after which the challenge is dead and the
    row is deleted (see ``nuevonorte.proof_of_work``).
    """

    __tablename__ = "spent_challenge"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: Epoch seconds, a whole minute, after which the challenge is refused anyway.
    expires: Mapped[int] = mapped_column(BigInteger, index=True)
