"""What the prompt-caching phase sends (no processes): the two bots it configures from the
bundled catalog, and the conversation."""

from __future__ import annotations

import json

from bench.caching import bot_name, caching_bots, source_bot
from bench.conversation_script import system_prompt, user_turn
from bench.measure import BenchPlan

from fmgate.config.loader import parse_catalog
from fmgate_emulator.content import count_tokens


def test_the_two_bots_copy_the_catalog_bot_and_differ_only_in_the_caching_mode() -> None:
    source = source_bot(BenchPlan().caching_source_bot)
    off, auto = caching_bots(source, 32, "Be brief.")
    assert (off["bot_name"], auto["bot_name"]) == (bot_name("off"), bot_name("auto"))
    assert source.prompt_caching is not None
    caching = source.prompt_caching.model_dump(mode="json")
    assert off["prompt_caching"] == {**caching, "mode": "off"}
    assert auto["prompt_caching"] == {**caching, "mode": "auto"}
    same = {key: value for key, value in off.items() if key not in ("bot_name", "prompt_caching")}
    assert same == {k: v for k, v in auto.items() if k not in ("bot_name", "prompt_caching")}
    assert off["model_id"] == source.model_id
    assert off["pricing"] == source.pricing.model_dump(exclude_defaults=True)
    assert (off["max_tokens"], off["system_prompt"]) == (32, "Be brief.")
    catalog = parse_catalog(json.dumps({"version": 1, "bots": [off, auto]}), "bench-caching.yaml")
    assert [bot.bot_name for bot in catalog.bots] == [bot_name("off"), bot_name("auto")]


def test_the_conversation_passes_claudes_minimum_and_grows_every_turn() -> None:
    prompt = system_prompt("abcd1234")
    assert prompt.startswith("Session abcd1234.")
    assert 2500 <= count_tokens(prompt) <= 4000  # a few thousand tokens, above 1,024
    assert len(prompt) / 4 > 1024  # the gateway's own estimate places the checkpoint too
    assert system_prompt("abcd1234") == prompt
    assert count_tokens(system_prompt("ffff0000")) == count_tokens(prompt)
    turns = [user_turn(turn) for turn in range(1, 21)]
    assert len(set(turns)) == 20
    assert all(100 <= count_tokens(turn) <= 200 for turn in turns)
