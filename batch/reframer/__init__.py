"""Reframe a landscape video to 9:16, 1:1 or 4:5 while keeping the subject in frame.

The stages, one module each, in the order the pipeline runs them: probe, decode, shots, faces,
saliency, tracking, camera, render, outputs. `pipeline.run` chains them; `python -m
batch.reframer` is the command line.
"""

import os

# numpy's OpenBLAS on one thread: the analysis pass runs threads of its own (pipeline.py), and
# an idle OpenBLAS worker spins (sched_yield) on the other core after every call (measured on
# the 30 s bench clip: 3% of the pass's CPU, and 0.08 s of the start-up's). Set before numpy
# loads, which is why it is here, the first module of the package to run.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
