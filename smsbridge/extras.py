"""Provider-specific options: which ``SendOptions.extra`` names a provider takes.

An option dropped without a word sends a message without the routing, feature or cost
cap its sender asked for (a misspelt ``routng_group``, a name another provider takes).
So every provider reads its options through :func:`provider_extras`, which refuses a
name the provider does not know, before anything is sent, with an error naming it. The
rules:

* ``"name"`` is meant for every provider that sends the message: each must know it.
* ``"provider.name"`` is meant for that provider only; every other provider skips it
  (so one message can carry options for each provider of a failover route).
* Names starting with ``smsbridge_`` are the bridge's own bookkeeping; skipped.
* A parameter smsbridge does not know at all goes in ``SendOptions.raw`` instead, per
  provider, and is sent exactly as given (:func:`raw_params`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from smsbridge.errors import InvalidMessageError
from smsbridge.model import SendOptions

__all__ = [
    "BRIDGE_PREFIX",
    "LEGACY_SCOPED",
    "extras_key",
    "provider_extras",
    "raw_params",
    "relevant_extras",
]

BRIDGE_PREFIX = "smsbridge_"
"""Extra names the bridge itself keeps in ``SendOptions.extra`` (templates, task pins)."""

LEGACY_SCOPED: Mapping[str, str] = {
    "huawei_template_id": "huawei",
    "huawei_template_params": "huawei",
}
"""Names documented before scoping existed, and the one provider each belongs to."""


# The last key computed: rows of one batch share one options object, and request keys are
# computed for every row. One tuple, replaced whole, so concurrent readers see a
# consistent entry.
_last_key: tuple[SendOptions, str, tuple[tuple[str, str], ...]] | None = None


def _scope(key: str) -> tuple[str | None, str]:
    if not isinstance(key, str):
        return None, key  # refused by provider_extras: option names are text
    if key in LEGACY_SCOPED:
        return LEGACY_SCOPED[key], key
    scope, dot, name = key.partition(".")
    return (scope, name) if dot else (None, key)


def relevant_extras(options: SendOptions, *, provider: str) -> dict[str, Any]:
    """The ``extra`` entries ``provider`` must look at (unchecked), by their keys as given.

    Skips the bridge's own names and names scoped to other providers; never raises, so
    grouping code (request keys) can use it on any message.
    """
    out: dict[str, Any] = {}
    for key, value in options.extra.items():
        if isinstance(key, str) and key.startswith(BRIDGE_PREFIX):
            continue
        scope, _name = _scope(key)
        if scope is None or scope == provider:
            out[key] = value
    return out


def provider_extras(
    options: SendOptions, *, provider: str, known: Collection[str]
) -> dict[str, Any]:
    """The ``extra`` options meant for ``provider``, by their plain names.

    ``None`` values count as not given. A scoped name wins over the same plain name.

    Args:
        options: The message's options.
        provider: The provider's registered name.
        known: The option names the provider takes.

    Returns:
        Option values by name (only names in ``known``).

    Raises:
        InvalidMessageError: ``field`` is ``extra.<name>`` for the first name the
            provider does not know; the message says how to scope or pass it raw.
    """
    plain: dict[str, Any] = {}
    scoped: dict[str, Any] = {}
    for key, value in relevant_extras(options, provider=provider).items():
        scope, name = _scope(key)
        if name not in known:
            raise InvalidMessageError(
                f"{provider} does not know the option {name!r} "
                f"(it knows: {', '.join(sorted(known)) or 'none'}); write "
                f"'<provider>.{name}' for an option of another provider, or pass a wire "
                f"parameter smsbridge does not know in SendOptions.raw[{provider!r}]",
                field=f"extra.{key}",
                value=key,
                provider=provider,
            )
        if value is not None:
            (plain if scope is None else scoped)[name] = value
    plain.update(scoped)
    return plain


def raw_params(
    options: SendOptions, *, provider: str, reserved: Collection[str]
) -> list[tuple[str, str]]:
    """The raw wire parameters for ``provider``, in the order given.

    Args:
        options: The message's options.
        provider: The provider's registered name.
        reserved: Parameter names the provider sets itself (credentials, destinations,
            text, and every option it knows): a raw value must not replace them.

    Raises:
        InvalidMessageError: ``field`` is ``raw.<provider>.<name>`` for a reserved name.
    """
    params = options.raw.get(provider)
    if not params:
        return []
    for name in params:
        if name in reserved:
            raise InvalidMessageError(
                f"{name!r} is set by the {provider} provider itself; pass it as an option "
                "(SendOptions.extra or the message's own fields), not raw",
                field=f"raw.{provider}.{name}",
                value=name,
                provider=provider,
            )
    return list(params.items())


def extras_key(options: SendOptions, *, provider: str) -> tuple[tuple[str, str], ...]:
    """A hashable summary of the ``extra`` and raw values ``provider`` reads, for
    request keys: rows whose summaries differ never share a request (or a refusal).

    Values are summarised by their ``repr`` (they need not hash). Never raises.
    """
    global _last_key
    last = _last_key
    if last is not None and last[0] is options and last[1] == provider:
        return last[2]
    key: tuple[tuple[str, str], ...] = ()
    if options.extra:
        mine = relevant_extras(options, provider=provider)
        key = tuple(sorted((str(name), repr(value)) for name, value in mine.items()))
    if provider in options.raw:
        key += (("raw", repr(list(options.raw[provider].items()))),)
    _last_key = (options, provider, key)
    return key
