"""What people type for a provider in a command (`Registry.named`): its key, its display name or an
alias its catalogue entry declares, in any case; an unknown name gets one sentence of the valid ones
(`Registry.known`); two providers answering to one name is a catalogue mistake, refused when the
registry is built. Generic: a provider that lives under tests/ (Seatly), given aliases here."""

from __future__ import annotations

from dataclasses import replace

import pytest

import tests.plugin_provider as seatly
from providers.registry import INSTALLED, Installed, Registry


def registry_with(*specs) -> Registry:
    return Registry(Installed(spec, seatly.Hooks) for spec in specs)


ALIASED = replace(seatly.SPEC, aliases=("seats", "Seatly HQ"))
OTHER = replace(seatly.SPEC, key="otherapp", display_name="Other App", aliases=())

CASES = [
    # typed, the key it names (None: unknown)
    (seatly.SPEC.key, seatly.SPEC.key),
    (seatly.SPEC.key.upper(), seatly.SPEC.key),
    (seatly.SPEC.display_name, seatly.SPEC.key),
    ("SEATS", seatly.SPEC.key),
    ("  seatly   hq ", seatly.SPEC.key),
    ("Other App", "otherapp"),
    ("otherapp", "otherapp"),
    ("seat", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize("typed,key", CASES)
def test_a_key_a_display_name_or_an_alias_names_the_provider(typed, key):
    named = registry_with(ALIASED, OTHER).named(typed)
    assert (named.key if named else None) == key


def test_find_stays_the_key_only():
    """Stored keys and URL paths still resolve by key alone (`find`): an alias is for people."""
    registry = registry_with(ALIASED)
    assert registry.find("seats") is None and registry.find(seatly.SPEC.key) is not None


def test_known_lists_each_provider_with_what_may_be_typed():
    known = registry_with(ALIASED, OTHER).known()
    assert known == f"Seatly (`seats`, `seatly hq`, `{seatly.SPEC.key}`), Other App (`otherapp`)"


@pytest.mark.parametrize(
    "clash",
    [
        replace(OTHER, aliases=("seats",)),
        replace(OTHER, display_name="SEATLY"),
        replace(OTHER, aliases=(seatly.SPEC.key,)),
    ],
)
def test_a_name_two_providers_answer_to_is_refused(clash):
    with pytest.raises(ValueError, match="names both"):
        registry_with(ALIASED, clash)


def test_the_installed_catalogue_has_no_clash_and_slack_seats_answers_to_slack():
    assert INSTALLED.named("slack").key == "slack_seats"
    assert INSTALLED.named("Slack").key == "slack_seats"
