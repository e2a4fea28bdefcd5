"""A machine crash for a process tree: every process under a root, SIGKILLed at once.

Children that left the root's process group (the local Batch runner starts each container
in a session of its own) are found through /proc by parent id. The tree is frozen with
SIGSTOP first, so nothing in it can start a new process, or react to its parent's death,
between the listing and the kill.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process now."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it exited meanwhile
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(root: int) -> set[int]:
    parents = _parents()
    found: set[int] = set()
    frontier = {root}
    while frontier:
        children = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= children
        frontier = children
    return found


def _signal(pids: set[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def kill_tree(root: int) -> int:
    """SIGKILLs `root` and everything it started; returns how many processes died."""
    frozen: set[int] = {root}
    _signal(frozen, signal.SIGSTOP)
    while True:  # until a listing finds no process that was not frozen already
        found = descendants(root) - frozen
        if not found:
            break
        _signal(found, signal.SIGSTOP)
        frozen |= found
    _signal(frozen, signal.SIGKILL)
    return len(frozen)
