"""Reframe a landscape video to 9:16, 1:1 or 4:5 while keeping the subject in frame.

The stages, one module each, in the order the pipeline runs them: probe, decode, shots, faces,
saliency, tracking, camera, render, outputs. `pipeline.run` chains them; `python -m
batch.reframer` is the command line.
"""
