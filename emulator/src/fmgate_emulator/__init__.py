"""A local Bedrock Runtime server that the real AWS SDK talks to (``fmgate emulator``).

It speaks the wire protocol botocore expects (JSON, event-stream frames, SigV4), answers
deterministically, and takes fault injection through a control API. See ``docs/emulator.md``.

    from fmgate_emulator import Emulator, EmulatorClient, EmulatorConfig

    with Emulator.running(EmulatorConfig()) as emu:
        client = boto3.client("bedrock-runtime", endpoint_url=emu.url, ...)
        EmulatorClient(emu.url).inject("throttle", count=2)
"""

from fmgate_emulator.client import AsyncEmulatorClient, EmulatorClient
from fmgate_emulator.config import EmulatorConfig
from fmgate_emulator.server import Emulator

__all__ = ["AsyncEmulatorClient", "Emulator", "EmulatorClient", "EmulatorConfig"]
