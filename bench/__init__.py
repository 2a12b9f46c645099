"""fmgate's performance benchmark: direct Bedrock vs fmgate vs LiteLLM, same emulator, same run.

Run it with ``python -m bench.run`` (see ``bench/README.md``). The package is split by concept:

- ``procstat``: RSS and CPU time of a server process tree, read from ``/proc``;
- ``processes``: start a server process, wait until it answers, stop it (always);
- ``sse`` / ``streams``: the load generator's lean stream clients (Poe SSE, OpenAI SSE, direct
  aiobotocore ConverseStream), each timing first token and last token;
- ``loadgen``: closed-loop load at a fixed concurrency, bounded in requests and time;
- ``servers``: how each peer is launched (emulator, fmgate, LiteLLM, trivial SSE server);
- ``measure``: the phases run against every path; ``report``: figures, ratios, table, JSON.
"""
