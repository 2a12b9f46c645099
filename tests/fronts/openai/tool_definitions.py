"""Function tools the OpenAI front tests offer (the emulator calls a tool when the last user
text says "use tool <name>")."""

from __future__ import annotations

import json

from openai.types.chat import ChatCompletionToolParam

WEATHER_TOOL: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
TIME_TOOL: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Local time in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def emulator_arguments(prompt: str) -> str:
    """The arguments the emulator's model gives any tool it calls for ``prompt``."""
    return json.dumps({"request": prompt}, separators=(",", ":"))
