"""The benchmarks: `python -m bench [load|scale|pipeline]` (see __main__)."""
