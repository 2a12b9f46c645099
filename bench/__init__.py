"""fmgate's performance benchmark: direct Bedrock vs fmgate vs its peers, same emulator, one run.

Run it with ``python -m bench.run`` (see ``bench/README.md``). The package is split by concept:

- ``procstat``: RSS and CPU time of a server process tree, read from ``/proc``;
- ``processes``: start a server process (pinned before it runs), wait until it answers, stop
  it (always);
- ``sse`` / ``streams``: the load generator's lean stream clients (Poe SSE, OpenAI SSE, direct
  aiobotocore ConverseStream), each timing first token and last token;
- ``loadgen``: closed-loop load at a fixed concurrency, bounded in requests and time;
- ``servers``, ``peer_servers``: how each process is launched (emulator, fmgate, trivial SSE
  server; LiteLLM, Portkey, TensorZero); ``paths``: each path's server and client;
- ``peer_install``, ``litellm_env``, ``portkey_env``, ``tensorzero_env``: the peers' own pinned
  environments, installed on first use;
- ``rounds``: the interleaved rounds' order, medians and ranges;
- ``measure``: the phases run against every path; ``report``: figures, ratios, table, JSON;
- ``ab``, ``ab_report``, ``worktree``: ``python -m bench.ab``, fmgate's CPU cost in this tree
  against another commit (checked out in a temporary git worktree), in one run.
"""
