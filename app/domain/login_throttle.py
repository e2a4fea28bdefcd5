"""How long an account's login waits after failed guesses. Pure; no I/O.

Failures are counted per account (by address, known or not: the answer must not tell), from
any client address. The first few cost nothing (a person mistyping); after them, each failure
makes the next attempt wait twice as long as the one before, up to a cap short enough that
the owner is never locked out for long. A success forgets the failures.
"""

from __future__ import annotations


def delay_after_failures(failures: int, free_failures: int, cap_seconds: int) -> int:
    """Seconds the next attempt must wait after `failures` failures in a row; 0: none."""
    if failures < free_failures:
        return 0
    return int(min(cap_seconds, 2 ** (failures - free_failures)))
