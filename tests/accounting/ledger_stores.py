"""The ledger stores the shared contract suite runs against, and how a test opens one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fmgate.accounting.ledger import UsageLedger

#: Opens (or reopens) the same ledger store each time it is called.
LedgerOpener = Callable[[], Awaitable[UsageLedger]]

LEDGER_STORES = ("sqlite", "postgres")
