"""A child process for the durability test: records usage rows and acknowledges each on stdout.

Run as ``python -m tests.accounting.ledger_writer DB_PATH``; it writes until killed. Each line
``ack <request_id>`` is printed only after ``record`` returned, i.e. after the commit.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from fmgate.accounting.sqlite_ledger import SqliteLedger
from tests.accounting.records import usage_record


async def write_forever(path: Path) -> None:
    ledger = SqliteLedger(path)
    number = 0
    while True:
        # Two concurrent records per round, so acknowledged rows also come from group commits.
        ids = [f"req-{number}", f"req-{number + 1}"]
        number += 2
        await asyncio.gather(*(ledger.record(usage_record(request_id)) for request_id in ids))
        sys.stdout.write("".join(f"ack {request_id}\n" for request_id in ids))
        sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(write_forever(Path(sys.argv[1])))
