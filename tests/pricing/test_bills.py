"""A quote's estimate equals what each emulated provider bills, for any text.

Every example quotes a message, sends it over loopback to the provider's emulator, and
compares the quote with the emulator's own charge records (``Submission.charge`` and
``.parts``). The price table is written from the emulator's price settings, so any
difference is a difference in counting parts.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsbridge import Batch, Cost, Message, Template
from smsbridge.pricing import PROVIDER_API, TABLE, PriceTable, Quote, quote
from smsbridge.testing import Emulator, EmulatorFactory
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_clickatell.emulator import ClickatellEmulator
from smsbridge_clickatell.provider import ClickatellProvider
from smsbridge_huawei import HuaweiProvider
from smsbridge_huawei.emulator import HuaweiEmulator
from tests.pricing import BulkSmsBilling, HuaweiBilling
from tests.strategies import (
    gsm_extension_heavy_text,
    gsm_text,
    is_sendable,
    straddling_text,
    ucs2_text,
)

UK, FRANCE, USA = "+447700900123", "+33612345678", "+12125550123"
CHINA = "+8613112345678"
CLICKATELL_ROUTES = {"": "1", "44": "0.8", "33": "1.5"}
CLICKATELL_TABLE = """\
provider,country,prefix,network,price,unit
clickatell,*,,,1,credits
clickatell,,44,,0.8,credits
clickatell,,33,,1.5,credits
"""
BULKSMS_TABLE = "provider,country,prefix,network,price,unit\nbulksms,*,,,0.5,credits\n"
HUAWEI_TABLE = "provider,country,prefix,network,price,unit\nhuawei,*,,,1,credits\n"

# Each example makes HTTP requests: few examples, no deadline.
EMULATED = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: GSM-7, extension-heavy, UCS-2 (astral included) and multipart texts that straddle
#: part boundaries; never empty, since every gateway refuses an empty text, and without
#: the control characters a Message refuses (smsbridge.model.check_text).
texts = st.one_of(
    gsm_text(max_size=400),
    gsm_extension_heavy_text(max_size=300),
    ucs2_text(max_size=300),
    straddling_text(),
).filter(lambda text: text.strip() != "" and is_sendable(text))


def billed(emulator: Emulator) -> tuple[Decimal, int]:
    """The emulator's charge and parts over every recorded submission.

    BulkSMS records the parts of the whole submission; the others record the parts of
    the one message every recipient of the submission got.
    """
    charge = sum((s.charge or Decimal(0) for s in emulator.submissions), Decimal(0))
    per_message = not isinstance(emulator, BulkSmsEmulator)
    parts = sum(s.parts * (len(s.recipients) if per_message else 1) for s in emulator.submissions)
    return charge, parts


def estimate(result: Quote, provider: str) -> tuple[Decimal, int]:
    """The quote's total (in credits) and billed parts for one provider."""
    item = result[provider]
    assert item.unroutable == (), item.unroutable
    total = item.total
    assert total is not None and total.unit == "credits"
    return total.amount, item.parts


def built(
    factory: EmulatorFactory, cls: type[Any], emulator_class: type[Emulator], **kw: Any
) -> Any:
    emulator = factory(emulator_class, **kw)
    return cls.from_options(**cls.emulator_options(emulator)), emulator


@pytest.fixture
def clickatell(
    smsbridge_emulator_factory: EmulatorFactory,
) -> Iterator[tuple[ClickatellProvider, ClickatellEmulator]]:
    provider, emulator = built(
        smsbridge_emulator_factory,
        ClickatellProvider,
        ClickatellEmulator,
        prices=CLICKATELL_ROUTES,
        balance=10**9,
    )
    with provider:
        yield provider, emulator


@pytest.fixture
def bulksms(
    smsbridge_emulator_factory: EmulatorFactory,
) -> Iterator[tuple[BulkSmsProvider, BulkSmsEmulator]]:
    provider, emulator = built(
        smsbridge_emulator_factory,
        BulkSmsBilling,
        BulkSmsEmulator,
        price_per_part="0.5",
        credits=10**9,
    )
    with provider:
        yield provider, emulator


@EMULATED
@given(text=texts)
def test_clickatell_table_estimate_equals_bill(
    clickatell: tuple[ClickatellProvider, ClickatellEmulator], text: str
) -> None:
    provider, emulator = clickatell
    emulator.submissions.clear()
    message = Message([UK, FRANCE, USA], text, reference="bill1")
    result = quote(message, [provider], table=PriceTable.from_text(CLICKATELL_TABLE))
    assert all(row.source == TABLE for row in result["clickatell"].rows)
    sent = provider.send(message)
    assert all(r.ok for r in sent), sent
    assert estimate(result, "clickatell") == billed(emulator)


@EMULATED
@given(text=texts)
def test_clickatell_api_quote_equals_bill(
    clickatell: tuple[ClickatellProvider, ClickatellEmulator], text: str
) -> None:
    """routeCoverage prices each destination; no table is involved."""
    provider, emulator = clickatell
    emulator.submissions.clear()
    message = Message([UK, FRANCE, USA], text, reference="bill2")
    result = quote(message, [provider], table=None, use_provider_api=True)
    assert {row.source for row in result["clickatell"].rows} == {PROVIDER_API}
    provider.send(message)
    assert estimate(result, "clickatell") == billed(emulator)


@EMULATED
@given(text=texts)
def test_bulksms_table_estimate_equals_bill(
    bulksms: tuple[BulkSmsProvider, BulkSmsEmulator], text: str
) -> None:
    provider, emulator = bulksms
    emulator.submissions.clear()
    message = Message([UK, FRANCE], text, reference="bill3")
    result = quote(message, [provider], table=PriceTable.from_text(BULKSMS_TABLE))
    sent = provider.send(message)
    assert all(r.ok for r in sent), sent
    assert estimate(result, "bulksms") == billed(emulator)


@EMULATED
@given(text=texts)
def test_bulksms_api_quote_equals_bill(
    bulksms: tuple[BulkSmsProvider, BulkSmsEmulator], text: str
) -> None:
    """quote_sms answers in credits; the quote says so per row."""
    provider, emulator = bulksms
    emulator.submissions.clear()
    message = Message([UK, FRANCE], text, reference="bill4")
    result = quote(message, [provider], table=None, use_provider_api=True)
    assert {row.source for row in result["bulksms"].rows} == {PROVIDER_API}
    provider.send(message)
    assert estimate(result, "bulksms") == billed(emulator)


# Huawei variables: at most 20 characters, none of ' { } (the platform refuses them).
values = st.text(
    st.characters(exclude_characters="'{}$", exclude_categories=["Cs", "Cc"]),
    min_size=1,
    max_size=20,
).filter(lambda value: value.strip() == value and value != "")
fixed_text = st.text(
    st.characters(exclude_characters="'{}$", exclude_categories=["Cs", "Cc"]), max_size=120
)


@pytest.fixture
def huawei(
    smsbridge_emulator_factory: EmulatorFactory,
) -> Iterator[tuple[HuaweiBilling, HuaweiEmulator]]:
    emulator = smsbridge_emulator_factory(HuaweiEmulator)
    options = HuaweiProvider.emulator_options(emulator)
    with HuaweiBilling.from_options(**options, signature="Acme Shop") as provider:
        yield provider, emulator


@EMULATED
@given(
    fixed=fixed_text,
    first=st.lists(values, min_size=2, max_size=2),
    second=st.lists(values, min_size=2, max_size=2),
    china=st.booleans(),
)
def test_huawei_estimate_counts_signature_and_variables(
    huawei: tuple[HuaweiBilling, HuaweiEmulator],
    fixed: str,
    first: list[str],
    second: list[str],
    china: bool,
) -> None:
    """The billed text is the filled template, plus the signature for the mainland."""
    provider, emulator = huawei
    emulator.submissions.clear()
    emulator.register_template("tpl1", fixed + "${1} / ${2}", region="CN" if china else "INTL")
    template = Template(fixed + "{a} / {b}", provider_ids={"huawei": "tpl1"})
    numbers = [CHINA, "+8613912345678"] if china else [UK, USA]
    rows = [
        {"to": numbers[0], "a": first[0], "b": first[1]},
        {"to": numbers[1], "a": second[0], "b": second[1]},
    ]
    batch = Batch(rows, template=template)
    result = quote(batch, [provider], table=PriceTable.from_text(HUAWEI_TABLE))
    sent = list(provider.send_batch(batch))
    assert all(r.ok for r in sent), sent
    assert estimate(result, "huawei") == billed(emulator)


def test_mixed_multilingual_batch_matches_every_bill(
    clickatell: tuple[ClickatellProvider, ClickatellEmulator],
    bulksms: tuple[BulkSmsProvider, BulkSmsEmulator],
) -> None:
    """One batch, texts in four scripts, three destinations: each provider's quote is
    exactly its emulator's bill."""
    texts = {
        UK: "Hello {name}, your parcel arrives today [ref {ref}] €5 due.",
        FRANCE: "Bonjour {name}, votre colis arrive aujourd’hui, réf. {ref}. " * 3,
        USA: "Привет, {name}! Заказ {ref} готов. 你好 😀",
    }
    template = Template("{text}")
    rows = [
        {"to": to, "text": body.format(name=name, ref=ref)}
        for to, body in texts.items()
        for name, ref in (("Zoë", "A1"), ("Jürgen", "B22"))
    ]
    batch = Batch(rows, template=template)
    table = PriceTable.from_text(CLICKATELL_TABLE + BULKSMS_TABLE.split("\n", 1)[1])
    (c_provider, c_emulator), (b_provider, b_emulator) = clickatell, bulksms
    result = quote(batch, [c_provider, b_provider], table=table)
    for row in rows:
        message = Message(row["to"], row["text"], reference="mixed")
        c_provider.send(message)
        b_provider.send(message)
    assert estimate(result, "clickatell") == billed(c_emulator)
    assert estimate(result, "bulksms") == billed(b_emulator)
    assert result["clickatell"].total == Cost(billed(c_emulator)[0], "credits")
