"""Template variable rules and the length/billing rules shared with the emulator."""

from __future__ import annotations

import pytest

from smsbridge import Template, TemplateError
from smsbridge_huawei.templates import (
    CHINESE_MAINLAND,
    INTERNATIONAL,
    attribute_for_name,
    check_value,
    counted_text,
    parts_for,
    placeholders,
    validate_params,
)


@pytest.mark.parametrize(
    ("attribute", "value", "ok"),
    [
        ("DEFAULT", "369751", True),
        ("DEFAULT", "", False),
        ("DEFAULT", "x" * 20, True),
        ("DEFAULT", "x" * 21, False),
        ("DEFAULT", "it's", False),
        ("DEFAULT", "{x}", False),
        ("PHONE", "400-800-1234", True),
        ("PHONE", "123", False),
        ("PHONE", "1234567890123456", False),
        ("PHONE", "12345-", False),
        ("CHARDIGIT", "AB_12", True),
        ("CHARDIGIT", "AB-12", False),
        ("DATETIME", "2024-03-11", True),
        ("DATETIME", "2024年3月11日", True),
        ("DATETIME", "12:30", True),
        ("DATETIME", "2024-03-11 12:30", False),
        ("MONEY", "12.50", True),
        ("MONEY", "三百", True),
        ("MONEY", "$12", False),
        ("TEXT", "人民公园正门", True),
        ("TEXT", "a.b", False),
        ("TEXT", "see www.x", False),
        ("NUM_6", "123456", True),
        ("NUM_6", "1234567", False),
        ("NUM_6", "12a", False),
    ],
)
def test_check_value(attribute: str, value: str, ok: bool) -> None:
    assert (check_value(attribute, value) is None) is ok


def test_placeholders_and_names() -> None:
    assert placeholders("${1} at ${TEXT} for ${MONEY}, ${NUM_6} ${label}") == [
        "DEFAULT", "TEXT", "MONEY", "NUM_6", "DEFAULT",
    ]  # fmt: skip
    assert attribute_for_name("phone") == "PHONE"
    assert attribute_for_name("money_total") == "MONEY"
    assert attribute_for_name("text2") == "TEXT"
    assert attribute_for_name("num_4") == "NUM_4"
    assert attribute_for_name("code") == "DEFAULT"
    assert attribute_for_name("phoney") == "DEFAULT"


def test_validate_params_names_the_variable() -> None:
    with pytest.raises(TemplateError) as caught:
        validate_params(["code", "place"], ["DEFAULT", "TEXT"], ["1", "a.b"], recipient="+1")
    assert caught.value.variable == "place"
    assert "place" in caught.value.message and "+1" in caught.value.message
    with pytest.raises(TemplateError, match="2 variable"):
        validate_params(["a", "b"], ["DEFAULT", "DEFAULT"], ["1"])


def test_chinese_mainland_counts_signature_and_values() -> None:
    # 【华为云】 counts 5; a ${1} filled with 123456 counts 6.
    assert counted_text("码${1}", ["123456"], "华为云", CHINESE_MAINLAND) == "【华为云】码123456"
    assert counted_text("码${1}", ["123456"], "华为云", INTERNATIONAL) == "码123456"


@pytest.mark.parametrize(("length", "parts"), [(1, 1), (68, 1), (70, 1), (71, 2), (134, 2),
                                               (135, 3)])  # fmt: skip
def test_chinese_mainland_split(length: int, parts: int) -> None:
    assert parts_for("a" * length, [], None, CHINESE_MAINLAND) == parts


@pytest.mark.parametrize(
    ("text", "parts"), [("a" * 160, 1), ("a" * 164, 2), ("a" * 320, 3), ("é" * 70, 1),
                        ("中" * 70, 1), ("中" * 71, 2), ("😀" * 70, 1)],
)  # fmt: skip
def test_international_split(text: str, parts: int) -> None:
    assert parts_for(text, [], None, INTERNATIONAL) == parts


def test_parts_for_smsbridge_template() -> None:
    template = Template("Code {code}", provider_ids={"huawei": "t"})
    assert parts_for(template, {"code": "1" * 200}, None, INTERNATIONAL) == 2
    assert parts_for(template, ["1" * 60], "sig", CHINESE_MAINLAND) == 1
    assert parts_for(template, ["1" * 61], "sig", CHINESE_MAINLAND) == 2
    assert parts_for(template, ["x"], None, INTERNATIONAL, encoding="UCS-2") == 1
