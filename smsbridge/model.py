"""The values an application hands to smsbridge: messages, batches, templates.

All of them are frozen and validated on construction, so a value that exists is a value
that can be sent. Bad input raises :class:`~smsbridge.errors.InvalidMessageError` naming
the field and the value. Phone numbers are kept as given here and normalised to E.164 by
the bridge, per recipient, so that one bad number fails alone instead of sinking a batch.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeAlias

import attrs

from smsbridge.encoding.national import resolve_languages
from smsbridge.errors import InvalidMessageError, TemplateError

__all__ = ["Batch", "Message", "Recipient", "SendOptions", "Template", "check_text"]

_REFERENCE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_PLACEHOLDER_RE = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}|\{|\}")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# fullmatch, not match with ^...$: "$" also matches before a trailing newline.
_match_reference = _REFERENCE_RE.fullmatch
# Refused in texts: control characters (C0, DEL, C1) other than tab, newline, carriage
# return and form feed (GSM 03.38 carries it, as a page break), and surrogate code points
# (a str holds one only unpaired: text that cannot be encoded, stored or sent).
_BAD_CHAR_RE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_NAMES = {0: "NUL", 0x1B: "ESC", 0x7F: "DEL"}

# The read-only view of "no variables", shared: nothing can change it (the proxy is the
# only reference to its dict), so recipients without variables need no copy of their own.
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _readonly(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not value:
        return _EMPTY
    return MappingProxyType(dict(value))


def _languages(value: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    try:
        return tuple(value)
    except TypeError:
        raise InvalidMessageError(
            "national_languages must be a sequence of language codes",
            field="national_languages",
            value=value,
        ) from None


def _readonly_raw(value: Mapping[str, Mapping[str, str]] | None) -> Mapping[str, Any]:
    # Read-only all the way down; values are checked here rather than by a validator
    # because the inner mappings must be copied anyway.
    if not value:
        return _EMPTY
    if not isinstance(value, Mapping):
        raise InvalidMessageError(
            "raw maps a provider name to its parameters", field="raw", value=type(value).__name__
        )
    out: dict[str, Mapping[str, str]] = {}
    for provider, params in value.items():
        if not isinstance(provider, str) or not isinstance(params, Mapping):
            raise InvalidMessageError(
                "raw maps a provider name to a mapping of parameters",
                field=f"raw.{provider}",
                value=type(params).__name__,
            )
        for name, item in params.items():
            if not isinstance(name, str) or not name or not isinstance(item, str):
                raise InvalidMessageError(
                    "a raw parameter is a non-empty name with a text value (str)",
                    field=f"raw.{provider}.{name}",
                    value=type(item).__name__,
                )
        out[provider] = MappingProxyType(dict(params))
    return MappingProxyType(out)


def _check_reference(_inst: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or not _match_reference(value)):
        raise InvalidMessageError(
            "a client reference is 1-64 characters of letters, digits and . _ : -, "
            "starting with a letter or digit",
            field=attribute.name,
            value=value,
        )


def _bad_char(value: str) -> str | None:
    """What is wrong with ``value`` under the text policy, or ``None``."""
    found = _BAD_CHAR_RE.search(value)
    if found is None:
        return None
    code = ord(found.group())
    if 0xD800 <= code <= 0xDFFF:
        what = f"a lone surrogate U+{code:04X}"
    else:
        name = _CONTROL_NAMES.get(code)
        what = f"the control character U+{code:04X}" + (f" ({name})" if name else "")
    return f"{what} at index {found.start()}"


def check_text(value: str, field: str) -> None:
    """Refuse text that cannot be sent as it is.

    The policy: lone surrogates (text that cannot be encoded) and control characters
    (U+0000-U+001F, U+007F-U+009F) are refused, except tab, newline, carriage return
    and form feed (which GSM 03.38 carries as a page break). Nothing is replaced:
    changing a user's text is their call.

    Args:
        value: The text.
        field: The field named in the error (``"body"``, ``"template"``...).

    Raises:
        InvalidMessageError: Naming the field, the character and its index; the value
            is shown escaped, so the error itself can always be printed.
    """
    problem = _bad_char(value)
    if problem is not None:
        raise InvalidMessageError(f"{field} holds {problem}", field=field, value=ascii(value[:80]))


def _check_text(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise InvalidMessageError(
            f"{attribute.name} must be text (str), not {type(value).__name__}; "
            "smsbridge chooses the encoding itself",
            field=attribute.name,
            value=type(value).__name__,
        )
    check_text(value, "template" if attribute.name == "text" else attribute.name)


def _check_variables(
    _inst: object, _attribute: attrs.Attribute[Any], value: Mapping[str, Any]
) -> None:
    for name, item in value.items():
        if isinstance(item, str):
            check_text(item, f"variables.{name}")


def _check_number(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidMessageError(
            f"a phone number must be a str, not {type(value).__name__}",
            field=field,
            value=value,
        )
    stripped = value.strip()
    if not stripped:
        raise InvalidMessageError("a phone number must not be empty", field=field, value=value)
    return stripped


@attrs.frozen(kw_only=True, slots=True)
class SendOptions:
    """Options shared by a :class:`Message` and a :class:`Batch`.

    Args:
        scheduled_at: Send at this time (timezone-aware) instead of now.
        validity: How long the network keeps trying before the message expires.
        flash: Ask for a class-0 ("flash") message shown immediately on screen.
        max_parts: Refuse to send more parts than this (cost guard); ``None`` lets the
            provider's own limit apply.
        encoding: Force ``"GSM-7"`` or ``"UCS-2"`` instead of choosing from the text.
        transliterate: Replace characters that have an obvious GSM-7 equivalent so the
            message stays GSM-7 (off by default: changing a user's text is their call).
        callback_url: Where the provider should post delivery reports, when it supports it.
        national_languages: ISO 639-1 codes of the 3GPP TS 23.038 national language
            tables (``("tr", "es")``) the route carrying the message applies; only then
            are they considered when counting its parts (see ``docs/segmentation.md``).
        extra: Provider-specific options by name. A provider refuses a name it does not
            know (:class:`~smsbridge.InvalidMessageError` naming it, before anything is
            sent); ``"<provider>.<name>"`` scopes an option to one provider, and the
            others skip it (see :mod:`smsbridge.extras`).
        raw: Wire parameters sent exactly as given, per provider name
            (``{"clickatell": {"new_param": "1"}}``), for parameters a provider's API
            takes but smsbridge does not know yet. Nothing checks them; a provider only
            refuses names it sets itself.
    """

    scheduled_at: datetime | None = attrs.field(default=None)
    validity: timedelta | None = attrs.field(default=None)
    flash: bool = False
    max_parts: int | None = attrs.field(default=None)
    encoding: str | None = None
    transliterate: bool = False
    callback_url: str | None = None
    extra: Mapping[str, Any] = attrs.field(default=_EMPTY, converter=_readonly)
    national_languages: tuple[str, ...] = attrs.field(default=(), converter=_languages)
    raw: Mapping[str, Mapping[str, str]] = attrs.field(default=_EMPTY, converter=_readonly_raw)

    @national_languages.validator
    def _check_languages(self, _a: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
        try:
            resolve_languages(value)
        except ValueError as exc:
            raise InvalidMessageError(str(exc), field="national_languages", value=value) from None

    @scheduled_at.validator
    def _check_scheduled(self, _a: attrs.Attribute[Any], value: datetime | None) -> None:
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise InvalidMessageError(
                "scheduled_at must be a timezone-aware datetime", field="scheduled_at", value=value
            )

    @validity.validator
    def _check_validity(self, _a: attrs.Attribute[Any], value: timedelta | None) -> None:
        if value is not None and (not isinstance(value, timedelta) or value <= timedelta(0)):
            raise InvalidMessageError(
                "validity must be a positive timedelta", field="validity", value=value
            )

    @max_parts.validator
    def _check_max_parts(self, _a: attrs.Attribute[Any], value: int | None) -> None:
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise InvalidMessageError(
                "max_parts must be a positive integer", field="max_parts", value=value
            )


_DEFAULT_OPTIONS = SendOptions()


def _to_tuple(value: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (_check_number("to", value),)
    if isinstance(value, bytes | bytearray):
        raise InvalidMessageError("to must be text, not bytes", field="to", value=value)
    try:
        items = tuple(value)
    except TypeError:
        raise InvalidMessageError(
            f"to must be a number or a sequence of numbers, not {type(value).__name__}",
            field="to",
            value=value,
        ) from None
    return tuple(_check_number("to", item) for item in items)


@attrs.frozen(slots=True)
class Message:
    """One text to one or more recipients.

    Args:
        to: A phone number or a sequence of them, as the user has them; the bridge
            normalises each to E.164 and fails invalid ones individually.
        body: The text. Never pre-encoded bytes; never empty.
        sender: Sender id (alphanumeric up to 11 characters, or a number). ``None`` uses
            the provider account's default.
        reference: The client reference used for idempotency and for finding the
            message again. Generated by the bridge when not given.
        options: Scheduling, validity and the other :class:`SendOptions`.
        template: The template ``body`` was rendered from, if any. Platforms that send
            only pre-approved templates (Huawei) send the template and its values
            instead of the text; everyone else sends ``body``.
        variables: The values ``body`` was rendered with.

    Raises:
        InvalidMessageError: For an empty body, a body that is not text, no recipients,
            a malformed sender or reference, or a body or variable value holding a
            lone surrogate or a control character other than tab, newline, carriage
            return and form feed (see :func:`check_text`).
    """

    to: tuple[str, ...] = attrs.field(converter=_to_tuple)
    body: str = attrs.field(validator=_check_text)
    sender: str | None = attrs.field(default=None)
    reference: str | None = attrs.field(default=None, validator=_check_reference)
    options: SendOptions = attrs.field(default=_DEFAULT_OPTIONS, kw_only=True)
    template: Template | None = attrs.field(default=None, kw_only=True)
    variables: Mapping[str, Any] = attrs.field(
        default=_EMPTY, converter=_readonly, kw_only=True, validator=_check_variables
    )

    @to.validator
    def _check_to(self, _a: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
        if not value:
            raise InvalidMessageError(
                "a message needs at least one recipient", field="to", value=()
            )

    @body.validator
    def _check_body(self, _a: attrs.Attribute[Any], value: str) -> None:
        if value == "":
            raise InvalidMessageError("the message body is empty", field="body", value="")

    @sender.validator
    def _check_sender(self, _a: attrs.Attribute[Any], value: str | None) -> None:
        _validate_sender(value)

    @property
    def recipient(self) -> str:
        """The single recipient; raises for a multi-recipient message."""
        if len(self.to) != 1:
            raise InvalidMessageError(
                "this message has several recipients", field="to", value=len(self.to)
            )
        return self.to[0]


def _validate_sender(value: str | None) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value.strip():
        raise InvalidMessageError("sender must be non-empty text", field="sender", value=value)
    check_text(value, "sender")
    digits = value.lstrip("+")
    if digits.isdigit():
        if len(digits) > 16:
            raise InvalidMessageError(
                "a numeric sender has at most 16 digits", field="sender", value=value
            )
    elif len(value) > 11:
        raise InvalidMessageError(
            "an alphanumeric sender has at most 11 characters", field="sender", value=value
        )


@attrs.frozen(slots=True)
class Template:
    """Text with named placeholders, ``{name}``; ``{{`` and ``}}`` are literal braces.

    Args:
        text: The template text.
        provider_ids: For platforms that send only pre-approved templates (Huawei), the
            approved template id per provider name.

    Raises:
        InvalidMessageError: For empty text, an unmatched brace, or text refused by
            :func:`check_text`.
    """

    text: str = attrs.field(validator=_check_text)
    provider_ids: Mapping[str, str] = attrs.field(default=_EMPTY, converter=_readonly, kw_only=True)
    variables: tuple[str, ...] = attrs.field(init=False)

    @text.validator
    def _check(self, _a: attrs.Attribute[Any], value: str) -> None:
        if not value:
            raise InvalidMessageError("the template text is empty", field="template", value="")
        for match in _PLACEHOLDER_RE.finditer(value):
            if match.group(0) in ("{", "}"):
                raise InvalidMessageError(
                    f"unmatched {match.group(0)!r} at index {match.start()} "
                    "(write {{ or }} for a literal brace)",
                    field="template",
                    value=value,
                )

    @variables.default
    def _variables(self) -> tuple[str, ...]:
        names: dict[str, None] = {}
        for match in _PLACEHOLDER_RE.finditer(self.text):
            if match.group(1):
                names[match.group(1)] = None
        return tuple(names)

    def render(self, variables: Mapping[str, Any], *, recipient: str | None = None) -> str:
        """Fill the placeholders.

        Args:
            variables: Values by placeholder name; extra names are ignored.
            recipient: Named in the error when a variable is missing.

        Raises:
            TemplateError: Naming the recipient and the variable that is missing or
                whose value :func:`check_text` refuses.
        """

        def fill(match: re.Match[str]) -> str:
            piece = match.group(0)
            if piece == "{{":
                return "{"
            if piece == "}}":
                return "}"
            name = match.group(1)
            if name not in variables or variables[name] is None:
                who = f" for {recipient}" if recipient else ""
                raise TemplateError(
                    f"template variable {name!r} is missing{who}",
                    variable=name,
                    recipient=recipient,
                    value=name,
                )
            value = str(variables[name])
            problem = _bad_char(value)
            if problem is not None:
                who = f" for {recipient}" if recipient else ""
                raise TemplateError(
                    f"template variable {name!r}{who} holds {problem}",
                    variable=name,
                    recipient=recipient,
                    field=f"variables.{name}",
                    value=ascii(value[:80]),
                )
            return value

        body = _PLACEHOLDER_RE.sub(fill, self.text)
        if not body:
            raise TemplateError(
                "the rendered message is empty", recipient=recipient, field="body", value=""
            )
        return body


@attrs.frozen(slots=True)
class Recipient:
    """One addressee of a :class:`Batch`, with its template variables.

    Args:
        number: The phone number as given.
        variables: Template values for this recipient.
        reference: Its client reference; generated by the bridge when not given.
    """

    number: str = attrs.field()
    variables: Mapping[str, Any] = attrs.field(default=_EMPTY, converter=_readonly)
    reference: str | None = attrs.field(default=None, validator=_check_reference)

    @number.validator
    def _check(self, _a: attrs.Attribute[Any], value: object) -> None:
        # An empty or malformed number is not refused here: in a batch it must fail as
        # that recipient's result, not abort the iteration over everyone else.
        if not isinstance(value, str):
            raise InvalidMessageError(
                f"a phone number must be a str, not {type(value).__name__}",
                field="number",
                value=value,
            )


RecipientItem: TypeAlias = "Recipient | str | Mapping[str, Any]"
RecipientSource: TypeAlias = "Iterable[RecipientItem] | Callable[[], Iterable[RecipientItem]]"


def _as_recipient(item: Recipient | str | Mapping[str, Any]) -> Recipient:
    if isinstance(item, Recipient):
        return item
    if isinstance(item, str):
        return Recipient(item)
    if isinstance(item, Mapping):
        data = dict(item)
        number = data.pop("to", None) or data.pop("number", None) or ""
        reference = data.pop("reference", None) or None
        return Recipient(str(number), data, reference)
    raise InvalidMessageError(
        f"a recipient is a number, a Recipient or a mapping, not {type(item).__name__}",
        field="recipients",
        value=item,
    )


@attrs.frozen(slots=True)
class Batch:
    """Many recipients and either one body or a :class:`Template`.

    A recipient whose template values are refused (missing, or holding a lone surrogate
    or a control character, see :func:`check_text`) fails alone: it is that recipient's
    ``REJECTED`` result, and the others are sent.

    A batch holds a *source* of recipients, never a list of them: iterating a batch of a
    million recipients creates them one at a time. Pass a zero-argument callable (or use
    :meth:`from_csv`) for a source that can be iterated more than once, e.g. to quote a
    campaign and then send it.

    Args:
        recipients: An iterable of numbers, :class:`Recipient` objects or mappings with
            ``to`` plus variables; or a callable returning such an iterable.
        body: The shared text (exclusive with ``template``).
        template: The template rendered per recipient (exclusive with ``body``).
        sender: Sender id for every message.
        reference: Prefix for generated per-recipient references.
        options: Shared :class:`SendOptions`.

    Raises:
        InvalidMessageError: When neither or both of ``body`` and ``template`` are given,
            or the body is empty.
    """

    recipients: RecipientSource = attrs.field()
    body: str | None = attrs.field(default=None, kw_only=True)
    template: Template | None = attrs.field(default=None, kw_only=True)
    sender: str | None = attrs.field(default=None, kw_only=True)
    reference: str | None = attrs.field(default=None, kw_only=True, validator=_check_reference)
    options: SendOptions = attrs.field(default=_DEFAULT_OPTIONS, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if (self.body is None) == (self.template is None):
            raise InvalidMessageError(
                "a batch needs exactly one of body or template", field="body", value=None
            )
        if self.body is not None:
            _check_text(self, attrs.fields(Batch).body, self.body)
            if not self.body:
                raise InvalidMessageError("the message body is empty", field="body", value="")
        if isinstance(self.recipients, str | bytes):
            raise InvalidMessageError(
                "recipients must be an iterable of numbers, not a single string",
                field="recipients",
                value=self.recipients,
            )
        _validate_sender(self.sender)

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        *,
        number_column: str = "to",
        body: str | None = None,
        template: Template | None = None,
        **kwargs: Any,
    ) -> Batch:
        """A batch whose recipients are read lazily from a CSV file on each iteration.

        The file needs a header row with ``number_column`` (default ``to``); other
        columns become template variables, and a ``reference`` column, if present,
        becomes the recipient's client reference.
        """
        source = Path(path)

        def rows() -> Iterator[Recipient]:
            with source.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                if reader.fieldnames is None or number_column not in reader.fieldnames:
                    raise InvalidMessageError(
                        f"{source}: no {number_column!r} column in the header",
                        field="recipients",
                        value=reader.fieldnames,
                    )
                for row in reader:
                    number = (row.pop(number_column, None) or "").strip()
                    reference = (row.pop("reference", None) or "").strip() or None
                    yield Recipient(number, row, reference)

        return cls(rows, body=body, template=template, **kwargs)

    def __iter__(self) -> Iterator[Recipient]:
        source = self.recipients() if callable(self.recipients) else self.recipients
        for item in source:
            # The common item, a Recipient, is passed on without a call.
            yield item if item.__class__ is Recipient else _as_recipient(item)

    @property
    def shared_body(self) -> bool:
        """True when every recipient gets the same text."""
        return self.body is not None

    def render(self, recipient: Recipient) -> str:
        """The text this recipient receives.

        Raises:
            TemplateError: When the recipient lacks a template variable.
        """
        if self.body is not None:
            return self.body
        assert self.template is not None
        return self.template.render(recipient.variables, recipient=recipient.number)
