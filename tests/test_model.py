"""Message, Batch, Template, Recipient: validation on construction and laziness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsbridge import (
    Batch,
    InvalidMessageError,
    Message,
    Recipient,
    SendOptions,
    Template,
    TemplateError,
)
from smsbridge.model import check_text
from tests.strategies import refused_char, sendable_text


def test_message_normalises_to_tuple_and_is_frozen() -> None:
    msg = Message(" +447700900123 ", "hello")
    assert msg.to == ("+447700900123",)
    assert msg.recipient == "+447700900123"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        msg.body = "x"  # type: ignore[misc]
    multi = Message(["+447700900123", "+447700900124"], "hi")
    assert multi.to == ("+447700900123", "+447700900124")
    with pytest.raises(InvalidMessageError, match="several recipients"):
        _ = multi.recipient


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"to": "+447700900123", "body": ""}, "body"),
        ({"to": "+447700900123", "body": b"bytes"}, "body"),
        ({"to": [], "body": "x"}, "to"),
        ({"to": "   ", "body": "x"}, "to"),
        ({"to": 447700900123, "body": "x"}, "to"),
        ({"to": "+447700900123", "body": "x", "sender": "TwelveCharsX"}, "sender"),
        ({"to": "+447700900123", "body": "x", "sender": "12345678901234567"}, "sender"),
        ({"to": "+447700900123", "body": "x", "reference": "has space"}, "reference"),
        ({"to": "+447700900123", "body": "x", "reference": "x" * 65}, "reference"),
        ({"to": "+447700900123", "body": "x", "reference": "ends-in-newline\n"}, "reference"),
    ],
)
def test_message_rejects_bad_fields(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidMessageError) as info:
        Message(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_send_options_validation() -> None:
    with pytest.raises(InvalidMessageError) as info:
        SendOptions(scheduled_at=datetime(2030, 1, 1))  # naive
    assert info.value.field == "scheduled_at"
    with pytest.raises(InvalidMessageError):
        SendOptions(validity=timedelta(0))
    with pytest.raises(InvalidMessageError):
        SendOptions(max_parts=0)
    opts = SendOptions(scheduled_at=datetime(2030, 1, 1, tzinfo=UTC), extra={"a": 1})
    with pytest.raises(TypeError):
        opts.extra["b"] = 2  # type: ignore[index]


def test_template_variables_and_render() -> None:
    tpl = Template("Hi {name}, see you {when}. {{literal}} {name}")
    assert tpl.variables == ("name", "when")
    assert tpl.render({"name": "Ann", "when": "Mon", "extra": 1}) == (
        "Hi Ann, see you Mon. {literal} Ann"
    )


def test_template_missing_variable_names_recipient_and_variable() -> None:
    tpl = Template("Hi {name}, see you {when}")
    with pytest.raises(TemplateError) as info:
        tpl.render({"name": "Ann"}, recipient="+447700900123")
    assert info.value.variable == "when"
    assert info.value.recipient == "+447700900123"
    assert "'when'" in str(info.value) and "+447700900123" in str(info.value)


@pytest.mark.parametrize("text", ["", "unmatched {", "bad } brace", "{not valid-name}"])
def test_template_rejects_malformed(text: str) -> None:
    with pytest.raises(InvalidMessageError):
        Template(text)


@given(st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), sendable_text(20)))
def test_template_render_inserts_values_verbatim(values: dict[str, str]) -> None:
    text = " ".join(f"<{{{name}}}>" for name in values) or "static"
    rendered = Template(text).render(values)
    for name, value in values.items():
        assert f"<{value}>" in rendered
        del name


def test_batch_needs_exactly_one_of_body_and_template() -> None:
    with pytest.raises(InvalidMessageError):
        Batch(["+447700900123"])
    with pytest.raises(InvalidMessageError):
        Batch(["+447700900123"], body="x", template=Template("y"))
    with pytest.raises(InvalidMessageError):
        Batch("+447700900123", body="x")


def test_batch_is_lazy() -> None:
    produced = 0

    def source():  # type: ignore[no-untyped-def]
        nonlocal produced
        for i in range(1_000_000):
            produced += 1
            yield f"+4477009{i:05d}"

    batch = Batch(source, body="hello")
    assert produced == 0
    first = next(iter(batch))
    assert first == Recipient("+447700900000")
    assert produced == 1


def test_batch_accepts_mappings_and_renders_per_recipient() -> None:
    batch = Batch(
        [{"to": "+447700900123", "name": "Ann"}, Recipient("+447700900124", {"name": "Bob"})],
        template=Template("Hi {name}"),
    )
    rendered = [batch.render(r) for r in batch]
    assert rendered == ["Hi Ann", "Hi Bob"]


def test_batch_from_csv_rereads(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("to,name,reference\n+447700900123,Ann,r1\n,Nobody,\n+447700900124,Bob,\n")
    batch = Batch.from_csv(path, template=Template("Hi {name}"))
    first = list(batch)
    assert [r.number for r in first] == ["+447700900123", "", "+447700900124"]
    assert first[0].reference == "r1" and first[2].reference is None
    assert list(batch) == first  # re-iterable: the file is read again
    bad = tmp_path / "bad.csv"
    bad.write_text("phone,name\n1,2\n")
    with pytest.raises(InvalidMessageError, match="'to'"):
        list(Batch.from_csv(bad, body="x"))


def test_variables_are_read_only_copies_and_empty_ones_equal() -> None:
    source = {"name": "Ann"}
    recipient = Recipient("+447700900123", source)
    source["name"] = "Bob"
    assert recipient.variables == {"name": "Ann"}
    with pytest.raises(TypeError):
        recipient.variables["name"] = "Bob"  # type: ignore[index]
    bare = [
        Recipient("+447700900123"),
        Recipient("+447700900123", {}),
        Recipient("+447700900123", None),
    ]
    assert all(r == bare[0] for r in bare)
    for r in bare:
        assert r.variables == {} and len(r.variables) == 0
        with pytest.raises(TypeError):
            r.variables["x"] = 1  # type: ignore[index]
    assert repr(bare[0]) == (
        "Recipient(number='+447700900123', variables=mappingproxy({}), reference=None)"
    )
    assert attrs.evolve(recipient, variables={}) == bare[0]
    assert Message("+447700900123", "hi").variables == {}
    assert SendOptions().extra == {}


def test_batch_iteration_passes_recipients_through_and_converts_the_rest() -> None:
    given_recipient = Recipient("+447700900123", reference="r-1")
    items = list(Batch([given_recipient, "+447700900124", {"to": "+447700900125"}], body="hi"))
    assert items[0] is given_recipient
    assert items[1:] == [Recipient("+447700900124"), Recipient("+447700900125")]


# -- the text policy: lone surrogates and control characters are refused -------------


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Message("+447700900123", "x\ud800y"), "body"),
        (lambda: Message("+447700900123", "a\x00b"), "body"),
        (lambda: Message("+447700900123", "ok", variables={"name": "bob\ud800"}), "variables.name"),
        (lambda: Message("+447700900123", "ok", sender="Shop\x1b"), "sender"),
        (lambda: Template("Hi {name}\x07"), "template"),
        (lambda: Batch(["+447700900123"], body="\x85next line"), "body"),
    ],
)
def test_refused_text_names_the_field(build: object, field: str) -> None:
    with pytest.raises(InvalidMessageError) as info:
        build()  # type: ignore[operator]
    assert info.value.field == field
    assert field.split(".")[0] in str(info.value)
    # The error can always be printed: the offending character is named, never included.
    str(info.value).encode("utf-8")
    assert isinstance(info.value.value, str)
    info.value.value.encode("ascii")


def test_tab_newline_carriage_return_and_form_feed_are_kept() -> None:
    body = "line 1\r\nline 2\tcolumn\fpage 2"
    assert Message("+447700900123", body).body == body


@given(sendable_text(), refused_char, st.integers(min_value=0, max_value=40))
def test_one_refused_character_anywhere_is_refused_with_its_index(
    text: str, bad: str, where: int
) -> None:
    index = min(where, len(text))
    value = text[:index] + bad + text[index:]
    with pytest.raises(
        InvalidMessageError, match=rf"U\+{ord(bad):04X}( \(\w+\))? at index {index}$"
    ):
        check_text(value, "body")
    check_text(text, "body")


def test_a_bad_variable_fails_only_its_recipient_when_rendered() -> None:
    batch = Batch(
        [
            {"to": "+447700900101", "name": "Ann"},
            {"to": "+447700900102", "name": "bob\ud800"},
            {"to": "+447700900103", "name": "C\x00y"},
        ],
        template=Template("Hi {name}"),
    )
    ann, bob, cy = list(batch)
    assert batch.render(ann) == "Hi Ann"
    for recipient, shown in ((bob, "U+D800"), (cy, "U+0000 (NUL)")):
        with pytest.raises(TemplateError) as info:
            batch.render(recipient)
        assert (info.value.variable, info.value.field) == ("name", "variables.name")
        assert info.value.recipient == recipient.number
        assert f"template variable 'name' for {recipient.number} holds" in str(info.value)
        assert shown in str(info.value)
