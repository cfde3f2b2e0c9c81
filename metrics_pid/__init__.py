"""PID-based metrics: bounds on unique, redundant and synergistic information.

:func:`unibound` (Tokui & Sato 2022) and its companions from the PID bounds
(:func:`pid_bounds`, :func:`aggregate`), the per-factor, per-latent PID profile
(:func:`pid_profile`), the total correlation the paper reports beside the
redundancy bound (:func:`total_correlation`), and :data:`SPECS` for the runner.
"""
from . import _total_correlation, _unibound
from ._bounds import TERMS, aggregate, pid_bounds
from ._profile import PROFILE_COLUMNS, pid_profile, profile_table
from ._total_correlation import total_correlation, total_correlation_estimator, total_correlation_score
from ._unibound import unibound, unibound_details, unibound_score

SPECS = (_unibound.SPEC, _total_correlation.SPEC)

__all__ = ["PROFILE_COLUMNS", "SPECS", "TERMS", "aggregate", "pid_bounds", "pid_profile",
           "profile_table", "total_correlation", "total_correlation_estimator",
           "total_correlation_score", "unibound",
           "unibound_details", "unibound_score"]
