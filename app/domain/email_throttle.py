"""How often one account may be sent the same kind of email: a cooldown, then a cap per hour.

Pure: the caller reads when earlier emails of that kind went out and asks whether one more may.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class SendThrottle:
    cooldown: timedelta
    max_per_window: int

    def retry_after(self, earlier_sends: Iterable[datetime], now: datetime) -> int | None:
        """Seconds until one more may be sent (at least 1), or None when it may go now."""
        recent = sorted(t for t in earlier_sends if now - t < WINDOW)
        waits: list[timedelta] = []
        if recent and now - recent[-1] < self.cooldown:
            waits.append(recent[-1] + self.cooldown - now)
        if len(recent) >= self.max_per_window:
            # The oldest send that keeps the window full must age out first.
            waits.append(recent[len(recent) - self.max_per_window] + WINDOW - now)
        if not waits:
            return None
        return max(1, math.ceil(max(waits).total_seconds()))
