"""Resilience: fallbacks to other models or regions, circuit breaking, and timeouts.

One module per concept: :mod:`~fmgate.resilience.fallback` (the order targets are tried in),
:mod:`~fmgate.resilience.breaker` (skipping a failing target for a while) and
:mod:`~fmgate.resilience.timeouts` (cutting a stalled stream).
"""
