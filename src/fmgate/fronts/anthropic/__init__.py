"""The Anthropic-compatible front: ``POST /v1/messages`` (Messages API, streamed or whole) and
``POST /v1/messages/count_tokens`` over the same registry and neutral events as the other
fronts."""
