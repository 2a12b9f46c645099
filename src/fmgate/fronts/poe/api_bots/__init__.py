"""Poe API bots: Poe calls the gateway's ``/v1/chat/completions`` itself, and
``fmgate poe api-bots sync`` creates or updates those bots through Poe's Bots REST API.

``pricing`` (catalog milli-cents -> Poe's USD-per-token strings), ``controls`` (the parameter
controls, named after the Chat Completions fields Poe fills in), ``definition`` (one bot's
REST body, and its printable form without the key), ``client`` (the Bots REST API), ``sync``
(plan and apply, idempotent). What Poe documents, and what is assumed: docs/poe-api-bots.md.
"""
