"""Benchmarks: `make bench` prints each figure as a ratio to a baseline
measured in the same run."""

import sys

print("no benchmarks yet", file=sys.stderr)
