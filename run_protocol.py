#!/usr/bin/env python
"""Sweep an entanglement attack and score every level: ``python run_protocol.py --help``."""
import sys

from benchmark.runner import main

if __name__ == "__main__":
    sys.exit(main())
