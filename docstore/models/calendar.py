"""Model of the working-day calendar: the dates that break the working week (holidays and make-up working days)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from docstore.errors import N_
from docstore.extensions import db
from docstore.models.people import Recorded

#: Kinds of calendar exception: a holiday does not work although its weekday does; a make-up working day
#: (China's 调休) works although its weekday does not.
CALENDAR_DAY_KINDS: dict[str, str] = {
    "holiday": N_("Holiday"),
    "workday": N_("Make-up working day"),
}


class CalendarDay(Recorded, db.Model):
    """A date whose working status differs from what the working week says of its weekday, with its name."""

    __tablename__ = "calendar_day"
    __table_args__ = (CheckConstraint("kind IN ('holiday', 'workday')", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100), default="")

    FIELDS = ("day", "kind", "name")
