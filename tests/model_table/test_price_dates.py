"""Every model table entry says when its prices were checked; `fmgate models` marks the ones
checked more than 90 days ago (the clock injected as ``today``)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml

from fmgate.cli import main
from fmgate.config.loader import parse_catalog
from fmgate.config.secrets import SecretResolver
from fmgate.model_table.bot_status import bot_statuses
from fmgate.model_table.refresh import merge_listings
from fmgate.model_table.table import ModelTable, bundled_table, find_model, table_listing

TABLE = {
    "as_of": "2026-09-01",
    "models": [
        {
            "model_id": "amazon.nova-lite-v1:0",
            "kind": "chat",
            "name": "nova-lite",
            "description": "Nova Lite.",
            "context_window": 300000,
            "max_output_tokens": 10000,
            "prices": {"us-east-1": {"input_token": 0.006, "output_token": 0.024}},
        },
        {
            "model_id": "amazon.nova-pro-v1:0",
            "kind": "chat",
            "name": "nova-pro",
            "description": "Nova Pro.",
            "context_window": 300000,
            "max_output_tokens": 10000,
            "prices_as_of": "2026-11-20",
            "prices": {"us-east-1": {"input_token": 0.08, "output_token": 0.32}},
        },
        {
            "model_id": "zai.glm-4.7",
            "kind": "chat",
            "name": "glm-4-7",
            "description": "GLM 4.7 (no confirmed price).",
            "prices": {},
        },
    ],
}
LITE, PRO, GLM = "amazon.nova-lite-v1:0", "amazon.nova-pro-v1:0", "zai.glm-4.7"


def table() -> ModelTable:
    return ModelTable.model_validate(TABLE)


def test_an_entry_without_a_date_has_the_tables() -> None:
    assert find_model(LITE, table()).prices_as_of == datetime.date(2026, 9, 1)
    assert find_model(PRO, table()).prices_as_of == datetime.date(2026, 11, 20)
    assert all(facts.prices_as_of is not None for facts in bundled_table().models)


@pytest.mark.parametrize(
    ("today", "stale"),
    [
        (datetime.date(2026, 11, 30), set()),  # 90 days after 2026-09-01: not yet
        (datetime.date(2026, 12, 1), {LITE}),
        (datetime.date(2027, 3, 1), {LITE, PRO}),
    ],
)
def test_prices_older_than_90_days_are_stale(today: datetime.date, stale: set[str]) -> None:
    assert {f.model_id for f in table().models if f.prices_stale(today)} == stale


def test_the_listing_marks_stale_prices_and_unpriced_models() -> None:
    lines = table_listing(table(), datetime.date(2026, 12, 1)).splitlines()
    assert lines[0].split() == ["MODEL", "KIND", "NAME", "CALLED", "PRICES", "OF", "PRICED", "IN"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert "2026-09-01 STALE" in rows[LITE]
    assert "2026-11-20" in rows[PRO]
    assert "STALE" not in rows[PRO]
    assert rows[GLM].split()[-3:] == ["-", "NOT", "PRICED"]


def test_a_refreshed_table_keeps_each_entrys_price_date() -> None:
    refreshed = merge_listings(table(), [], "2027-01-02").table
    assert refreshed.as_of == "2027-01-02"
    assert find_model(LITE, refreshed).prices_as_of == datetime.date(2026, 9, 1)
    again = ModelTable.model_validate(refreshed.model_dump(mode="json"))
    assert find_model(LITE, again).prices_as_of == datetime.date(2026, 9, 1)


async def test_a_bot_on_stale_prices_is_ready_with_a_warning() -> None:
    catalog = parse_catalog(
        "version: 1\nbots:\n"
        f"  - {{bot_name: old, model_id: {LITE}, pricing: {{input_token: 1, output_token: 1}}}}\n"
        f"  - {{bot_name: new, model_id: {PRO}, pricing: {{input_token: 1, output_token: 1}}}}\n",
        "dates.yaml",
    )
    secrets = SecretResolver()
    try:
        statuses = await bot_statuses(
            catalog.bots, table(), secrets, today=datetime.date(2026, 12, 1)
        )
    finally:
        await secrets.aclose()
    old, new = statuses
    assert old.warnings == ("table prices of 2026-09-01, over 90 days old",)
    assert old.problems == ("no access key (dev only)",)
    assert "over 90 days old" in old.text
    assert new.warnings == ()


def test_the_commands_mark_stale_prices(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Dated far in the past, the table's prices are stale whatever today is."""
    path = tmp_path / "model_table.yaml"
    old = {**TABLE, "as_of": "2000-01-01", "models": TABLE["models"][:1]}
    path.write_text(yaml.safe_dump(old))
    assert main(["models", "--available", "--table", str(path)]) == 0
    out = capsys.readouterr().out
    assert "2000-01-01 STALE" in out
    assert "1 models' prices are over 90 days old (STALE)" in out

    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(f"version: 1\nbots:\n  - bot_name: old\n    model_id: {LITE}\n")
    assert main(["models", "--config", str(catalog), "--table", str(path)]) == 0
    assert "table prices of 2000-01-01, over 90 days old" in capsys.readouterr().out
