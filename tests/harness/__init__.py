"""The shared test harness: one concept per module; the fixture modules are plugins registered
once in ``tests/conftest.py``, the others hold plain helpers to import."""
