"""The resilience tests' catalog: a bot with fallbacks, a quiet one, a lonely one."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from string import Template

from tests.harness.load import Served

PRIMARY = "us.amazon.nova-pro-v1:0"
WEST = "amazon.nova-pro-v1:0"
LITE = "amazon.nova-lite-v1:0"
QUIET_PRIMARY = "us.amazon.nova-micro-v1:0"
QUIET_WEST = "amazon.nova-micro-v1:0"
LONELY = "meta.llama3-8b-instruct-v1:0"

#: ``resilient`` falls back to the same model in another region, then to another model;
#: ``quiet`` falls back without telling the user; ``lonely`` has no fallback.
CATALOG = Template("""
version: 1
gateway:
  max_attempts: $attempts
  retry_base_delay_seconds: 0.001
  retry_max_delay_seconds: 0.002
  breaker: {failure_threshold: $threshold, cooldown_seconds: 600}
  max_pool_connections: $pool
  concurrency:
    queue_timeout_seconds: $queue
    recent_throttle_seconds: $recent
    static_caps: $caps
  timeouts:
    first_token_seconds: $first_token
    idle_seconds: $idle
    chat_request_seconds: $deadline
defaults:
  access_key: env:FMGATE_TEST_POE_KEY
  kind: chat
  aws_region: us-east-1
  max_tokens: 64
  pricing: {input_token: 0.1, output_token: 0.5}
bots:
  - bot_name: resilient
    model_id: $primary
    fallbacks:
      - {model_id: $west, aws_region: us-west-2, label: Nova Pro in us-west-2}
      - {model_id: $lite, label: Nova Lite}
  - bot_name: quiet
    model_id: $quiet_primary
    announce_fallback: false
    fallbacks: [{model_id: $quiet_west, aws_region: us-west-2}]
  - bot_name: lonely
    model_id: $lonely
""")

#: Opens the gateway on ``CATALOG`` (timeouts, breaker threshold, concurrency limits as keyword
#: arguments) and yields it with a Poe session into it.
OpenServed = Callable[..., AbstractAsyncContextManager[Served]]
