"""The command line: models, validate, usage, chat (in-process on the embedded emulator)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from fmgate.accounting.ledger import UsageRecord
from fmgate.accounting.sqlite_ledger import SqliteLedger
from fmgate.cli import main
from fmgate_emulator.content import reply_text


def test_models_lists_every_bundled_bot(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["BOT", "KIND", "MODEL"]
    assert len(out) - 1 >= 30
    assert any(line.startswith("nova-pro ") and "per 1M tok" in line for line in out)


def test_validate_reports_ok_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("version: 1\nbots:\n  - bot_name: a\n    model_id: amazon.nova-micro-v1:0\n")
    assert main(["validate", str(good)]) == 0
    assert "1 bots OK" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\nbots:\n  - bot_name: a\n    model_id: amazon.nova-micro-v1:0\n    tempo: 1\n"
    )
    assert main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.yaml" in err
    assert '"a"' in err
    assert "tempo" in err


def test_usage_prints_totals_per_bot_and_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "usage.db"

    async def record() -> None:
        ledger = SqliteLedger(path)
        for n, outcome in enumerate(["ok", "ok", "throttled"]):
            await ledger.record(
                UsageRecord(
                    request_id=f"r{n}",
                    bot="nova-pro",
                    model_id="amazon.nova-pro-v1:0",
                    user_id="u",
                    conversation_id="c",
                    started_at=time.time(),
                    input_tokens=100,
                    output_tokens=50,
                    cache_read_tokens=0,
                    cache_write_tokens=0,
                    estimated=False,
                    cost_milli_cents=25_000,
                    latency_ms=10.0,
                    ttft_ms=5.0,
                    outcome=outcome,
                )
            )
        await ledger.aclose()

    asyncio.run(record())
    assert main(["usage", "--ledger", str(path)]) == 0
    out = capsys.readouterr().out
    [row] = [line for line in out.splitlines() if "nova-pro" in line]
    assert row.split()[2:6] == ["3", "1", "300", "150"]  # requests, errors, tokens in, out
    assert "$0.75" in row


def test_usage_without_ledger_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["usage", "--ledger", str(tmp_path / "none.db")]) == 1
    assert "no usage ledger" in capsys.readouterr().err


def test_chat_in_process_streams_the_reply(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "nova-micro", "hello from the cli"]) == 0
    assert reply_text("hello from the cli", 2048)[0] in capsys.readouterr().out


def test_chat_with_a_thinking_bot_takes_the_state_event_in_its_stride(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The answer ends with a ``data`` event (its state), which fastapi_poe's client does not
    know: the command still succeeds, quietly."""
    assert main(["chat", "claude-3-7-sonnet-thinking", "think about it"]) == 0
    captured = capsys.readouterr()
    assert "Thinking" in captured.out
    assert captured.err == ""
