"""Template variables and length rules of Huawei MSGSMS, shared by provider and emulator.

Huawei sends only approved templates: fixed text with ``${...}`` variables that are filled
positionally from ``templateParas``. Each variable has an *attribute* chosen at approval
(PHONE, CHARDIGIT, DATETIME, MONEY, TEXT, or the default of a positional ``${1}``) that
decides its length and characters; international templates use ``${NUM_n}`` (digits, at
most ``n``). Billing counts parts of the *filled* text; for the Chinese mainland the
signature, brackets included, is counted too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from smsbridge import UCS2, Template, TemplateError, segment

__all__ = [
    "ATTRIBUTES",
    "CHINESE_MAINLAND",
    "INTERNATIONAL",
    "MAX_VARIABLES",
    "attribute_for_name",
    "check_value",
    "counted_text",
    "fill",
    "parts_for",
    "placeholders",
    "region_of",
    "validate_params",
]

CHINESE_MAINLAND = "CN"
INTERNATIONAL = "INTL"
MAX_VARIABLES = 20

DEFAULT = "DEFAULT"
ATTRIBUTES = ("PHONE", "CHARDIGIT", "DATETIME", "MONEY", "TEXT", DEFAULT)
"""The variable attributes; ``NUM_<n>`` (international) is accepted besides these."""

_PLACEHOLDER_RE = re.compile(r"\$\{([A-Za-z0-9_]{1,32})\}")
_NUM_RE = re.compile(r"^NUM_([0-9]{1,2})$")
_PHONE_RE = re.compile(r"^[0-9+\-]{3,14}[0-9]$")
_CHARDIGIT_RE = re.compile(r"^[A-Za-z0-9_]{1,20}$")
_DATETIME_RE = re.compile(
    r"^(?:[0-9]{8}|[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}/[0-9]{2}/[0-9]{2}"
    r"|[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日|[0-9]{2}:[0-9]{2}(?::[0-9]{2})?"
    r"|[0-9]{1,2}点[0-9]{1,2}分)$"
)
_MONEY_RE = re.compile(r"^[0-9.零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟]{1,20}$")
_TEXT_FORBIDDEN = frozenset(".。'<>{}")
# Every variable: the platform cannot carry these (E200028 / E000503).
_ALWAYS_FORBIDDEN = frozenset("'{}")
_URL_RE = re.compile(r"(?i)https?:|www\.")


def placeholders(text: str) -> list[str]:
    """The attribute of each ``${...}`` variable of a Huawei template text, in order.

    ``${1}``..``${20}`` and unknown labels get the default rule; ``${TEXT}`` etc. their
    attribute; ``${NUM_6}`` stays ``NUM_6``.
    """
    result = []
    for label in _PLACEHOLDER_RE.findall(text):
        upper = label.upper()
        result.append(upper if upper in ATTRIBUTES or _NUM_RE.match(upper) else DEFAULT)
    return result


def attribute_for_name(name: str) -> str:
    """The attribute implied by an smsbridge variable name (``phone``, ``money_total``...).

    A name equal to an attribute, or starting with it followed by ``_`` or a digit, takes
    that attribute; ``num_6`` means ``NUM_6``; any other name gets the default rule.
    """
    upper = name.upper()
    if _NUM_RE.match(upper):
        return upper
    for attribute in ATTRIBUTES:
        if upper == attribute or re.match(rf"^{attribute}(?:_|[0-9])", upper):
            return attribute
    return DEFAULT


def check_value(attribute: str, value: str) -> str | None:
    """Why ``value`` is not acceptable for a variable of ``attribute``, or None.

    Args:
        attribute: One of :data:`ATTRIBUTES` or ``NUM_<n>``.
        value: The filled value.

    Returns:
        A short reason, or None when the value passes.
    """
    if not value:
        return "must not be empty"
    bad = sorted(set(value) & _ALWAYS_FORBIDDEN)
    if bad:
        return f"must not contain {' '.join(bad)}"
    number = _NUM_RE.match(attribute)
    if number:
        limit = int(number.group(1))
        if not value.isascii() or not value.isdigit() or len(value) > limit:
            return f"must be at most {limit} digits"
        return None
    if attribute == "PHONE":
        if not _PHONE_RE.match(value):
            return "must be 4-15 of digits, + and -, ending with a digit"
        return None
    if len(value) > 20:
        return "must be at most 20 characters"
    if attribute == "CHARDIGIT" and not _CHARDIGIT_RE.match(value):
        return "must be letters, digits and _ only"
    if attribute == "DATETIME" and not _DATETIME_RE.match(value):
        return "must be one date (yyyyMMdd, yyyy-MM-dd, yyyy/MM/dd) or one time (HH:mm[:ss])"
    if attribute == "MONEY" and not _MONEY_RE.match(value):
        return "must be digits, . or Chinese numerals"
    if attribute == "TEXT":
        bad = sorted(set(value) & _TEXT_FORBIDDEN)
        if bad:
            return f"must not contain {' '.join(bad)}"
        if _URL_RE.search(value):
            return "must not contain a URL"
    return None


def validate_params(
    names: Sequence[str],
    attributes: Sequence[str],
    values: Sequence[str],
    *,
    recipient: str | None = None,
) -> None:
    """Check a recipient's template values before anything is sent.

    Args:
        names: Variable names, for the error (``${1}``-style names when unnamed).
        attributes: The attribute of each variable.
        values: The values in template order.
        recipient: The number, named in the error.

    Raises:
        TemplateError: Naming the first offending variable (or the count mismatch).
    """
    who = f" for {recipient}" if recipient else ""
    if len(values) != len(attributes):
        raise TemplateError(
            f"the template has {len(attributes)} variable(s) but {len(values)} value(s) "
            f"were given{who}",
            recipient=recipient,
            value=len(values),
        )
    for name, attribute, value in zip(names, attributes, values, strict=True):
        reason = check_value(attribute, value)
        if reason:
            raise TemplateError(
                f"template variable {name!r} ({attribute}){who} {reason}",
                variable=name,
                recipient=recipient,
                value=value,
            )


def fill(text: str, params: Sequence[str]) -> str:
    """Fill a Huawei ``${...}`` template positionally (missing values fill as empty)."""
    values = iter(params)
    return _PLACEHOLDER_RE.sub(lambda _m: next(values, ""), text)


def region_of(number: str) -> str:
    """:data:`CHINESE_MAINLAND` for a ``+86`` number, else :data:`INTERNATIONAL`."""
    return CHINESE_MAINLAND if number.lstrip("+").startswith("86") else INTERNATIONAL


def counted_text(
    template: Template | str,
    params: Sequence[str] | Mapping[str, object],
    signature: str | None,
    region: str,
) -> str:
    """The text Huawei counts for billing: the filled template, plus for the Chinese
    mainland the signature in 【】 brackets in front of it."""
    if isinstance(template, Template):
        if isinstance(params, Mapping):
            variables = dict(params)
        else:
            variables = dict(zip(template.variables, params, strict=False))
        text = template.render(variables)
    else:
        seq = [str(v) for v in params.values()] if isinstance(params, Mapping) else params
        text = fill(template, seq)
    if region == CHINESE_MAINLAND and signature:
        mark = signature if signature.startswith("【") else f"【{signature}】"
        text = mark + text
    return text


def _split(count: int, single: int, multi: int) -> int:
    if count <= single:
        return 1
    return math.ceil(count / multi)


def parts_for(
    template: Template | str,
    params: Sequence[str] | Mapping[str, object],
    signature: str | None,
    region: str,
    *,
    encoding: str | None = None,
) -> int:
    """How many billed parts a filled template makes (the spec's length rules).

    Chinese mainland: every character (Chinese, letter, digit, punctuation, space) counts
    1, signature included; 70 fit one SMS, 67 per part beyond. International: GSM-7
    text by septets (160 / 153); any other text counts each character once (70 / 67).

    Args:
        template: An smsbridge :class:`~smsbridge.Template` (``{name}``) or a Huawei
            template text (``${1}``).
        params: Values, positional or by name.
        signature: The signature name (Chinese mainland), with or without 【】.
        region: :data:`CHINESE_MAINLAND` or :data:`INTERNATIONAL`.
        encoding: Force ``"UCS-2"``/``"GSM-7"`` for international text.

    Raises:
        TemplateError: A named variable is missing.
        ValueError: GSM-7 was forced on text it cannot carry.
    """
    text = counted_text(template, params, signature, region)
    if region == CHINESE_MAINLAND:
        return _split(len(text), 70, 67)
    seg = segment(text, encoding=encoding)
    if seg.encoding == UCS2:
        return _split(len(seg.text), 70, 67)
    return len(seg.parts)
