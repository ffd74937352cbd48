"""Counters for rate limiting: how many requests of one kind arrived in one time window."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from nuevonorte.models.base import Base


class RateWindow(Base):
    """The number of requests named ``name`` in window number ``window`` (epoch // length).

    Deliberately without any address or client key: limits are global (see
    ``nuevonorte.ratelimit``), so the table can never tell who sent what.
    """

    __tablename__ = "rate_window"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    window: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
