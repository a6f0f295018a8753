import pytest

from core.free_seats import free_seats, running_out


@pytest.mark.parametrize(
    ("bought", "assigned", "expected"),
    [
        (None, 10, False),  # no contract number: never
        (0, 0, False),  # nothing bought: never
        (0, 5, False),
        (100, 99, True),  # 1 free
        (100, 96, True),  # 4 free < 5 %
        (100, 95, False),  # exactly 5 %: not under
        (100, 50, False),
        (10, 9, True),  # 1 free < 2
        (10, 8, False),  # exactly 2 free, 20 %
        (2, 0, False),  # 2 free of 2
        (1, 0, True),  # 1 free < 2
        (1000, 951, True),  # 49 free < 50
        (1000, 950, False),  # 50 free = 5 %
        (100, 100, True),  # none free
        (100, 120, True),  # overdrawn: running out, 0 free
    ],
)
def test_running_out(bought, assigned, expected):
    assert running_out(bought, assigned) is expected


def test_free_is_never_negative():
    assert free_seats(100, 120).free == 0
    assert free_seats(100, 99).free == 1
    assert free_seats(None, 3) is None
    assert free_seats(0, 3) is None
