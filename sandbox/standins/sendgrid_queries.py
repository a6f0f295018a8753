"""The SendGrid stand-in's read endpoints: query validation and the bodies of /v3/teammates,
/v3/stats and /v3/access_settings/activity, computed from a seeded `SendGridAccount`.

Choices where SendGrid's documentation is silent (kept here, in one place):

- 400 wordings: SendGrid documents the error envelope, not these messages.
  Missing start_date: "missing start_date"; malformed dates: "<field> must be
  a valid date in YYYY-MM-DD format"; end before start: field end_date,
  "end_date must not be before start_date"; bad aggregated_by: "aggregated_by
  must be one of day, week, month"; integers: "<name> must be an integer",
  "<name> must be less than or equal to <max>", "... greater than or equal to <min>".
- end_date defaults to today (UTC, from the clock), as documented.
- Week buckets are ISO weeks (Monday to Sunday): SendGrid's weekly stats follow
  ISO week numbering (its known failure on week 53 of 2015 shows it). Month
  buckets are calendar months. A bucket's "date" is its first day inside the
  requested range, so the first bucket of a range starting mid-week/mid-month is
  dated start_date, later ones the Monday / the 1st. Buckets only sum days
  inside [start_date, end_date], so bucket totals add up to the day totals.
- `limit` / `offset` on /v3/stats (documented, unspecified) slice the rows
  after aggregation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from .sendgrid_seed import SendGridAccount

_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")

MAX_TEAMMATES_LIMIT = 500
DEFAULT_ACTIVITY_LIMIT = 20


def errors_body(*pairs: tuple[str | None, str]) -> dict[str, list[dict[str, str | None]]]:
    """SendGrid's error envelope: one `{"field", "message"}` per problem."""
    return {"errors": [{"field": f, "message": m} for f, m in pairs]}


def _int_param(
    params, name: str, default: int | None, errors: list, *, minimum: int = 0, maximum: int | None = None
) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        errors.append((name, f"{name} must be an integer"))
        return default
    if value < minimum:
        errors.append((name, f"{name} must be greater than or equal to {minimum}"))
    elif maximum is not None and value > maximum:
        errors.append((name, f"{name} must be less than or equal to {maximum}"))
    return value


def _date_param(params, name: str, errors: list) -> date | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if _DATE_PATTERN.match(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    errors.append((name, f"{name} must be a valid date in YYYY-MM-DD format"))
    return None


def teammates(account: SendGridAccount, params) -> tuple[int, object]:
    errors: list[tuple[str, str]] = []
    limit = _int_param(params, "limit", MAX_TEAMMATES_LIMIT, errors, maximum=MAX_TEAMMATES_LIMIT)
    offset = _int_param(params, "offset", 0, errors)
    if errors:
        return 400, errors_body(*errors)
    page = account.teammates[offset : offset + limit]
    return 200, {"result": [mate.to_json() for mate in page]}


def activity(account: SendGridAccount, params) -> tuple[int, object]:
    errors: list[tuple[str, str]] = []
    limit = _int_param(params, "limit", DEFAULT_ACTIVITY_LIMIT, errors)
    if errors:
        return 400, errors_body(*errors)
    return 200, {"result": [a.to_json() for a in account.access_activity[:limit]]}


_BUCKET_START: dict[str, Callable[[date], date]] = {
    "day": lambda d: d,
    "week": lambda d: d - timedelta(days=d.weekday()),  # ISO week: Monday
    "month": lambda d: d.replace(day=1),
}


def stats(account: SendGridAccount, params, today: date) -> tuple[int, object]:
    errors: list[tuple[str, str]] = []
    if not params.get("start_date"):
        errors.append(("start_date", "missing start_date"))
    start = _date_param(params, "start_date", errors)
    end = _date_param(params, "end_date", errors)
    if end is None and not params.get("end_date"):
        end = today
    aggregated_by = params.get("aggregated_by") or "day"
    if aggregated_by not in _BUCKET_START:
        errors.append(("aggregated_by", "aggregated_by must be one of day, week, month"))
    limit = _int_param(params, "limit", None, errors)
    offset = _int_param(params, "offset", 0, errors)
    if start is not None and end is not None and end < start:
        errors.append(("end_date", "end_date must not be before start_date"))
    if errors:
        return 400, errors_body(*errors)
    assert start is not None and end is not None

    bucket_of = _BUCKET_START[aggregated_by]
    rows: list[dict[str, object]] = []
    current_bucket: date | None = None
    totals: dict[str, int] = {}
    day = start
    while day <= end:
        bucket = bucket_of(day)
        if bucket != current_bucket:
            current_bucket = bucket
            totals = account.metrics_for(day)
            rows.append({"date": day.isoformat(), "stats": [{"metrics": totals}]})
        else:
            for name, value in account.metrics_for(day).items():
                totals[name] += value
        day += timedelta(days=1)

    rows = rows[offset:] if limit is None else rows[offset : offset + limit]
    return 200, rows
