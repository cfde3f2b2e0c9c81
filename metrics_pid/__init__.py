"""PID-based metrics: bounds on unique, redundant and synergistic information.

Importing the package registers the ``unibound`` metric.
"""
from .bounds import TERMS, aggregate, pid_bounds
from .profile import pid_profile, profile_table
from .unibound import estimator_used, unibound

__all__ = ["TERMS", "aggregate", "estimator_used", "pid_bounds", "pid_profile",
           "profile_table", "unibound"]
