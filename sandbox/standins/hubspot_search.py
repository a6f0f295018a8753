"""CRM search of the HubSpot stand-in: `POST /crm/v3/objects/{type}/search`.

The request (filter groups, sorts, paging, free-text query, properties) is
checked against HubSpot's documented limits and compiled into predicates over
the seeded records; the answer formats their properties as HubSpot does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request

from sandbox.standins.hubspot_errors import ValidationError
from sandbox.standins.hubspot_model import (
    CREATE_PROPERTY,
    ENGAGEMENT_TYPES,
    MODIFIED_PROPERTY,
    OBJECT_TYPES,
    PortalData,
    Record,
)
from sandbox.standins.hubspot_paging import iso
from sandbox.standins.hubspot_properties import default_properties, property_schema

MAX_SEARCH_RESULTS = 10_000
MAX_FILTER_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 6, 18
OBJECT_TYPE_IDS = {
    "0-1": "contacts",
    "0-2": "companies",
    "0-3": "deals",
    "0-48": "calls",
    "0-49": "emails",
    "0-47": "meetings",
    "0-46": "notes",
    "0-27": "tasks",
}


def resolve_object_type(name: str) -> str | None:
    name = OBJECT_TYPE_IDS.get(name, name.lower())
    return name if name in OBJECT_TYPES else None


def search_scopes(request: Request) -> tuple[str, ...]:
    object_type = resolve_object_type(request.path_params["object_type"])
    if object_type is None:
        return ()
    if object_type in ENGAGEMENT_TYPES:
        return ("crm.objects.contacts.read",)
    return (f"crm.objects.{object_type}.read",)


def parse_ms(value: object) -> int:
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{text!r} is not a valid date: use epoch milliseconds or ISO 8601") from None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)


def parse_number(value: object) -> float:
    try:
        return float(str(value))
    except ValueError:
        raise ValidationError(f"{value!r} is not a valid number") from None


Predicate = Callable[[Record], bool]


def _converter(kind: str) -> Callable[[object], object]:
    if kind == "datetime":
        return parse_ms
    if kind == "number":
        return parse_number
    return lambda v: str(v).lower()


def _compile_filter(spec: dict, schema: dict) -> Predicate:
    name, operator = spec.get("propertyName"), str(spec.get("operator", "EQ")).upper()
    if name not in schema:
        raise ValidationError(f"There was a problem with the request: property {name!r} does not exist")
    kind, getter = schema[name]
    convert = _converter(kind)

    def value(r: Record):
        v = getter(r)
        return None if v is None else (v.lower() if isinstance(v, str) else v)

    if operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        wanted = operator == "HAS_PROPERTY"
        return lambda r: (value(r) not in (None, "")) == wanted
    if operator in ("IN", "NOT_IN"):
        choices = {convert(v) for v in spec.get("values") or []}
        return (lambda r: value(r) in choices) if operator == "IN" else (lambda r: value(r) not in choices)
    if "value" not in spec:
        raise ValidationError(f"Filter on {name!r} with operator {operator} needs a value")
    target = convert(spec["value"])
    return _comparison(operator, value, target, convert(spec.get("highValue", spec["value"])))


def _comparison(operator: str, value, target, high) -> Predicate:
    ordered = {
        "LT": lambda v: v < target,
        "LTE": lambda v: v <= target,
        "GT": lambda v: v > target,
        "GTE": lambda v: v >= target,
        "BETWEEN": lambda v: target <= v <= high,
    }
    if operator == "EQ":
        return lambda r: value(r) == target
    if operator == "NEQ":
        return lambda r: value(r) != target
    if operator == "CONTAINS_TOKEN":
        return lambda r: isinstance(value(r), str) and str(target).strip("*") in value(r)
    if operator not in ordered:
        raise ValidationError(f"Unknown filter operator {operator!r}")
    test = ordered[operator]
    return lambda r: (v := value(r)) is not None and test(v)


@dataclass
class SearchQuery:
    groups: list[list[Predicate]]
    sort: tuple[str, bool] | None  # (property, descending)
    properties: list[str] | None
    limit: int
    offset: int
    text: str | None


def _check_filter_limits(groups: list) -> None:
    if len(groups) > MAX_FILTER_GROUPS:
        raise ValidationError(f"Too many filter groups: {len(groups)} (the maximum is {MAX_FILTER_GROUPS})")
    for group in groups:
        count = len(group.get("filters") or [])
        if count > MAX_FILTERS_PER_GROUP:
            raise ValidationError(
                f"Too many filters in a group: {count} (the maximum is {MAX_FILTERS_PER_GROUP})"
            )
    total = sum(len(g.get("filters") or []) for g in groups)
    if total > MAX_FILTERS:
        raise ValidationError(f"Too many filters: {total} (the maximum across all groups is {MAX_FILTERS})")


def _parse_sort(sorts: list, schema: dict) -> tuple[str, bool] | None:
    if not sorts:
        return None
    if len(sorts) > 1:
        raise ValidationError("Only one sort is supported")
    sort = sorts[0]
    if isinstance(sort, str):
        name, descending = sort.lstrip("-"), sort.startswith("-")
    else:
        name, descending = (
            sort.get("propertyName"),
            str(sort.get("direction", "ASCENDING")).upper() == "DESCENDING",
        )
    if name not in schema:
        raise ValidationError(f"Cannot sort on unknown property {name!r}")
    return name, descending


def _parse_paging(body: dict) -> tuple[int, int]:
    limit, after = body.get("limit", 10), body.get("after") or "0"
    if isinstance(limit, str) and limit.isdigit():
        limit = int(limit)
    if not isinstance(limit, int) or not 1 <= limit <= 200:
        raise ValidationError(f"limit must be an integer between 1 and 200; got {limit!r}")
    if not str(after).isdigit():
        raise ValidationError(f"Invalid paging cursor after={after!r}")
    offset = int(after)
    if offset + limit > MAX_SEARCH_RESULTS:
        raise ValidationError(
            f"Paging past {MAX_SEARCH_RESULTS} results is not supported: after={offset}, limit={limit}. "
            "Narrow the query (for example by date range) instead."
        )
    return limit, offset


def parse_search(body: object, object_type: str) -> SearchQuery:
    if not isinstance(body, dict):
        raise ValidationError("Invalid input JSON: expected an object")
    schema = property_schema(object_type)
    groups = body.get("filterGroups") or []
    _check_filter_limits(groups)
    compiled = [[_compile_filter(f, schema) for f in g.get("filters") or []] for g in groups]
    text = body.get("query")
    if text is not None and len(str(text)) > 3000:
        raise ValidationError("query must be at most 3000 characters")
    limit, offset = _parse_paging(body)
    properties = body.get("properties")
    if properties is not None and not isinstance(properties, list):
        raise ValidationError("properties must be a list of property names")
    return SearchQuery(
        compiled, _parse_sort(body.get("sorts") or [], schema), properties, limit, offset, text
    )


def _text_match(object_type: str, text: str) -> Predicate:
    needle = text.lower()
    getters = [g for kind, g in property_schema(object_type).values() if kind == "string"]
    return lambda r: any(needle in str(g(r)).lower() for g in getters)


def run_search(records: list[Record], object_type: str, query: SearchQuery) -> tuple[int, list[Record]]:
    matches = [r for r in records if not r.archived]
    if query.groups:
        matches = [r for r in matches if any(all(p(r) for p in group) for group in query.groups)]
    if query.text:
        test = _text_match(object_type, query.text)
        matches = [r for r in matches if test(r)]
    matches.sort(key=lambda r: r.id)
    if query.sort:
        getter = property_schema(object_type)[query.sort[0]][1]
        present = sorted((r for r in matches if getter(r) is not None), key=getter, reverse=query.sort[1])
        matches = present + [r for r in matches if getter(r) is None]
    return len(matches), matches[query.offset : query.offset + query.limit]


def format_value(kind: str, value) -> str | None:
    if value is None:
        return None
    return iso(value) if kind == "datetime" else str(value)


def record_json(record: Record, names: list[str] | None) -> dict:
    schema = property_schema(record.object_type)
    always = (CREATE_PROPERTY[record.object_type], MODIFIED_PROPERTY[record.object_type], "hs_object_id")
    wanted = list(default_properties(record.object_type)) if names is None else list(always) + list(names)
    properties = {n: format_value(schema[n][0], schema[n][1](record)) for n in wanted if n in schema}
    return {
        "id": str(record.id),
        "properties": properties,
        "createdAt": iso(record.created_ms),
        "updatedAt": iso(record.updated_ms),
        "archived": False,
    }


async def search(request: Request, portal: PortalData) -> dict:
    object_type = resolve_object_type(request.path_params["object_type"])
    if object_type is None:
        raise ValidationError(f"Unable to infer object type from: {request.path_params['object_type']}")
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise ValidationError("Invalid input JSON on line 1") from None
    query = parse_search(body, object_type)
    total, page = run_search(portal.records.get(object_type, []), object_type, query)
    result = {"total": total, "results": [record_json(r, query.properties) for r in page]}
    if query.offset + query.limit < total:
        result["paging"] = {"next": {"after": str(query.offset + query.limit)}}
    return result
