import asyncio
from datetime import timedelta

from core.clock import FrozenClock
from storage.states import StateStore


def store(storage, clock):
    return StateStore(storage.db, storage.encryptor, clock)


async def test_state_is_random_bound_single_use_and_expires(storage):
    clock = FrozenClock()
    states = store(storage, clock)
    state = await states.issue(
        "connect",
        ttl=timedelta(minutes=10),
        team_id="T1",
        user_id="U1",
        provider="hubspot",
        payload={"response_url": "https://hooks/x"},
    )
    assert len(state) >= 43  # 256 bits, url-safe
    record = await states.find(state, "connect")
    assert (record.team_id, record.user_id, record.provider) == ("T1", "U1", "hubspot")
    assert record.payload == {"response_url": "https://hooks/x"}
    assert await states.find(state, "slack_install") is None  # bound to its kind
    assert (await states.consume(state, "connect"))[0] == "valid"
    assert (await states.consume(state, "connect"))[0] == "used"

    late = await states.issue("connect", ttl=timedelta(minutes=10))
    clock.advance(minutes=10)
    assert (await states.consume(late, "connect"))[0] == "expired"
    assert (await states.consume("never-issued", "connect"))[0] == "unknown"
    assert (await states.consume("x" * 5000, "connect"))[0] == "unknown"


async def test_racing_consumers_consume_once(storage):
    states = store(storage, FrozenClock())
    state = await states.issue("connect", ttl=timedelta(minutes=10))
    results = await asyncio.gather(*(states.consume(state, "connect") for _ in range(10)))
    assert [status for status, _ in results].count("valid") == 1


async def test_only_the_hash_and_ciphertext_are_stored(storage):
    from tests.handlers.test_events import assert_nowhere_in_database

    states = store(storage, FrozenClock())
    state = await states.issue(
        "connect", ttl=timedelta(minutes=1), payload={"response_url": "https://hooks/secret"}
    )
    await assert_nowhere_in_database(storage, state)
    await assert_nowhere_in_database(storage, "https://hooks/secret")


async def test_purge_removes_long_expired_states(storage):
    clock = FrozenClock()
    states = store(storage, clock)
    old = await states.issue("connect", ttl=timedelta(minutes=10))
    clock.advance(days=2)
    fresh = await states.issue("connect", ttl=timedelta(minutes=10))
    assert await states.purge_expired() == 1
    assert await states.find(old, "connect") is None
    assert await states.find(fresh, "connect") is not None
