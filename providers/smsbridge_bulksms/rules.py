"""The ``send_batch`` document's rules for each message's settings, checked per row.

The gateway "tries to parse as much valid data as it can": an invalid value is ignored
or truncated, an invalid line dropped, and the answer still says IN_PROGRESS. A message
would then go on another route, as a flash SMS, with a cut accounting id, or from a reply
number instead of its sender, without anyone being told. So each value is checked here,
before anything is sent, and a row that breaks a rule is refused alone, naming the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from smsbridge import InvalidMessageError, SendOptions
from smsbridge.sdk import provider_extras, relevant_extras

__all__ = [
    "KNOWN_EXTRAS",
    "MAX_8BIT_OCTETS",
    "RAW_RESERVED",
    "ROUTING_GROUPS",
    "SOURCE_ID_MAX",
    "extras_for",
    "request_extras",
]

PROVIDER = "bulksms"
#: Routing groups an account may name (1 economy, 2 standard, 3 premium); the document
#: lists 2 as today's default and warns the set may change.
ROUTING_GROUPS = ("1", "2", "3")
#: ``source_id`` is at most 20 characters.
SOURCE_ID_MAX = 20
#: An 8-bit message is at most 140 octets (the UDHI is always set).
MAX_8BIT_OCTETS = 140
#: The options a message's ``SendOptions.extra`` may carry for BulkSMS.
KNOWN_EXTRAS = frozenset(
    {"routing_group", "source_id", "repliable", "msg_class", "dca", "want_report"}
    | {"scheduling_description"}
)
#: Parameters the provider writes itself: ``SendOptions.raw["bulksms"]`` may not name them.
RAW_RESERVED = frozenset(
    {
        "username",
        "password",
        "batch_data",
        "msisdn",
        "message",
        "sender",
        "stop_dup_id",
        "send_time",
        "send_time_unixtime",
        "send_time_seconds",
        "test_always_succeed",
        "test_always_fail",
        "allow_concat_text_sms",
        "concat_text_sms_max_parts",
        "cost_route",
    }
    | KNOWN_EXTRAS
)


def _bad(name: str, value: object, why: str) -> InvalidMessageError:
    return InvalidMessageError(
        f"BulkSMS {name} {why}", field=f"extra.{name}", value=value, provider=PROVIDER
    )


def _flag(name: str, value: object) -> str:
    if isinstance(value, bool):
        return str(int(value))
    # Exact types only: a Decimal signalling NaN would raise on comparison.
    if type(value) in (int, str) and value in (0, 1, "0", "1"):
        return str(value)
    raise _bad(name, value, "is 0 or 1")


def _routing_group(name: str, value: object) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if text not in ROUTING_GROUPS:
        raise _bad(name, value, f"is one of {', '.join(ROUTING_GROUPS)}")
    return str(text)


def _msg_class(name: str, value: object) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if text not in ("0", "2"):
        raise _bad(name, value, "is 0 (flash) or 2 (normal)")
    return str(text)


def _source_id(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise _bad(name, value, "is text")
    if len(value) > SOURCE_ID_MAX:
        raise _bad(name, value, f"is at most {SOURCE_ID_MAX} characters, not {len(value)}")
    if not value.isprintable() or any(ord(ch) > 0xFF for ch in value):
        raise _bad(name, value, "is printable ISO-8859-1 text")
    return value


def _dca(name: str, value: object) -> str:
    if value != "8bit":
        raise _bad(
            name,
            value,
            "is '8bit' here; 7bit and 16bit follow from the text (SendOptions.encoding forces one)",
        )
    return value


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.isprintable():
        raise _bad(name, value, "is printable text")
    return value


_CHECKS: Mapping[str, Callable[[str, object], str]] = {
    "routing_group": _routing_group,
    "msg_class": _msg_class,
    "source_id": _source_id,
    "repliable": _flag,
    "dca": _dca,
    "want_report": _flag,
    "scheduling_description": _text,
}


def extras_for(sender: str | None, options: SendOptions) -> dict[str, str]:
    """A message's BulkSMS options, checked, as wire values.

    Raises:
        InvalidMessageError: An option BulkSMS does not know, a value the document does
            not allow, ``repliable`` together with a ``sender`` (the document calls them
            incompatible), or a raw parameter the provider sets itself.
    """
    given = provider_extras(options, provider=PROVIDER, known=KNOWN_EXTRAS)
    out = {name: _CHECKS[name](name, value) for name, value in given.items()}
    if out.get("repliable") == "1" and sender is not None:
        raise _bad(
            "repliable",
            given["repliable"],
            f"cannot go with a sender ({sender!r}): replies come to a number of BulkSMS's",
        )
    for name in options.raw.get(PROVIDER, {}):
        if name in RAW_RESERVED:
            raise InvalidMessageError(
                f"{name!r} is set by the bulksms provider itself; pass it as an option",
                field=f"raw.{PROVIDER}.{name}",
                value=name,
                provider=PROVIDER,
            )
    return out


def request_extras(options: SendOptions) -> dict[str, Any]:
    """The request-level options as given (unchecked; never raises), scoped names
    winning: for grouping rows into requests, which must not fail."""
    plain: dict[str, Any] = {}
    scoped: dict[str, Any] = {}
    for key, value in relevant_extras(options, provider=PROVIDER).items():
        if not isinstance(key, str):
            continue  # refused by extras_for before anything is sent
        _scope, dot, name = key.partition(".")
        if dot:
            scoped[name] = value
        else:
            plain[key] = value
    return {**plain, **scoped}
