"""Guards against hostile and runaway callers: per-user limits, bearer-token checks.

- :mod:`fmgate.security.rate_limits`: in-memory per-user (and per-bot) concurrency and rate
  limits, and a stream wrapper that admits a request or answers with a refusal.
- :mod:`fmgate.security.jwt_auth`: JWT bearer validation (issuer, audience, expiry, algorithm
  allow-list) for callers other than Poe, on PyJWT.

Request-shape limits (message count and size, attachments, parameter nesting) are checked where
the request is parsed (``fmgate.fronts.poe.parse``); body size and body time in the route.
"""
