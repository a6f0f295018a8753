"""Amounts of money: integer minor units with an ISO 4217 code, shown in the workspace's locale by Babel.

Minor units are the currency's own (cents for EUR, none for JPY: Babel's CLDR data says how many),
so `Money(123456, "EUR")` is €1,234.56 and `Money(1235, "JPY")` is ¥1,235. Every amount reads with its
symbol first and the locale's separators — €1.234,56 in de-DE, $1,234.56 in en-US — so the figures of
one message line up whatever the currency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.core import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision, get_currency_symbol, is_currency

DEFAULT_LOCALE = "en-US"
CODE = re.compile(r"^[A-Za-z]{3}$")
MAX_MAJOR = Decimal(1_000_000)  # no seat costs a million a period: a typo, not a price
_PATTERN = "¤#,##0.00"  # the fraction follows the currency's digits (Babel's currency_digits); a symbol
# that ends in a letter (CHF) is kept apart from the figure by a no-break space
_WHOLE = "¤#,##0"  # a round figure (a year's saving): no minor digits


@dataclass(frozen=True, order=True)
class Money:
    minor: int
    currency: str

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.minor + other.minor, self.currency)

    def times(self, factor: int) -> Money:
        return Money(self.minor * factor, self.currency)


def currency_sentence(code: str) -> str | None:
    """None for an ISO 4217 code Babel knows, else the sentence that says why it is refused."""
    shown = code.strip()[:12]
    if not CODE.match(code.strip()):
        return f"`{shown}` is not a currency code: use three letters such as EUR, USD or JPY."
    if not is_currency(code.strip().upper()):
        return f"`{shown.upper()}` is not an ISO 4217 currency I know: use one such as EUR, USD or JPY."
    return None


def currency(code: str) -> str:
    """The code, upper case; ValueError with the sentence for one Babel does not know."""
    if sentence := currency_sentence(code):
        raise ValueError(sentence)
    return code.strip().upper()


def digits(code: str) -> int:
    """How many minor digits the currency has: 2 for EUR, 0 for JPY, 3 for KWD."""
    return get_currency_precision(currency(code))


def locale_sentence(tag: str) -> str | None:
    """None for a locale Babel knows (`de-DE`, `en_US`, `fr`), else a sentence."""
    try:
        _locale(tag)
    except ValueError as error:
        return str(error)
    return None


def _locale(tag: str) -> Locale:
    clean = tag.strip().replace("_", "-")
    try:
        return Locale.parse(clean, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError(
            f"`{tag.strip()[:20]}` is not a locale I know: use a tag such as en-US, de-DE or fr-FR."
        ) from None


def to_minor(amount: Decimal | int | str, code: str) -> int:
    """A major amount (`1234.56`) in the currency's minor units, rounded half up; ValueError with a sentence
    when it is not a finite amount between 0 and a million."""
    try:
        value = Decimal(str(amount).strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"`{str(amount)[:20]}` is not an amount: write it like 1234.56.") from None
    if not value.is_finite() or value < 0 or value > MAX_MAJOR:
        raise ValueError(f"`{str(amount)[:20]}` is not an amount between 0 and 1,000,000.")
    places = digits(code)
    return int((value * (10**places)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def major(money: Money) -> Decimal:
    """The amount in the currency's major unit (two minor digits for a code Babel does not know)."""
    return Decimal(money.minor).scaleb(-get_currency_precision(money.currency.strip().upper()))


def format_money(money: Money, locale: str = DEFAULT_LOCALE, *, whole: bool = False) -> str:
    """`Money(123456, "EUR")` as €1.234,56 in de-DE and €1,234.56 in en-US; `Money(1235, "JPY")` as ¥1,235.
    `whole`: rounded to the major unit (€3,240), for figures such as a year's saving."""
    where = _locale(locale)
    code = currency(money.currency)
    symbol = get_currency_symbol(code, locale=where)
    pattern = _WHOLE if whole else _PATTERN
    if symbol[-1:].isalpha():
        pattern = pattern.replace("¤", "¤\xa0")
    value = major(money).quantize(Decimal(1), rounding=ROUND_HALF_UP) if whole else major(money)
    return format_currency(value, code, format=pattern, locale=where, currency_digits=not whole)
