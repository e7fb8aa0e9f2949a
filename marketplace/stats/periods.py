"""The periods a chart is drawn over: every day (or ISO week, Monday first) of a range, in UTC,
so a day without activity is there with zeros."""

from __future__ import annotations

import dataclasses
import datetime as dt

from marketplace.common.clock import utcnow
from marketplace.common.errors import ValidationFailed

DEFAULT_DAYS = 30
MAX_DAYS = 731  # two years: enough for a yearly comparison, small enough to draw
INTERVALS = ("day", "week")


@dataclasses.dataclass(frozen=True)
class Periods:
    interval: str
    first: dt.date  # the first day counted
    last: dt.date  # the last day counted

    @property
    def starts(self) -> list[dt.date]:
        """The first day of each period, in order."""
        step = dt.timedelta(days=7 if self.interval == "week" else 1)
        days, day = [], self.first
        while day <= self.last:
            days.append(day)
            day += step
        return days

    def start_of(self, moment: dt.datetime | dt.date) -> dt.date:
        """The period a timestamp (taken in UTC) or a day falls in."""
        day = moment.astimezone(dt.timezone.utc).date() if isinstance(moment, dt.datetime) else moment
        return day - dt.timedelta(days=day.weekday()) if self.interval == "week" else day

    @property
    def since(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time(), tzinfo=dt.timezone.utc)

    @property
    def until(self) -> dt.datetime:
        """The end of the last day (exclusive)."""
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)


def periods(interval: str, first: dt.date | None, last: dt.date | None) -> Periods:
    """The range asked for (the last 30 days by default, ending today in UTC), widened to whole
    weeks when counted per week."""
    last = last or utcnow().date()
    first = first or last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValidationFailed("The start date is after the end date.",
                               details={"from": ["The start date must be on or before the end date."]})
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed(f"Charts cover at most {MAX_DAYS} days.",
                               details={"from": [f"Choose a range of at most {MAX_DAYS} days."]})
    if interval == "week":
        first -= dt.timedelta(days=first.weekday())
        last += dt.timedelta(days=6 - last.weekday())
    return Periods(interval, first, last)
