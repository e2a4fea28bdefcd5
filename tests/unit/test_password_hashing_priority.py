"""bcrypt runs on threads that yield the CPU to the event loop: during a login storm the
other requests keep their latency (the load benchmark's health probe measures it)."""

from __future__ import annotations

import os
import threading

from app.services.passwords import HASHING_NICENESS, LOWEST_PRIORITY, PasswordHasher


async def test_password_hashing_threads_run_at_a_lower_priority_than_the_event_loop() -> None:
    hasher = PasswordHasher(rounds=4)
    assert await hasher.verify("correct horse", await hasher.hash("correct horse"))

    hashing = [t for t in threading.enumerate() if t.name.startswith("password-hashing")]
    assert hashing, "the hash ran on the hashing pool"
    loop_niceness = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    for thread in hashing:
        assert thread.native_id is not None
        assert os.getpriority(os.PRIO_PROCESS, thread.native_id) == min(
            loop_niceness + HASHING_NICENESS, LOWEST_PRIORITY
        )
