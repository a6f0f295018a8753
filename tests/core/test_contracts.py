"""The contract validator every way in shares (modal, CLI, CSV): one sentence per bad field."""

from datetime import date

import pytest

from core.contracts import Contract, dates_changed, parse, parse_stages

KNOWN = {"hubspot": "hubspot", "zoom": "zoom"}


def find(name: str) -> str | None:
    return KNOWN.get(name.strip().lower())


FULL = {
    "provider": "HubSpot",
    "seats": "100",
    "price": "45",
    "period": "month",
    "currency": "eur",
    "start": "2026-01-01",
    "renewal": "2027-01-01",
    "notice_days": "30",
    "auto_renews": "yes",
    "owner": "<@U0123ABC>",
}


def test_a_full_contract():
    contract, errors = parse(FULL, find)
    assert errors == {}
    assert contract == Contract(
        provider="hubspot",
        seats=100,
        price_minor=4500,
        period="month",
        currency="EUR",
        starts_on=date(2026, 1, 1),
        renews_on=date(2027, 1, 1),
        notice_days=30,
        auto_renews=True,
        owner="U0123ABC",
    )
    assert contract.notice_deadline() == date(2026, 12, 2)
    assert contract.yearly_cost().minor == 4500 * 12 * 100
    assert parse(contract.fields(), find)[0] == contract  # what list prints, set reads back


@pytest.mark.parametrize(
    ("changes", "field", "sentence"),
    [
        ({"provider": "salesforce"}, "provider", "`salesforce` is not a provider I know."),
        ({"provider": ""}, "provider", "the provider is missing."),
        ({"seats": "-3"}, "seats", "`-3` is not a whole number from 0 to 1,000,000."),
        ({"seats": "12.5"}, "seats", "`12.5` is not a whole number from 0 to 1,000,000."),
        ({"seats": "2000000"}, "seats", "`2000000` is not a whole number from 0 to 1,000,000."),
        ({"price": "ten"}, "price", "`ten` is not an amount: write it like 1234.56."),
        ({"price": "-1"}, "price", "`-1` is not an amount between 0 and 1,000,000."),
        ({"period": "week"}, "period", "`week` is not a period: use month or year."),
        (
            {"currency": "QQQ"},
            "currency",
            "`QQQ` is not an ISO 4217 currency I know: use one such as EUR, USD or JPY.",
        ),
        ({"currency": ""}, "currency", "a price needs its currency, e.g. EUR."),
        ({"start": "01/02/2026"}, "start", "`01/02/2026` is not a date like 2027-03-31."),
        ({"renewal": "2027-02-30"}, "renewal", "`2027-02-30` is not a date like 2027-03-31."),
        ({"renewal": "2025-12-31"}, "renewal", "the renewal date must come after the start date."),
        ({"notice_days": "999"}, "notice_days", "`999` is not a whole number from 0 to 730."),
        ({"auto_renews": "maybe"}, "auto_renews", "`maybe` is neither yes nor no."),
        ({"owner": "bob"}, "owner", "`bob` is not a Slack member id like U0123ABC."),
        (
            {"colour": "red"},
            "colour",
            "`colour` is not a contract field (known: provider, seats, price, "
            "period, currency, start, renewal, notice_days, auto_renews, owner).",
        ),
    ],
)
def test_one_sentence_per_bad_field(changes, field, sentence):
    contract, errors = parse(FULL | changes, find)
    assert contract is None and errors == {field: sentence}


def test_every_bad_field_is_named_at_once():
    _, errors = parse(FULL | {"seats": "x", "period": "week", "owner": "bob"}, find)
    assert sorted(errors) == ["owner", "period", "seats"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"price": "45", "currency": "JPY"}, {"price_minor": 45, "currency": "JPY", "period": "month"}),
        ({"price": "540", "period": "year", "currency": "USD"}, {"price_minor": 54000, "period": "year"}),
        ({"seats": ""}, {"seats": None}),  # an empty value clears it
        ({"auto_renews": "No"}, {"auto_renews": False}),
        ({"owner": "W0ABC12"}, {"owner": "W0ABC12"}),
        ({"start": "2026-06-01"}, {"starts_on": date(2026, 6, 1), "renews_on": date(2027, 1, 1)}),
    ],
)
def test_a_partial_change_keeps_the_rest(raw, expected):
    base, _ = parse(FULL, find)
    contract, errors = parse({"provider": "hubspot", **raw}, find, base=base)
    assert errors == {}
    assert {k: getattr(contract, k) for k in expected} == expected
    untouched = {"seats", "owner", "notice_days"} - {k for k in expected}
    assert {k: getattr(contract, k) for k in untouched} == {k: getattr(base, k) for k in untouched}


def test_a_new_currency_needs_the_price_in_it():
    base, _ = parse(FULL, find)
    _, errors = parse({"provider": "hubspot", "currency": "USD"}, find, base=base)
    assert errors == {"price": "the currency changed: give the price in the new currency too."}


@pytest.mark.parametrize(
    ("price_minor", "period", "monthly"),
    [(4500, "month", 4500), (54000, "year", 4500), (100, "year", 8), (None, None, None)],
)
def test_monthly_price(price_minor, period, monthly):
    contract = Contract("hubspot", price_minor=price_minor, period=period, currency="EUR")
    assert contract.monthly_minor() == monthly


@pytest.mark.parametrize(
    ("change", "changed"),
    [
        ({"seats": 3}, False),
        ({"owner": "U9"}, False),
        ({"notice_days": 60}, True),
        ({"renews_on": date(2028, 1, 1)}, True),
    ],
)
def test_dates_changed(change, changed):
    from dataclasses import replace

    base, _ = parse(FULL, find)
    assert dates_changed(base, replace(base, **change)) is changed
    assert dates_changed(None, base)


@pytest.mark.parametrize(
    ("text", "stages"),
    [
        ("90,60,30,14,7", (90, 60, 30, 14, 7)),
        ("7, 14,30", (30, 14, 7)),
        ("120", (120,)),
        ("30,30,7", (30, 7)),
    ],
)
def test_parse_stages(text, stages):
    assert parse_stages(text) == stages


@pytest.mark.parametrize("text", ["", "soon", "90;60", "0,7", "400", "1,2,3,4,5,6,7,8,9"])
def test_bad_stages_are_one_sentence(text):
    with pytest.raises(ValueError) as error:
        parse_stages(text)
    assert str(error.value).endswith(".") and "\n" not in str(error.value)
