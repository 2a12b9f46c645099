"""The AWS credentials the tests hand out: the emulator's (a real SigV4 key pair) and moto's.

The secret is one of the root conftest's watched secrets: it must never reach a log line.
"""

from __future__ import annotations

from typing import Final

#: The key pair the emulator accepts and the gateway under test signs with.
TEST_ACCESS_KEY_ID: Final = "AKIDFMGATETEST000001"
TEST_SECRET_ACCESS_KEY: Final = "fmgate-test-secret-do-not-leak-8b1f"

#: moto_server accepts any credentials; these are the ones the tests use for it.
MOTO_KEY: Final = "moto"
