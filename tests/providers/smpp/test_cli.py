"""``smsbridge emulate smpp`` and sending through its printed configuration; quotes and
least-cost prices from a price table."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from smsbridge import Message, SendOptions, get_provider
from smsbridge.pricing import PriceTable, TablePrices, quote
from smsbridge_smpp import SmppProvider
from smsbridge_smpp.emulator import SmscEmulator
from tests.cli.helpers import TIMEOUT, emulate_process, run


def test_emulate_smpp_and_send_with_the_printed_configuration(tmp_path: Path) -> None:
    with emulate_process("smpp", "--json") as (proc, reader):
        items = [json.loads(line) for line in reader.until(lambda line: "ready" in line)]
        [smpp, ready] = items
        assert smpp["url"].startswith("smpp://127.0.0.1:")
        assert 'password_env = "SMPP_PASSWORD"' in smpp["toml"]
        with get_provider("smpp", **smpp["options"]) as provider:
            [result] = provider.send(Message("+447700900123", "hello", reference="emulate-smpp"))
        assert result.ok, result
        (tmp_path / "smsbridge.toml").write_text(ready["toml"], encoding="utf-8")
        sent = run("send", "--to", "07700 900123", "--body", "Your code is 482913", "--json",
                   env=smpp["env"], cwd=tmp_path)  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        line = json.loads(sent.stdout.splitlines()[0])
        assert (line["recipient"], line["provider"]) == ("+447700900123", "smpp")
        proc.terminate()
        assert proc.wait(timeout=TIMEOUT) == 0


PRICES = """provider,country,prefix,network,price,unit
smpp,GB,,,0.030,EUR
smpp,*,,,0.050,EUR
"""


def test_quote_uses_the_price_table_and_the_accounts_encoding(emulator: SmscEmulator) -> None:
    table = PriceTable.from_text(PRICES)
    options = SmppProvider.emulator_options(emulator)
    plain = SmppProvider.from_options(**options)
    latin = SmppProvider.from_options(**options, latin1=True)
    text = "½ " * 100  # UCS-2: 3 parts; Latin-1: 2 parts of 134
    message = Message(("+447700900001", "+33612345678"), text, options=SendOptions())
    result = quote(message, [plain, latin], table=table, currency="EUR")
    totals = [item.total.amount for item in result.providers if item.total is not None]
    assert totals == [Decimal("0.240"), Decimal("0.160")]  # (0.03 + 0.05) x parts
    prices = TablePrices(table)
    assert prices.price(plain, Message("+447700900001", "hi")) == 0.03
    assert len(emulator.submissions) == 0  # a quote sends nothing
