"""A bounded fuzz run of the HTTP endpoint: random bodies and headers against the real app.

Whatever arrives, the answer is one of the statuses Poe's protocol and our limits define --
never a 500 -- and a 200 stream is well formed (``meta`` first, ``done`` last, no traceback).
"""

from __future__ import annotations

import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness.poe_client import TEST_POE_KEY
from tests.security.strategies import any_bodies

ALLOWED = {200, 400, 401, 404, 408, 413, 429, 501}

authorizations = st.sampled_from(
    [
        f"Bearer {TEST_POE_KEY}",
        f"Bearer {TEST_POE_KEY}",  # mostly the right key, so bodies get parsed
        f"bearer {TEST_POE_KEY}",
        f"Bearer {TEST_POE_KEY} extra",
        f"Basic {TEST_POE_KEY}",
        "Bearer ",
        "Bearer " + "x" * 5000,
        "",
    ]
)
bot_names = st.sampled_from(["nova-lite", "mistral-7b", "no-such-bot", "..%2f..%2fetc", "é"])
content_types = st.sampled_from(
    [
        "application/json",
        "text/plain",
        "multipart/form-data; boundary=x",
        "",
        "application/json; charset=latin-1",
    ]
)
raw_bodies = st.one_of(
    any_bodies.map(lambda body: json.dumps(body, ensure_ascii=False).encode()),
    st.binary(max_size=200),
)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    bot=bot_names,
    body=raw_bodies,
    authorization=authorizations,
    content_type=content_types,
)
async def test_fuzzed_requests_never_get_a_500(
    poe: httpx.AsyncClient, bot: str, body: bytes, authorization: str, content_type: str
) -> None:
    headers = {"Authorization": authorization, "Content-Type": content_type}
    response = await poe.post(f"/bot/{bot}", content=body, headers=headers)
    assert response.status_code in ALLOWED, response.text[:500]
    assert "Traceback" not in response.text
    if response.status_code == 200 and response.headers["content-type"].startswith(
        "text/event-stream"
    ):
        assert response.text.startswith("event: meta")
        assert response.text.rstrip().endswith("event: done\r\ndata: {}")
