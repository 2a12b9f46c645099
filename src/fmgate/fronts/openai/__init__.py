"""The OpenAI-compatible front: ``/v1/chat/completions``, ``/v1/models``,
``/v1/images/generations`` over the same registry and neutral events as the Poe front."""
