"""Hypothesis strategies for Poe request bodies: valid ones, near-valid ones, and junk."""

from __future__ import annotations

from hypothesis import strategies as st

#: Attachment hosts the generated URLs use: internal, metadata, and other hosts, never an
#: allowed Poe CDN host (so nothing is downloaded, whatever the example).
HOSTILE_HOSTS = (
    "169.254.169.254",
    "127.0.0.1",
    "[::1]",
    "localhost",
    "10.0.0.7",
    "example.com",
    "pfst.cf2.poecdn.net.evil.test",
)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)

urls = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}/{path}",
    st.sampled_from(["http", "https", "file", "gopher", "ftp"]),
    st.sampled_from(HOSTILE_HOSTS),
    st.text(alphabet="abcdefghij/._-%", max_size=20),
)

attachments = st.fixed_dictionaries(
    {
        "url": urls,
        "content_type": st.sampled_from(
            ["text/plain", "image/png", "application/pdf", "application/octet-stream", "x/y"]
        ),
        "name": st.text(max_size=30),
    },
    optional={"parsed_content": st.text(max_size=50)},
)

parameters = st.dictionaries(
    st.sampled_from(["temperature", "max_tokens", "aspect_ratio", "thinking_budget", "x"]),
    json_values,
    max_size=4,
)

messages = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["user", "bot", "system", "tool"]),
        "content": st.text(max_size=80),
    },
    optional={
        "attachments": st.lists(attachments, max_size=3),
        "parameters": parameters,
        "content_type": st.sampled_from(["text/markdown", "text/plain"]),
    },
)

#: Bodies that fastapi_poe's QueryRequest accepts (mostly) -- the translation's input space.
query_bodies = st.fixed_dictionaries(
    {
        "version": st.just("1.2"),
        "type": st.just("query"),
        "query": st.lists(messages, max_size=8),
        "user_id": st.text(max_size=10),
        "conversation_id": st.text(max_size=10),
        "message_id": st.text(max_size=10),
    },
    optional={
        "temperature": st.floats(min_value=-10, max_value=10, allow_nan=False),
        "stop_sequences": st.lists(st.text(max_size=5), max_size=3),
        "bot_query_id": st.text(max_size=10),
    },
)


def _mutate(body: dict[str, object], key: str, value: object) -> dict[str, object]:
    return {**body, key: value}


#: Near-valid bodies: one field replaced by any JSON value.
broken_query_bodies = st.builds(
    _mutate,
    query_bodies,
    st.sampled_from(["query", "type", "temperature", "user_id", "version", "stop_sequences"]),
    json_values,
)

any_bodies = st.one_of(
    query_bodies,
    broken_query_bodies,
    json_values,
    st.fixed_dictionaries({"type": st.text(max_size=12)}, optional={"version": json_values}),
)
