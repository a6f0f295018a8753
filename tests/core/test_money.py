"""Amounts: integer minor units with an ISO 4217 code, formatted by Babel in the workspace's locale."""

from decimal import Decimal

import pytest

from core.money import Money, currency_sentence, digits, format_money, locale_sentence, to_minor


@pytest.mark.parametrize(
    ("minor", "code", "locale", "text"),
    [
        (123456, "EUR", "de-DE", "€1.234,56"),
        (123456, "USD", "en-US", "$1,234.56"),
        (1235, "JPY", "en-US", "¥1,235"),
        (123456, "EUR", "en-US", "€1,234.56"),
        (123456, "USD", "de_DE", "$1.234,56"),
        (0, "EUR", "de-DE", "€0,00"),
        (5, "USD", "en-US", "$0.05"),
        (100_000_000_00, "GBP", "en-GB", "£100,000,000.00"),
        (123456, "CHF", "de-CH", "CHF\xa01'234.56"),
        (1234567, "KWD", "en-US", "KWD\xa01,234.567"),
    ],
)
def test_format_money(minor, code, locale, text):
    assert format_money(Money(minor, code), locale) == text


@pytest.mark.parametrize(
    ("minor", "code", "locale", "text"),
    [
        (324000, "EUR", "en-US", "€3,240"),
        (324049, "EUR", "de-DE", "€3.240"),
        (324050, "USD", "en-US", "$3,241"),  # half up (Babel alone rounds half to even)
        (1235, "JPY", "en-US", "¥1,235"),
        (123456, "CHF", "de-CH", "CHF\xa01'235"),
    ],
)
def test_whole_amounts(minor, code, locale, text):
    assert format_money(Money(minor, code), locale, whole=True) == text


@pytest.mark.parametrize(
    ("amount", "code", "minor"),
    [
        ("1234.56", "EUR", 123456),
        ("1234,56", "EUR", 123456),
        ("1234.565", "EUR", 123457),  # half up
        ("1234.5", "JPY", 1235),  # JPY has no minor digits
        (Decimal("90"), "usd", 9000),
        ("1.2345", "KWD", 1235),
        ("0", "EUR", 0),
    ],
)
def test_to_minor(amount, code, minor):
    assert to_minor(amount, code) == minor


@pytest.mark.parametrize(
    ("amount", "code", "says"),
    [
        ("abc", "EUR", "is not an amount: write it like 1234.56."),
        ("-1", "EUR", "is not an amount between 0 and 1,000,000."),
        ("NaN", "EUR", "is not an amount between 0 and 1,000,000."),
        ("1e12", "EUR", "is not an amount between 0 and 1,000,000."),
        ("10", "XYZ", "`XYZ` is not an ISO 4217 currency I know: use one such as EUR, USD or JPY."),
    ],
)
def test_bad_amounts_are_refused_with_one_sentence(amount, code, says):
    with pytest.raises(ValueError, match=".") as error:
        to_minor(amount, code)
    assert str(error.value).endswith(says) and str(error.value).count(". ") == 0


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("EUR", None),
        ("jpy", None),
        (" usd ", None),
        ("QQQ", "`QQQ` is not an ISO 4217 currency I know: use one such as EUR, USD or JPY."),
        ("EURO", "`EURO` is not a currency code: use three letters such as EUR, USD or JPY."),
        ("€", "`€` is not a currency code: use three letters such as EUR, USD or JPY."),
        ("", "`` is not a currency code: use three letters such as EUR, USD or JPY."),
    ],
)
def test_currency_sentence(code, sentence):
    assert currency_sentence(code) == sentence


def test_an_unknown_currency_is_refused_when_formatting():
    with pytest.raises(ValueError, match="^`QQQ` is not an ISO 4217 currency I know"):
        format_money(Money(100, "QQQ"))


@pytest.mark.parametrize(("code", "places"), [("EUR", 2), ("JPY", 0), ("KWD", 3), ("USD", 2)])
def test_digits(code, places):
    assert digits(code) == places


@pytest.mark.parametrize(
    ("tag", "ok"), [("de-DE", True), ("en_US", True), ("fr", True), ("xx-QQ", False), ("", False)]
)
def test_locale_sentence(tag, ok):
    assert (locale_sentence(tag) is None) == ok


def test_adding_different_currencies_is_refused():
    assert Money(100, "EUR") + Money(5, "EUR") == Money(105, "EUR")
    with pytest.raises(ValueError):
        Money(100, "EUR") + Money(5, "USD")
