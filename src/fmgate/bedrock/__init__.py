"""The Bedrock layer: neutral model requests in, Bedrock Runtime calls, neutral events out.

``client`` (pooled aiobotocore clients), ``converse`` (chat), ``images``, ``video``, ``errors``
(botocore failures -> :mod:`fmgate.core.errors`, by code and type) and ``retry`` (before the first
output only). Nothing here imports fronts, bots or ``fastapi_poe``. See ``docs/bedrock.md``.
"""
