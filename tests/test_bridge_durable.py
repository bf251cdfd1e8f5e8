"""SmsBridge over the outbox, against real emulators: grouped BulkSMS requests, replays
with the same bytes, rate limits seen by the emulator, permanent codes sent once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pytest

from smsbridge import (
    Batch,
    Message,
    ProviderError,
    Recipient,
    SendOptions,
    SendResult,
    SmsBridge,
    Status,
    Template,
)
from smsbridge.dispatch.items import VARIABLES_KEY
from smsbridge.dispatch.prepare import batch_entries
from smsbridge.errors import ConfigurationError
from smsbridge.limits import Limit
from smsbridge.outbox import AddResult, ItemState, NewItem, SqliteStore, StorageReadOnlyError, codec
from smsbridge.testing import EmulatorFactory
from smsbridge.testing.faults import AcceptThenDrop, HttpStatus, on_path
from smsbridge_bulksms.codes import SUBMISSION_CODES
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.codes import ERRORS
from smsbridge_clickatell.emulator import ClickatellEmulator

BATCH_PATH = "/eapi/submission/send_batch/1/1.0"


def refused_code(bridge: SmsBridge, message: Message) -> str | None:
    """The code a refused send carries, raised (request scope) or as its result."""
    try:
        result = bridge.send(message)
    except ProviderError as exc:
        return exc.code
    assert isinstance(result, SendResult)
    assert not result.ok
    return None if result.error is None else result.error.code


def numbers(count: int, stem: str = "+4477009") -> list[str]:
    return [f"{stem}{index:05d}" for index in range(count)]


@pytest.fixture
def bulksms(smsbridge_emulator_factory: EmulatorFactory) -> Iterator[BulkSmsProvider]:
    emulator = smsbridge_emulator_factory(BulkSmsEmulator, credits=Decimal(10**7))
    with BulkSmsProvider.from_options(**BulkSmsProvider.emulator_options(emulator)) as made:
        yield made


@pytest.fixture
def clickatell(smsbridge_emulator_factory: EmulatorFactory) -> Iterator[ClickatellProvider]:
    emulator = smsbridge_emulator_factory(ClickatellEmulator, balance=Decimal(10**6))
    with ClickatellProvider.from_options(**ClickatellProvider.emulator_options(emulator)) as made:
        yield made


def test_no_store_argument_uses_smsbridge_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, bulksms: BulkSmsProvider
) -> None:
    monkeypatch.setenv("SMSBRIDGE_HOME", str(tmp_path))
    with SmsBridge([bulksms]) as bridge:
        result = bridge.send(Message("+447700900001", "hello", reference="otp-1"))
        assert isinstance(result, SendResult)
        assert result.status is Status.ACCEPTED
    assert (tmp_path / "outbox.sqlite3").exists()
    with SmsBridge([bulksms], store=tmp_path / "outbox.sqlite3") as again:
        history = again.status("otp-1")
        assert history is not None
        assert history.item.state is ItemState.DONE
        assert [a.provider for a in history.attempts] == ["bulksms"]
        assert again.status("nope") is None


def test_a_passed_store_stays_open(tmp_path: Path, bulksms: BulkSmsProvider) -> None:
    with SqliteStore(tmp_path / "o.sqlite3") as store:
        with SmsBridge([bulksms], store=store) as bridge:
            bridge.send(Message("+447700900001", "hi"))
        assert sum(store.counts().values()) == 1  # still usable


def test_batch_goes_out_as_grouped_requests_with_counter_ids(
    tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    emulator = smsbridge_emulator_factory(BulkSmsEmulator, credits=Decimal(10**7))
    options = BulkSmsProvider.emulator_options(emulator)
    with (
        BulkSmsProvider.from_options(**options, batch_size=1000) as provider,
        SmsBridge([provider], store=tmp_path / "o.sqlite3", batch_window=5000) as bridge,
    ):
        result = bridge.send_batch(Batch(numbers(5000), body="News", reference="n1"))
        assert {r.status for r in result} == {Status.ACCEPTED}
        assert all(r.message_id and r.provider == "bulksms" for r in result)
    assert emulator.submissions.duplicates() == {}
    assert len(emulator.submissions.accepted_recipients()) == 5000
    sent = [s for s in emulator.submissions if s.command == "send_batch"]
    assert len(sent) == 5  # 1,000 a request, not one each
    ids = [int(str(s.reference)) for s in sent]
    assert ids == list(range(ids[0], ids[0] + 5))  # a counter, never a hash


def test_lost_answers_are_replayed_byte_identically(
    tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    emulator = smsbridge_emulator_factory(BulkSmsEmulator, credits=Decimal(10**7), seed=5)
    emulator.faults.add(AcceptThenDrop(), fraction=0.3, match=on_path(BATCH_PATH))
    options = BulkSmsProvider.emulator_options(emulator)
    with (
        BulkSmsProvider.from_options(
            **options, batch_size=100, unknown_outcome_retries=0
        ) as provider,
        SmsBridge([provider], store=tmp_path / "o.sqlite3", max_wait=30) as bridge,
    ):
        result = bridge.send_batch(Batch(numbers(2000), body="News", reference="n2"))
        statuses = {r.status for r in result}
        assert statuses <= {Status.ACCEPTED, Status.UNKNOWN}
        accepted = emulator.submissions.accepted_recipients()
        assert emulator.submissions.duplicates() == {}
        for r in result:
            if r.status is Status.ACCEPTED:
                assert accepted[r.recipient] == 1
    drops = [r for r in emulator.requests if r.path == BATCH_PATH and r.status is None]
    assert drops  # the fault really fired
    assert len(accepted) == 2000


def test_unsettled_items_are_queued_and_resumed(
    tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    emulator = smsbridge_emulator_factory(ClickatellEmulator, balance=Decimal(1000))
    emulator.faults.add(
        HttpStatus(503),
        next_n=1,
        match=on_path("/http/sendmsg"),
    )
    db = tmp_path / "o.sqlite3"
    with (
        ClickatellProvider.from_options(**ClickatellProvider.emulator_options(emulator)) as p,
        SmsBridge([p], store=db, max_wait=0) as bridge,
    ):
        result = bridge.send(Message("+447700900001", "later", reference="r-1"))
        assert isinstance(result, SendResult)
        assert result.status is Status.QUEUED
        assert result.error is not None and result.error.code == "HTTP 503"
        bridge.resume(timeout=30)
        history = bridge.status("r-1")
        assert history is not None and history.item.status is Status.ACCEPTED
        assert len(history.attempts) == 2
    assert emulator.submissions.accepted_recipients() == {"+447700900001": 1}


def test_rate_limit_is_seen_in_the_emulator_timestamps(
    tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    emulator = smsbridge_emulator_factory(ClickatellEmulator, balance=Decimal(1000))
    with (
        ClickatellProvider.from_options(**ClickatellProvider.emulator_options(emulator)) as p,
        SmsBridge(
            [p],
            store=tmp_path / "o.sqlite3",
            concurrency=4,
            limits={"clickatell": Limit(rate=20, burst=1)},
        ) as bridge,
    ):
        # Distinct texts: one request each (a shared text would be one grouped request).
        people = [Recipient(n, variables={"i": str(i)}) for i, n in enumerate(numbers(21))]
        bridge.send_batch(Batch(people, template=Template("paced {i}")))
    stamps = sorted(r.at for r in emulator.requests if r.path == "/http/sendmsg")
    assert len(stamps) == 21
    # 20 intervals at 20/s is one second; allow generous slack below, none needed above.
    assert stamps[-1] - stamps[0] >= 0.8


@pytest.mark.parametrize(
    "code",
    sorted(
        c
        for c, o in SUBMISSION_CODES.entries.items()
        if o.kind.value == "permanent" and not o.status.is_success
    ),
)
def test_bulksms_permanent_codes_are_submitted_once(
    code: str, tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    emulator = smsbridge_emulator_factory(BulkSmsEmulator)
    emulator.next_codes.append(code)
    with (
        BulkSmsProvider.from_options(**BulkSmsProvider.emulator_options(emulator)) as p,
        SmsBridge([p], store=tmp_path / "o.sqlite3") as bridge,
    ):
        assert refused_code(bridge, Message("+447700900001", "once")) == code
    assert len([r for r in emulator.requests if r.path == BATCH_PATH]) == 1


@pytest.mark.parametrize(
    "code",
    sorted(
        c
        for c, o in ERRORS.entries.items()
        if o.kind.value == "permanent"
        and not o.status.is_success
        and c not in {"103", "104", "109", "201", "202"}
    ),
)
def test_clickatell_permanent_codes_are_submitted_once(
    code: str, tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    number = "+447700900001"
    emulator = smsbridge_emulator_factory(
        ClickatellEmulator, number_errors={number.lstrip("+"): code}
    )
    with (
        ClickatellProvider.from_options(**ClickatellProvider.emulator_options(emulator)) as p,
        SmsBridge([p], store=tmp_path / "o.sqlite3") as bridge,
    ):
        assert refused_code(bridge, Message(number, "once")) == code
    assert len([r for r in emulator.requests if r.path == "/http/sendmsg"]) == 1


@pytest.mark.parametrize(("durability", "pragma"), [("normal", 1), ("full", 2)])
def test_durability_chooses_the_sqlite_flush_mode(
    durability: Literal["normal", "full"],
    pragma: int,
    tmp_path: Path,
    bulksms: BulkSmsProvider,
) -> None:
    with SmsBridge([bulksms], store=tmp_path / "o.sqlite3", durability=durability) as bridge:
        assert isinstance(bridge.store, SqliteStore)
        # PRAGMA synchronous: 1 is NORMAL, 2 is FULL.
        assert bridge.store._connection().execute("PRAGMA synchronous").fetchone() == (pragma,)
        result = bridge.send(Message("+447700900001", "kept"))
        assert isinstance(result, SendResult) and result.status is Status.ACCEPTED


def test_unknown_durability_is_a_configuration_error(bulksms: BulkSmsProvider) -> None:
    with pytest.raises(ConfigurationError, match="durability"):
        SmsBridge([bulksms], store=":memory:", durability="fsync")  # type: ignore[arg-type]


def huawei_permanent_number_codes() -> list[str]:
    from smsbridge_huawei.codes import CODES

    return sorted(
        code
        for code, outcome in CODES.entries.items()
        if code.startswith("E200")
        and outcome.kind.value == "permanent"
        and not outcome.status.is_success
    )


@pytest.mark.parametrize("code", huawei_permanent_number_codes())
def test_huawei_permanent_number_codes_are_submitted_once(
    code: str, tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    from smsbridge import Template
    from smsbridge_huawei import HuaweiProvider
    from smsbridge_huawei.emulator import HuaweiEmulator

    template_id = "tplintl00000000000000000000000001"[:32]
    emulator = smsbridge_emulator_factory(HuaweiEmulator, app_key="key-1", app_secret="s3cret-1")
    emulator.register_template(template_id, "Your code is ${NUM_6} for ${1}", region="INTL")
    number = "+447700900001"
    emulator.number_status[number] = code
    template = Template("Your code is {num_6} for {app}", provider_ids={"huawei": template_id})
    options = HuaweiProvider.emulator_options(emulator)
    message = Message(
        number,
        template.render({"num_6": "482913", "app": "Shop"}),
        template=template,
        variables={"num_6": "482913", "app": "Shop"},
    )
    with (
        HuaweiProvider.from_options(**options) as provider,
        SmsBridge([provider], store=tmp_path / "o.sqlite3") as bridge,
    ):
        assert refused_code(bridge, message) == code
    assert len(emulator.requests) == 1


class _ReadOnlyAfterSecondAdd(SqliteStore):
    """A store that turns read-only once its second add is committed (a disk remounted
    read-only mid-batch, as far as SQLite can tell)."""

    adds = 0

    def add(self, items: Iterable[NewItem], **options: Any) -> AddResult:
        result = super().add(items, **options)
        self.adds += 1
        if self.adds == 2:
            self._connection().execute("PRAGMA query_only = ON")
        return result


def test_a_batch_cut_short_by_its_store_says_how_much_is_written(
    tmp_path: Path, clickatell: ClickatellProvider
) -> None:
    sent: list[SendResult] = []
    with _ReadOnlyAfterSecondAdd(tmp_path / "o.sqlite3") as store:
        # Leaving the bridge releases its leases, which fails too on this store: the
        # error that ended the batch is the one that comes out.
        with (
            pytest.raises(StorageReadOnlyError) as info,
            SmsBridge([clickatell], store=store, batch_window=10) as bridge,
        ):
            sent.extend(bridge.iter_send_batch(Batch(numbers(30), body="b", reference="b")))
        # The first window was written and sent; the second was written, then the first
        # write for its request failed: nothing of it left.
        assert [r.status for r in sent] == [Status.ACCEPTED] * 10
        assert (info.value.operation, info.value.written) == ("save_chunk", 20)
        assert f"outbox {store.path} is read-only while saving a request body" in str(info.value)
        store._connection().execute("PRAGMA query_only = OFF")
        assert store.counts("b")[ItemState.PENDING] == 10


def test_a_value_the_outbox_cannot_store_fails_its_own_row_only(
    tmp_path: Path, clickatell: ClickatellProvider
) -> None:
    class Opaque:
        def __str__(self) -> str:
            return "opaque"

    wanted = numbers(4)
    people = [Recipient(n, variables={"name": f"P{i}"}) for i, n in enumerate(wanted)]
    people[2] = Recipient(wanted[2], variables={"name": Opaque()})
    batch = Batch(people, template=Template("Hi {name}"), reference="vals")
    with SmsBridge([clickatell], store=tmp_path / "o.sqlite3") as bridge:
        results = list(bridge.iter_send_batch(batch))
        assert [r.status for r in results] == [
            Status.ACCEPTED,
            Status.ACCEPTED,
            Status.REJECTED,
            Status.ACCEPTED,
        ]
        error = results[2].error
        assert error is not None and "cannot store a Opaque" in error.text
        assert bridge.status("vals-3") is None  # never written
        assert bridge.status("vals-4") is not None


def test_a_template_row_is_stored_as_its_whole_options_would_be(
    tmp_path: Path, clickatell: ClickatellProvider
) -> None:
    # Rows encoded once per batch read back exactly like options encoded whole.
    options = SendOptions(flash=True, extra={"clickatell.climsgid_hint": ("a", 1)})
    batch = Batch(
        [
            Recipient(n, variables={"name": f"P{i}", "n": Decimal(i)})
            for i, n in enumerate(numbers(3))
        ],
        template=Template("Hi {name} {n}"),
        options=options,
        reference="whole",
    )
    with SmsBridge([clickatell], store=tmp_path / "o.sqlite3") as bridge:
        for index, entry in enumerate(batch_entries(batch, bridge.normalise, "whole")):
            assert isinstance(entry, NewItem)
            assert entry.options_json == codec.options_to_json(entry.options)
            assert entry.options.extra[VARIABLES_KEY] == {"name": f"P{index}", "n": Decimal(index)}
