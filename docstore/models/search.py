"""Models of the search index's bookkeeping: the queue of documents to (re)index and the writer's lease."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from docstore.extensions import db


class SearchQueue(db.Model):
    """A document whose index entry must be refreshed; written in the transaction that changed the document."""

    __tablename__ = "search_queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(Integer, index=True)  # no foreign key: a removed document is queued too
    queued_at: Mapped[float] = mapped_column(Float)  # seconds since the epoch (wall clock, for the lag figure)


class SearchWriter(db.Model):
    """The single row that says which process may write the index, until when, and what it last did."""

    __tablename__ = "search_writer"

    id: Mapped[int] = mapped_column(primary_key=True)
    holder: Mapped[str] = mapped_column(String(200), default="")
    expires_at: Mapped[float] = mapped_column(Float, default=0.0)
    rebuild_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str] = mapped_column(String(1000), default="")
    applied_total: Mapped[int] = mapped_column(Integer, default=0)
    last_applied_at: Mapped[float] = mapped_column(Float, default=0.0)
