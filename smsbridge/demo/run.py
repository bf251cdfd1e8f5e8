"""The demo run: emulators, a report receiver and a bridge with failover, all on loopback.

Clickatell is the primary and BulkSMS the secondary. Partway through the campaign the
Clickatell emulator starts answering HTTP 500 for a stretch of requests: the router
retries, the circuit breaker opens, the remaining messages fail over to BulkSMS, and once
the breaker's probe succeeds Clickatell takes traffic again. Clickatell pushes its
delivery reports to a token-authenticated :class:`~smsbridge.reports.ReportServer`;
BulkSMS cannot push, so its reports are polled with :class:`~smsbridge.reports.Poller`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import attrs

from smsbridge.bridge import SmsBridge
from smsbridge.demo.campaign import Campaign, build_campaign
from smsbridge.errors import InvalidNumberError
from smsbridge.numbers import NumberNormaliser
from smsbridge.outbox import SqliteStore, default_path
from smsbridge.provider import Provider
from smsbridge.reports import Poller, ReportReceiver, ReportServer, TokenAuth, new_token
from smsbridge.results import Cost, SendResult
from smsbridge.router import RetryPolicy
from smsbridge.testing import HttpStatus, on_path
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator
from smsbridge_huawei import HuaweiProvider
from smsbridge_huawei.emulator import HuaweiEmulator

from .huawei import SIGNATURE, HuaweiRun, prepare_emulator, run_huawei

__all__ = ["PROVIDERS", "REGION", "DemoRun", "outbox_path", "run_demo"]

PROVIDERS = ("clickatell", "bulksms")
"""The demo's providers in order of preference: the primary, then the failover."""

REGION = "GB"
"""The bridge's default region: national numbers in the list are British."""

# Clickatell credits per part by destination prefix: what a real price list looks like,
# so that the summary's cost column differs between the two providers.
_CLICKATELL_PRICES = {
    "": "1.0", "44": "0.8", "33": "1.1", "49": "1.0", "34": "1.1", "86": "1.6", "7": "1.5",
    "30": "1.2",
}  # fmt: skip
# Where the outage starts (fraction of the campaign sent) and how many requests it lasts.
_OUTAGE_AT = 0.3
_OUTAGE_REQUESTS = 8
# Short enough that the demo shows Clickatell coming back after its outage.
_BREAKER_RESET = 0.5
# Callback value 6: final statuses and errors, so reports arrive once per message.
_FINAL_CALLBACKS = 6


@attrs.frozen(kw_only=True)
class DemoRun:
    """What a finished demo run leaves behind for the summary.

    Args:
        outbox: The outbox file the run wrote.
        campaign: The campaign that was sent.
        results: Every recipient's send result, in sending order.
        outage_requests: Requests the misbehaving primary answered with HTTP 500.
        reports_pushed: Delivery reports Clickatell's emulator posted to the receiver.
        reports_polled: Status queries answered by BulkSMS.
        spend: Provider name to what its account was charged (balance before minus after).
        seconds: Wall-clock duration of the run.
        huawei: The Huawei part: a templated campaign and a scheduled task.
    """

    outbox: Path
    campaign: Campaign
    results: tuple[SendResult, ...]
    outage_requests: int
    reports_pushed: int
    reports_polled: int
    spend: Mapping[str, Cost]
    seconds: float
    huawei: HuaweiRun | None = None


def outbox_path(now: datetime | None = None) -> Path:
    """A fresh outbox file next to the default one: ``demo-<UTC timestamp>.sqlite3``.

    Args:
        now: The timestamp to use (the current time by default).

    Returns:
        The path; its directory is created.
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    folder = default_path().parent
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"demo-{stamp}.sqlite3"


@attrs.frozen
class _Fates:
    """Which numbers the emulated networks refuse or fail to deliver to (digits only)."""

    refused: dict[str, str]
    clickatell_final: dict[str, str]
    bulksms_final: dict[str, str]


def _fates(campaign: Campaign, seed: int) -> _Fates:
    """Pick the unlucky numbers: about 1% refused by Clickatell, 2% never delivered.

    A handset that is off stays off whichever provider carries the message, so both
    emulators fail the same numbers (each in its own protocol's codes).
    """
    rng = random.Random(seed ^ 0xFA7E)
    normalise = NumberNormaliser(REGION)
    fates = _Fates({}, {}, {})
    for _code, batch in campaign:
        for recipient in batch:
            try:
                digits = normalise(recipient.number).lstrip("+")
            except InvalidNumberError:
                continue
            draw = rng.random()
            if draw < 0.005:
                fates.refused[digits] = "121"  # blocked
            elif draw < 0.01:
                fates.refused[digits] = "122"  # opted out
            elif draw < 0.025:
                # The handset is off past the retry cycle: retryable on both.
                fates.clickatell_final[digits] = "007"  # error delivering
                fates.bulksms_final[digits] = "53"  # expired
            elif draw < 0.03:
                fates.clickatell_final[digits] = "010"  # expired
                fates.bulksms_final[digits] = "40"  # temporarily unavailable
    return fates


def _wait(emulator: HuaweiEmulator) -> None:
    """Until the emulator has posted every status report (a missing one shows as a task
    still executing in the summary, not as a crash)."""
    emulator.wait_for_callbacks(30.0)


def _spent(before: Cost, after: Cost) -> Cost:
    return Cost(before.amount - after.amount, before.unit)


def run_demo(
    recipients: int = 3000,
    *,
    seed: int = 2024,
    outbox: Path | None = None,
    on_result: Callable[[SendResult], None] | None = None,
) -> DemoRun:
    """Send the demo campaign through emulated providers and collect the outcome.

    Args:
        recipients: Size of the campaign.
        seed: Seeds the campaign and the emulators.
        outbox: The outbox file; a fresh one from :func:`outbox_path` by default.
        on_result: Called with each recipient's result as it is known (progress).

    Returns:
        The run's results, with the outbox left on disk for :mod:`smsbridge.demo.summary`.

    Raises:
        ValueError: Fewer recipients than the campaign's languages.
    """
    started = time.monotonic()
    campaign = build_campaign(recipients, seed=seed)
    path = outbox if outbox is not None else outbox_path()
    fates = _fates(campaign, seed)
    token = new_token()
    with ExitStack() as stack:
        clickatell_emulator = ClickatellEmulator(
            balance=Decimal(10 * recipients + 1000),
            prices=_CLICKATELL_PRICES,
            number_errors=fates.refused,
            final_status=fates.clickatell_final,
            queries_until_final=0,
            seed=seed,
        )
        bulksms_emulator = BulkSmsEmulator(credits=Decimal(10 * recipients + 1000), seed=seed)
        bulksms_emulator.report_overrides.update(fates.bulksms_final)
        huawei_emulator = HuaweiEmulator(seed=seed)
        huawei_recipients = max(7, min(60, recipients // 20))
        prepare_emulator(huawei_emulator, huawei_recipients)
        for emulator in (clickatell_emulator, bulksms_emulator, huawei_emulator):
            stack.enter_context(emulator)
        clickatell = stack.enter_context(
            ClickatellProvider.from_options(
                **ClickatellProvider.emulator_options(clickatell_emulator),
                callback=_FINAL_CALLBACKS,
            )
        )
        bulksms = stack.enter_context(
            BulkSmsProvider.from_options(**BulkSmsProvider.emulator_options(bulksms_emulator))
        )
        store = stack.enter_context(SqliteStore(path))
        providers: list[Provider] = [clickatell, bulksms]
        # Huawei's reports reach the receiver through a status callback fixed when the
        # provider is built, so the receiver learns its parser from a provider without it.
        reports_from = HuaweiProvider.from_options(
            **HuaweiProvider.emulator_options(huawei_emulator), signature=SIGNATURE
        )
        stack.callback(reports_from.close)
        auth = {clickatell.name: TokenAuth(token), "huawei": TokenAuth(token)}
        receiver = ReportReceiver([clickatell, reports_from], store=store, auth=auth)
        server = stack.enter_context(ReportServer(receiver))
        clickatell_emulator.callback_url = f"{server.url}/clickatell/{token}"
        huawei = stack.enter_context(
            HuaweiProvider.from_options(
                **HuaweiProvider.emulator_options(huawei_emulator),
                signature=SIGNATURE,
                status_callback=f"{server.url}/huawei/{token}",
            )
        )
        bridge = stack.enter_context(
            SmsBridge(
                providers,
                store=store,
                region=REGION,
                retry=RetryPolicy(max_attempts=4, base=0.05, cap=0.2),
                max_wait=30.0,
            )
        )
        bridge.dispatcher.breakers.reset_timeout = _BREAKER_RESET
        # The accounts' balances before and after say what was really charged.
        before = {p.name: p.balance() for p in providers}
        outage_from = int(recipients * _OUTAGE_AT)
        outage = None
        results: list[SendResult] = []
        for _code, batch in campaign:
            for result in bridge.iter_send_batch(batch):
                results.append(result)
                if on_result is not None:
                    on_result(result)
                if outage is None and len(results) >= outage_from:
                    outage = clickatell_emulator.faults.add(
                        HttpStatus(500, b"Internal Server Error"),
                        next_n=_OUTAGE_REQUESTS,
                        match=on_path("/http/sendmsg"),
                    )
        # Time passes on the emulated networks: every message reaches its final status.
        clickatell_emulator.tick()
        clickatell_emulator.wait_for_callbacks(30.0)
        poller = Poller([bulksms], store, older_than=0)
        polled = poller.poll_once()
        spend = {p.name: _spent(before[p.name], p.balance()) for p in providers}
        pushed = sum(1 for c in clickatell_emulator.callbacks if c.status == 200)
        huawei_run = run_huawei(
            huawei,
            huawei_emulator,
            store,
            recipients=huawei_recipients,
            wait_reports=lambda: _wait(huawei_emulator),
        )
    return DemoRun(
        outbox=path,
        campaign=campaign,
        results=tuple(results),
        outage_requests=0 if outage is None else outage.fired,
        reports_pushed=pushed,
        reports_polled=polled.queried,
        spend=spend,
        seconds=time.monotonic() - started,
        huawei=huawei_run,
    )
