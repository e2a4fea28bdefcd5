"""`make bench` (python -m bench): the project's benchmarks. Speed and memory goals live here,
not in the test suite, because they depend on the machine and take minutes."""

from __future__ import annotations

import sys

from bench import pipeline

if __name__ == "__main__":
    sys.exit(pipeline.main(sys.argv[1:]))
