"""End to end over loopback: provider -> emulator -> status reports -> parse_callback."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

import smsbridge
import smsbridge_huawei
from smsbridge import (
    Batch,
    DeliveryReport,
    InvalidMessageError,
    Kind,
    MalformedResponseError,
    Message,
    ProviderError,
    Recipient,
    Scope,
    SendOptions,
    Status,
    Template,
    UnknownOutcomeError,
)
from smsbridge.testing import (
    AcceptThenDrop,
    CallbackPlan,
    ConnectionReset,
    EmulatorFactory,
    Garbage,
    HttpStatus,
    LoopbackEmulator,
    ManualClock,
    TransientCode,
)
from smsbridge_huawei import ClockSkewError, HuaweiProvider
from smsbridge_huawei.emulator import HuaweiEmulator
from smsbridge_huawei.protocol import BATCH_PATH, DIFF_PATH

from .conftest import (
    CN_TEMPLATE,
    INTL_TEMPLATE,
    SENTINEL_KEY,
    SENTINEL_SECRET,
    make_emulator,
    make_provider,
)

CN = ["+8613112345678", "+8613212345678", "+8613312345678"]
INTL = ["+447700900123", "+33612345678"]
CN_T = Template("您的验证码为{code}，请于{text}前使用", provider_ids={"huawei": CN_TEMPLATE})
INTL_T = Template("Your code is {num_6} for {app}", provider_ids={"huawei": INTL_TEMPLATE})


def reports(provider: HuaweiProvider, receiver: LoopbackEmulator) -> list[DeliveryReport]:
    found = []
    for record in receiver.requests:
        found += provider.parse_callback(
            method=record.method,
            query=record.request.query.to_dict(),
            headers=record.request.headers,
            body=record.request.body,
        )
    return found


def wait_reports(emulator: HuaweiEmulator, receiver: LoopbackEmulator, count: int) -> None:
    assert emulator.wait_for_callbacks()
    assert receiver.requests.wait_for(count)


def test_same_values_cn_batch_uses_batch_send_and_reports_arrive(
    provider: HuaweiProvider, emulator: HuaweiEmulator, receiver: LoopbackEmulator
) -> None:
    batch = Batch(
        [Recipient(n, {"code": "482913", "text": "10分钟"}, f"r{i}") for i, n in enumerate(CN)],
        template=CN_T,
        reference="batch-1",
    )
    results = list(provider.send_batch(batch))
    assert [r.status for r in results] == [Status.ACCEPTED] * 3
    assert [r.reference for r in results] == ["r0", "r1", "r2"]
    assert all(r.message_id and r.parts == 1 for r in results)
    assert [r.path for r in emulator.requests] == [BATCH_PATH]
    form = emulator.requests[0].request.form
    assert form.get("templateParas") == '["482913", "10分钟"]'
    assert form.get("extend") == "batch-1" and form.get("signature") == "华为云"
    (submission,) = emulator.submissions
    assert submission.recipients == tuple(CN) and submission.parts == 1
    assert submission.body == "您的验证码为482913，请于10分钟前使用"
    assert emulator.submissions.duplicates() == {}
    wait_reports(emulator, receiver, 3)
    got = reports(provider, receiver)
    assert {r.message_id for r in got} == {r.message_id for r in results}
    assert all(r.status is Status.DELIVERED and r.reference == "batch-1" for r in got)
    assert {r.recipient for r in got} == set(CN)


def test_per_recipient_values_mixed_regions_use_diff_send(
    provider: HuaweiProvider, emulator: HuaweiEmulator, receiver: LoopbackEmulator
) -> None:
    numbers = [*INTL, *CN[:2]]
    values = ["111111", "111111", "222222", "111111"]
    batch = Batch(
        [Recipient(n, {"num_6": v, "app": "Acme"}) for n, v in zip(numbers, values, strict=True)],
        template=INTL_T,
    )
    results = list(provider.send_batch(batch))
    assert [r.recipient for r in results] == numbers
    assert all(r.status is Status.ACCEPTED for r in results)
    (request,) = emulator.requests
    assert request.path == DIFF_PATH
    groups = request.request.json["smsContent"]
    assert [g["to"] for g in groups] == [[INTL[0], INTL[1], CN[1]], [CN[0]]]
    assert [g["templateParas"] for g in groups] == [["111111", "Acme"], ["222222", "Acme"]]
    wait_reports(emulator, receiver, 4)
    assert {r.status for r in reports(provider, receiver)} == {Status.DELIVERED}


def test_long_message_reports_each_part(
    provider: HuaweiProvider, emulator: HuaweiEmulator, receiver: LoopbackEmulator
) -> None:
    emulator.register_template("long", "x" * 60 + "${1}" + "y" * 60, signature="华为云")
    template = Template("x" * 60 + "{code}" + "y" * 60, provider_ids={"huawei": "long"})
    (result,) = provider.send_batch(Batch([Recipient(CN[0], {"code": "1234"})], template=template))
    # 5 (【华为云】) + 124 characters = 129 -> 2 parts of 67
    assert result.parts == 2
    wait_reports(emulator, receiver, 2)
    got = sorted(reports(provider, receiver), key=lambda r: r.part or 0)
    assert [(r.part, r.parts) for r in got] == [(1, 2), (2, 2)]
    assert emulator.submissions[0].charge == 2


def test_large_batch_is_streamed_in_windows(
    provider: HuaweiProvider, emulator: HuaweiEmulator
) -> None:
    consumed = 0

    def source() -> Iterator[Recipient]:
        nonlocal consumed
        for i in range(1200):
            consumed += 1
            yield Recipient(f"+4477009{i:05d}", {"num_6": str(i % 3), "app": "A"})

    results = provider.send_batch(Batch(source, template=INTL_T))
    first = next(results)
    assert first.status is Status.ACCEPTED
    assert consumed <= 501  # one window read ahead, not the whole batch
    rest = list(results)
    assert len(rest) == 1199
    assert [r.path for r in emulator.requests] == [DIFF_PATH] * 3
    assert sum(len(s.recipients) for s in emulator.submissions) == 1200


def test_body_batch_without_template_id_is_refused(provider: HuaweiProvider) -> None:
    with pytest.raises(InvalidMessageError) as caught:
        list(provider.send_batch(Batch(CN, body="hello")))
    assert caught.value.field == "huawei_template_id"


def test_template_without_huawei_id_is_refused(provider: HuaweiProvider) -> None:
    with pytest.raises(InvalidMessageError) as caught:
        list(provider.send_batch(Batch(CN, template=Template("hi {x}"))))
    assert caught.value.field == "template.provider_ids"


def test_free_text_message_needs_a_mapping(
    provider: HuaweiProvider, emulator: HuaweiEmulator
) -> None:
    with pytest.raises(InvalidMessageError) as caught:
        provider.send(Message(CN[0], "free text", reference="m1"))
    assert caught.value.field == "huawei_template_id"
    assert len(emulator.requests) == 0
    options = SendOptions(
        extra={"huawei_template_id": CN_TEMPLATE, "huawei_template_params": ["4829", "5分钟"]}
    )
    (result,) = provider.send(
        Message(CN[0], "您的验证码为4829，请于5分钟前使用", reference="m1", options=options)
    )
    assert result.status is Status.ACCEPTED and result.reference == "m1"
    assert emulator.requests[0].request.form.get("extend") == "m1"


def test_text_mapping_option(emulator: HuaweiEmulator) -> None:
    emulator.register_template("hello", "Hello from Acme", region="INTL")
    with make_provider(emulator, templates={"Hello from Acme": "hello"}) as provider:
        (result,) = provider.send(Message(INTL[0], "Hello from Acme"))
    assert result.status is Status.ACCEPTED


def test_variable_errors_are_per_recipient_and_name_the_variable(
    provider: HuaweiProvider, emulator: HuaweiEmulator
) -> None:
    batch = Batch(
        [
            Recipient(CN[0], {"code": "1", "text": "a.b"}),
            Recipient(CN[1], {"code": "1"}),
            Recipient(CN[2], {"code": "1", "text": "ok"}),
        ],
        template=CN_T,
    )
    bad_text, missing, good = provider.send_batch(batch)
    assert bad_text.status is Status.REJECTED and bad_text.error is not None
    assert "'text'" in bad_text.error.text and bad_text.attempts == 0
    assert missing.status is Status.REJECTED and missing.error is not None
    assert "'text'" in missing.error.text
    assert good.status is Status.ACCEPTED
    assert emulator.submissions[0].recipients == (CN[2],)


def test_max_parts_refuses_before_sending(
    provider: HuaweiProvider, emulator: HuaweiEmulator
) -> None:
    batch = Batch(
        [Recipient(INTL[0], {"num_6": "1", "app": "中" * 20})],
        template=Template("{num_6} {app}" + "中" * 60, provider_ids={"huawei": INTL_TEMPLATE}),
        options=SendOptions(max_parts=1),
    )
    (result,) = provider.send_batch(batch)
    assert result.status is Status.REJECTED and result.error is not None
    assert "max_parts" in result.error.text
    assert len(emulator.requests) == 0


def test_emulator_catches_what_the_provider_cannot_know(
    provider: HuaweiProvider, emulator: HuaweiEmulator
) -> None:
    # The Template says {code}; the approved INTL template wants NUM_6 digits.
    template = Template("Your code is {code} for {app}", provider_ids={"huawei": INTL_TEMPLATE})
    (result,) = provider.send_batch(Batch([Recipient(INTL[0], {"code": "abc", "app": "A"})],
                                          template=template))  # fmt: skip
    assert result.status is Status.REJECTED and result.error is not None
    assert result.error.code == "E200028"
    assert len(emulator.submissions) == 0


@pytest.mark.parametrize(
    "code",
    ["E200015", "E200018", "E200023", "E200027", "E200028", "E200030", "E200034", "E200038"],
)
def test_per_number_statuses_map_through_the_table(
    provider: HuaweiProvider, emulator: HuaweiEmulator, code: str
) -> None:
    emulator.number_status[CN[1]] = code
    batch = Batch([Recipient(n, {"code": "1", "text": "t"}) for n in CN[:3]], template=CN_T)
    first, second, third = provider.send_batch(batch)
    assert first.ok and third.ok
    outcome = smsbridge_huawei.codes.CODES[code]
    assert second.status is outcome.status
    assert second.error is not None and second.error.code == code
    assert second.error.scope is outcome.scope and second.parts is None


def test_duplicate_in_one_request_gets_e200041(
    provider: HuaweiProvider, emulator: HuaweiEmulator
) -> None:
    options = SendOptions(extra={"huawei_template_id": CN_TEMPLATE,
                                 "huawei_template_params": ["1", "t"]})  # fmt: skip
    first, second = provider.send(Message([CN[0], CN[0]], "x", options=options))
    assert first.status is Status.ACCEPTED
    assert second.status is Status.REJECTED and second.error is not None
    assert second.error.code == "E200041"
    assert emulator.submissions.accepted_recipients()[CN[0]] == 1


REQUEST_CODES = sorted(smsbridge_huawei.codes.REQUEST_CODES - {"E000110"})


@pytest.mark.parametrize("code", REQUEST_CODES)
def test_every_request_code_is_a_typed_result(
    provider: HuaweiProvider, emulator: HuaweiEmulator, code: str
) -> None:
    emulator.forced.append((code, 400))
    outcome = smsbridge_huawei.codes.CODES[code]
    batch = Batch([Recipient(CN[0], {"code": "1", "text": "t"})], template=CN_T)
    if outcome.scope is Scope.REQUEST:
        (result,) = provider.send_batch(batch)
        assert result.status is Status.REJECTED and result.error is not None
        assert result.error.code == code
    else:
        with pytest.raises(ProviderError) as caught:
            list(provider.send_batch(batch))
        assert caught.value.code == code
        assert (caught.value.scope, caught.value.kind) == (outcome.scope, outcome.kind)
    assert len(emulator.submissions) == 0


def test_clock_skew_is_a_typed_error_saying_so(
    smsbridge_emulator_factory: EmulatorFactory,
) -> None:
    import time

    clock = ManualClock(time.time() + 2 * 86400)
    emulator = make_emulator(smsbridge_emulator_factory, clock=clock)
    with make_provider(emulator) as provider, pytest.raises(ClockSkewError) as caught:
        list(provider.send_batch(Batch([Recipient(CN[0], {"code": "1", "text": "t"})],
                                       template=CN_T)))  # fmt: skip
    assert caught.value.code == "E000110" and "clock" in caught.value.message
    clock.set(time.time() + 23 * 3600)  # within 24 hours: accepted
    with make_provider(emulator) as provider:
        (result,) = provider.send_batch(
            Batch([Recipient(CN[0], {"code": "1", "text": "t"})], template=CN_T)
        )
    assert result.ok


def test_wrong_secret_is_refused_without_leaking_it(emulator: HuaweiEmulator) -> None:
    with make_provider(emulator, app_secret="wrong-secret-xyz") as provider:
        with pytest.raises(ProviderError) as caught:
            list(provider.send_batch(Batch([Recipient(CN[0], {"code": "1", "text": "t"})],
                                           template=CN_T)))  # fmt: skip
        assert caught.value.code == "E000105" and caught.value.scope is Scope.PROVIDER
        assert "wrong-secret-xyz" not in repr(caught.value) + str(caught.value)
        assert "wrong-secret-xyz" not in repr(provider)


def test_secrets_never_in_results_errors_or_logs(
    provider: HuaweiProvider, emulator: HuaweiEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator.faults.add(Garbage(), next_n=1)
    batch = Batch([Recipient(CN[0], {"code": "1", "text": "t"})], template=CN_T)
    (unknown,) = provider.send_batch(batch)
    (ok,) = provider.send_batch(batch)
    text = repr(unknown) + repr(ok) + repr(provider) + caplog.text
    assert SENTINEL_SECRET not in text and SENTINEL_KEY not in text


def test_5xx_is_a_transient_provider_error(
    provider: HuaweiProvider, emulator: HuaweiEmulator
) -> None:
    emulator.faults.add(HttpStatus(502, b"<html>bad gateway</html>"), next_n=1)
    emulator.faults.add(TransientCode(), next_n=1)
    batch = Batch([Recipient(CN[0], {"code": "1", "text": "t"})], template=CN_T)
    for _ in range(2):
        with pytest.raises(ProviderError) as caught:
            list(provider.send_batch(batch))
        assert (caught.value.scope, caught.value.kind) == (Scope.PROVIDER, Kind.TRANSIENT)
    assert len(emulator.submissions) == 0


@pytest.mark.parametrize(
    ("fault", "error"),
    [(AcceptThenDrop(), UnknownOutcomeError), (Garbage(process=True), MalformedResponseError),
     (ConnectionReset(), UnknownOutcomeError)],
)  # fmt: skip
def test_unknown_outcomes_are_reported_never_resent(
    provider: HuaweiProvider,
    emulator: HuaweiEmulator,
    fault: AcceptThenDrop | Garbage | ConnectionReset,
    error: type[Exception],
) -> None:
    emulator.faults.add(fault, next_n=2)
    options = SendOptions(extra={"huawei_template_id": CN_TEMPLATE,
                                 "huawei_template_params": ["1", "t"]})  # fmt: skip
    with pytest.raises(error):
        provider.send(Message(CN[0], "x", options=options))
    batch = Batch([Recipient(n, {"code": "1", "text": "t"}) for n in CN[:2]], template=CN_T)
    results = list(provider.send_batch(batch))
    assert [r.status for r in results] == [Status.UNKNOWN] * 2
    assert all(r.error is not None for r in results)
    assert len(emulator.requests) == 2  # one request each: nothing resent


def test_callback_faults_late_duplicated_out_of_order(
    smsbridge_emulator_factory: EmulatorFactory, receiver: LoopbackEmulator
) -> None:
    plan = CallbackPlan(duplicate_fraction=1.0, shuffle=True, delay=0.05, seed=3)
    emulator = make_emulator(smsbridge_emulator_factory, callback_plan=plan)
    emulator.report_status[CN[1]] = "UNDELIV"
    with make_provider(emulator, status_callback=f"{receiver.url}/r") as provider:
        results = list(provider.send_batch(Batch(
            [Recipient(n, {"code": "1", "text": "t"}) for n in CN], template=CN_T,
        )))  # fmt: skip
        wait_reports(emulator, receiver, 6)
        got = reports(provider, receiver)
    assert len(got) == 6
    latest = {(r.message_id, r.part): r.status for r in got}
    by_id = {r.message_id: r.recipient for r in results}
    assert {by_id[m]: s for (m, _), s in latest.items()} == {
        CN[0]: Status.DELIVERED, CN[1]: Status.FAILED_PERMANENT, CN[2]: Status.DELIVERED,
    }  # fmt: skip


def test_emulator_accepts_raw_digest_unless_strict(
    smsbridge_emulator_factory: EmulatorFactory,
) -> None:
    from datetime import UTC, datetime

    from smsbridge.http import HttpClient
    from smsbridge_huawei.wsse import AUTHORIZATION, created_stamp, raw_password_digest

    for strict, expected in ((False, "000000"), (True, "E000105")):
        emulator = make_emulator(smsbridge_emulator_factory, strict_digest=strict)
        created = created_stamp(datetime.now(UTC))
        digest = raw_password_digest("abc123", created, SENTINEL_SECRET)
        headers = {
            "Authorization": AUTHORIZATION,
            "X-WSSE": f'UsernameToken Username="{SENTINEL_KEY}", PasswordDigest="{digest}", '
            f'Nonce="abc123", Created="{created}"',
        }
        fields = {"from": "csms12345678", "to": "13112345678", "templateId": CN_TEMPLATE,
                  "templateParas": '["1","t"]'}  # fmt: skip
        with HttpClient(base_url=emulator.url, provider="huawei") as client:
            response = client.request("POST", BATCH_PATH, fields=fields, headers=headers)
        assert response.json()["code"] == expected
        if not strict:
            # +86 omitted: the platform adds it
            assert response.json()["result"][0]["originTo"] == "+8613112345678"


def test_emulator_refuses_bad_to_and_wrong_body_type(emulator: HuaweiEmulator) -> None:
    from datetime import UTC, datetime

    from smsbridge import Secret
    from smsbridge.http import HttpClient
    from smsbridge_huawei.wsse import wsse_headers

    def headers() -> dict[str, str | Secret]:
        return wsse_headers(Secret(SENTINEL_KEY), Secret(SENTINEL_SECRET), now=datetime.now(UTC))

    with HttpClient(base_url=emulator.url, provider="huawei") as client:
        bad_to = client.request("POST", BATCH_PATH, headers=headers(), fields={
            "from": "c", "to": "+861311234567a", "templateId": CN_TEMPLATE})  # fmt: skip
        too_many = client.request("POST", BATCH_PATH, headers=headers(), fields={
            "from": "c", "to": ",".join(["+447700900123"] * 501), "templateId": "t"})  # fmt: skip
        form_to_diff = client.request("POST", DIFF_PATH, headers=headers(), fields={"from": "c"})
        bad_paras = client.request("POST", BATCH_PATH, headers=headers(), fields={
            "from": "c", "to": "+447700900123", "templateId": "t",
            "templateParas": "['1']"})  # fmt: skip
    assert [r.json()["code"] for r in (bad_to, too_many, form_to_diff, bad_paras)] == [
        "E000503", "E000503", "E000503", "E000000",
    ]  # fmt: skip
    assert bad_to.status == 400 and "result" not in bad_to.json()


def test_through_the_bridge_with_own_plugin_manager(
    emulator: HuaweiEmulator, receiver: LoopbackEmulator
) -> None:
    manager = smsbridge.make_plugin_manager(load_entry_points=False)
    manager.register(smsbridge_huawei, name="huawei")
    options = {**HuaweiProvider.emulator_options(emulator), "signature": "华为云",
               "status_callback": f"{receiver.url}/report"}  # fmt: skip
    provider = smsbridge.get_provider("huawei", manager=manager, **options)
    assert isinstance(provider, HuaweiProvider)
    assert not provider.capabilities.idempotency_key
    with smsbridge.SmsBridge([provider], plugin_manager=manager, store=":memory:") as bridge:
        result = bridge.send_batch(Batch(
            [{"to": CN[0], "code": "1", "text": "t"}, {"to": "+86 131 1234 5678", "code": "1",
             "text": "t"}, {"to": "not a number", "code": "1", "text": "t"},
             {"to": INTL[0], "code": "2", "text": "t"}],
            template=CN_T,
        ))  # fmt: skip
    assert result.duplicates == 1
    statuses = sorted(r.status.value for r in result)
    assert statuses == ["accepted", "accepted", "invalid_number"]
    # The bridge keeps each recipient in the outbox and groups them by the provider's
    # request key: one batchSendDiffSms request carries both, each with its own values.
    assert [r.path for r in emulator.requests] == [DIFF_PATH]
    sent = sorted(n for s in emulator.submissions for n in s.recipients)
    assert sent == sorted([CN[0], INTL[0]])
