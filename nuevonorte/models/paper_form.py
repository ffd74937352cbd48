"""The paper forms of withdrawn imported stories (``nuevonorte.paper_forms``)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from nuevonorte.models.base import Base


class WithdrawnPaperForm(Base):
    """A keyed hash of a withdrawn story's paper form reference: no story, no day, no words."""

    __tablename__ = "withdrawn_paper_form"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
