"""Accounting: pricing, rate cards, the usage ledger, Poe cost calls."""
