"""`fmgate usage` output: an aligned table with a total line; dollars to the milli-cent; the
prompt cache's reads, writes, hit ratio and signed saving."""

from __future__ import annotations

from fmgate.accounting.ledger import UsageTotals, format_usage_table, signed_usd, usd


def test_table_is_aligned_with_totals() -> None:
    sonnet = ("2025-03-01", "claude-sonnet-4")
    rows = [
        UsageTotals(*sonnet, 1200, 3, 1_500_000, 250_000, 825_000, 9_000_000, 300_000, 231_750.0),
        UsageTotals("2025-03-01", "nova", 7, 0, 900, 80, 5),
        UsageTotals("2025-03-02", "claude-sonnet-4", 3, 0, 20, 10, 50, 0, 1322, -99.15),
    ]
    assert format_usage_table(rows).splitlines() == [
        "day         bot              requests  errors  input tokens  output tokens  cache read"
        "  cache write    hit      cost      saved",
        "----------  ---------------  --------  ------  ------------  -------------  ----------"
        "  -----------  -----  --------  ---------",
        "2025-03-01  claude-sonnet-4     1,200       3     1,500,000        250,000   9,000,000"
        "      300,000  83.3%  $8.25000   $2.31750",
        "2025-03-01  nova                    7       0           900             80           0"
        "            0      –  $0.00005   $0.00000",
        "2025-03-02  claude-sonnet-4         3       0            20             10           0"
        "        1,322   0.0%  $0.00050  -$0.00099",
        "----------  ---------------  --------  ------  ------------  -------------  ----------"
        "  -----------  -----  --------  ---------",
        "total                           1,210       3     1,500,920        250,090   9,000,000"
        "      301,322  83.3%  $8.25055   $2.31651",
    ]


def test_the_hit_ratio_is_reads_over_every_prompt_token() -> None:
    # 9,000 reads of 2,000 input + 9,000 reads + 1,000 writes.
    lines = format_usage_table([UsageTotals("d", "b", 1, 0, 2000, 5, 9, 9000, 1000, 0.0)])
    assert lines.splitlines()[2].split()[8] == "75.0%"


def test_savings_that_leave_out_unknown_rows_are_marked_and_counted() -> None:
    rows = [
        UsageTotals("2025-03-01", "claude", 2, 0, 10, 5, 9, 1322, 0, 356.75, 1),
        UsageTotals("2025-03-01", "nova", 1, 0, 10, 5, 9, 0, 0, 0.0, 0),
    ]
    lines = format_usage_table(rows).splitlines()
    assert len(lines[0]) == len(lines[2]) - 1  # "saved" ends above the last digit, not the mark
    assert lines[2].endswith("$0.00357*")
    assert lines[3].endswith("$0.00000")
    assert lines[5].endswith("$0.00357*")
    assert lines[6] == (
        "* the saving of 1 requests that used the cache is not known (recorded before the "
        "ledger kept savings, schema 3) and is left out"
    )


def test_empty_ledger() -> None:
    assert format_usage_table([]) == "no usage recorded"


def test_usd_is_exact() -> None:
    assert usd(0) == "$0.00000"
    assert usd(123_456) == "$1.23456"
    assert usd(10_000_000_000) == "$100,000.00000"
    assert signed_usd(-123_456) == "-$1.23456"
    assert signed_usd(5) == "$0.00005"
