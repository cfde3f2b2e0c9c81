"""PID-based metrics: bounds on unique, redundant and synergistic information."""
