"""`fmgate usage` output: an aligned table with a total line; dollars to the milli-cent."""

from __future__ import annotations

from fmgate.accounting.ledger import UsageTotals, format_usage_table, usd


def test_table_is_aligned_with_totals() -> None:
    rows = [
        UsageTotals("2025-03-01", "claude-sonnet-4", 1200, 3, 1_500_000, 250_000, 825_000),
        UsageTotals("2025-03-01", "nova", 7, 0, 900, 80, 5),
    ]
    assert format_usage_table(rows).splitlines() == [
        "day         bot              requests  errors  input tokens  output tokens      cost",
        "----------  ---------------  --------  ------  ------------  -------------  --------",
        "2025-03-01  claude-sonnet-4     1,200       3     1,500,000        250,000  $8.25000",
        "2025-03-01  nova                    7       0           900             80  $0.00005",
        "----------  ---------------  --------  ------  ------------  -------------  --------",
        "total                           1,207       3     1,500,900        250,080  $8.25005",
    ]


def test_empty_ledger() -> None:
    assert format_usage_table([]) == "no usage recorded"


def test_usd_is_exact() -> None:
    assert usd(0) == "$0.00000"
    assert usd(123_456) == "$1.23456"
    assert usd(10_000_000_000) == "$100,000.00000"
