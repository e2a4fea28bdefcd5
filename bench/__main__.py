"""`make bench` (python -m bench): the project's benchmarks. Speed and memory goals live here,
not in the test suite, because they depend on the machine and take minutes.

`python -m bench` runs them all; `python -m bench load|scale|pipeline|quality|long [options]`
runs one.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable

from bench import load, long, pipeline, quality, scale

BENCHMARKS: dict[str, Callable[[list[str]], int]] = {
    "pipeline": pipeline.main,
    "quality": quality.main,
    "load": load.main,
    "scale": scale.main,
    "long": long.main,
}


def main(argv: list[str]) -> int:
    # A SIGTERM (timeout, Ctrl-C from make) unwinds like an exception, so the benchmarks'
    # PostgreSQL clusters and servers are stopped rather than orphaned.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if argv and argv[0] in ("-h", "--help"):
        print(f"usage: python -m bench [{'|'.join(BENCHMARKS)}] [options of that benchmark]")
        return 0
    if argv and argv[0] in BENCHMARKS:
        return BENCHMARKS[argv[0]](argv[1:])
    if argv:
        names = ", ".join(BENCHMARKS)
        print(f"unknown benchmark {argv[0]!r}; choose from {names}", file=sys.stderr)
        return 2
    status = 0
    for name, run in BENCHMARKS.items():
        print(f"== {name}", flush=True)
        status = max(status, run([]))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
