"""When a contract's free seats run out (issue 26, item 3). Pure: numbers in, a decision out.

Free seats are those bought (the contract's `seats`) minus those assigned (the latest report's paid
seats). They run out when fewer than MIN_FREE are free or fewer than PERCENT % of those bought:

- nothing bought known (None) or 0 bought: never (no contract to run out of);
- more assigned than bought: running out, with 0 free (the contract is overdrawn, not negative);
- the edges are strict: exactly 2 free, or exactly 5 % free, is not running out (100 bought: 5 free
  is fine, 4 is not; 10 bought: 2 free is fine, 1 is not).
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_FREE = 2
PERCENT = 5


@dataclass(frozen=True)
class FreeSeats:
    bought: int
    assigned: int

    @property
    def free(self) -> int:
        return max(0, self.bought - self.assigned)


def free_seats(bought: int | None, assigned: int) -> FreeSeats | None:
    """The seats free under a contract, or None when there is no number bought to count from."""
    if not bought or bought < 0:
        return None
    return FreeSeats(bought=bought, assigned=max(0, assigned))


def running_out(bought: int | None, assigned: int) -> bool:
    seats = free_seats(bought, assigned)
    if seats is None:
        return False
    # integers only: free < 5 % of bought  <=>  free * 100 < bought * 5
    return seats.free < MIN_FREE or seats.free * 100 < seats.bought * PERCENT
