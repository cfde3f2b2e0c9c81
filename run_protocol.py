#!/usr/bin/env python
"""Sweep an entanglement attack and score every level: ``python run_protocol.py --help``."""
import os
import signal
import sys


def _before_start(signum, frame):
    # Ctrl-C or SIGTERM while the packages still import: nothing has run, nothing to keep
    sys.stderr.write("interrupted before the run started\n")
    os._exit(128 + signum)


if __name__ == "__main__":
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _before_start)
    from benchmark.runner import main

    sys.exit(main())
