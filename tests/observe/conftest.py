"""Two providers on their emulators, a bridge whose plugin manager holds only the
observers under test, and a primary that can be made to fail."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from smsbridge import Message, SendResult, SmsBridge, make_plugin_manager
from smsbridge.plugins import PluginManager
from smsbridge.testing import EmulatorFactory
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

SENDMSG = "/http/sendmsg"


@attrs.define
class Pair:
    """The primary (Clickatell) and the backup (BulkSMS), with their emulators."""

    primary: ClickatellProvider
    backup: BulkSmsProvider
    primary_emulator: ClickatellEmulator
    backup_emulator: BulkSmsEmulator


@pytest.fixture
def pair(smsbridge_emulator_factory: EmulatorFactory) -> Iterator[Pair]:
    primary_emulator = smsbridge_emulator_factory(ClickatellEmulator, balance=Decimal(1000))
    backup_emulator = smsbridge_emulator_factory(BulkSmsEmulator, credits=Decimal(1000))
    with (
        ClickatellProvider.from_options(
            **ClickatellProvider.emulator_options(primary_emulator)
        ) as primary,
        BulkSmsProvider.from_options(**BulkSmsProvider.emulator_options(backup_emulator)) as backup,
    ):
        yield Pair(primary, backup, primary_emulator, backup_emulator)


BridgeFactory = Callable[..., SmsBridge]


@pytest.fixture
def bridge_with(tmp_path: Path, pair: Pair) -> Iterator[Callable[..., SmsBridge]]:
    """``bridge_with(plugin, ...)``: a bridge over the pair whose plugin manager holds
    exactly the plugins given."""
    opened: list[SmsBridge] = []

    def build(*plugins: object, manager: PluginManager | None = None) -> SmsBridge:
        if manager is None:
            manager = make_plugin_manager(load_entry_points=False)
            for index, plugin in enumerate(plugins):
                assert manager.register(plugin, name=f"observer-{index}")
        bridge = SmsBridge(
            [pair.primary, pair.backup],
            store=tmp_path / f"outbox-{len(opened)}.sqlite3",
            plugin_manager=manager,
            max_wait=10,
        )
        opened.append(bridge)
        return bridge

    yield build
    for bridge in opened:
        bridge.close()


def send_each(bridge: SmsBridge, count: int) -> list[SendResult]:
    """Send ``count`` one-recipient messages, references ``r-0``, ``r-1``..."""
    results = []
    for index in range(count):
        result = bridge.send(Message(f"+4477009001{index:02d}", "Hello", reference=f"r-{index}"))
        assert isinstance(result, SendResult)
        results.append(result)
    return results
