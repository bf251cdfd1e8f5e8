"""What ``smsbridge.toml`` may hold, and its validation, reporting every problem with its line.

:class:`ProviderConfig` and :class:`Routing` are the file's tables; :mod:`smsbridge.config`
finds and loads the file with them.

:mod:`tomllib` gives values but no positions, so :class:`LineIndex` scans the text once
for table headers (``[routing]``, ``[providers.clickatell]``) and ``key =`` lines and
remembers where each dotted key path first appears. A problem is reported at its key's
line, else at its table's header, else at the nearest enclosing table, else at line 1.
The scan understands comments, quoted and dotted keys, and skips the inside of
multi-line strings; keys inside inline tables (``x = {a = 1}``) get the line of ``x``.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs

from smsbridge.credentials import Secret, secret_converter
from smsbridge.errors import ConfigurationError, SmsBridgeError
from smsbridge.plugins import LoadedPlugins
from smsbridge.provider import Provider
from smsbridge.router import Delivery, RetryPolicy

__all__ = [
    "POLICIES",
    "LineIndex",
    "Problem",
    "ProviderConfig",
    "Routing",
    "check_data",
    "check_text",
    "resolve_store",
]

#: Routing policies a configuration file may name.
POLICIES = ("priority", "weighted", "least-cost")
"""Routing policy names accepted in ``[routing] policy``."""

_TOP_KEYS = frozenset(
    {"region", "store", "prices", "strict_numbers", "routing", "providers", "receiver"}
)
_ROUTING_KEYS = frozenset({"policy", "weights", "retry", "delivery", "max_wait"})
_RETRY_KEYS = frozenset(f.name for f in attrs.fields(RetryPolicy))
_ENV_SUFFIX = "_env"
_VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_HEADER_RE = re.compile(r"^\[\[?\s*(?P<key>[^\[\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY_RE = re.compile(
    r"""^(?P<key>(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_TOML_LINE_RE = re.compile(r"line (\d+)")


@attrs.frozen
class Problem:
    """One problem of a configuration file.

    Args:
        line: 1-based line it is on (the key's, or its table's).
        key: The dotted key path (``"providers.clickatell.password_env"``), or ``""``.
        message: What is wrong, naming the key; never a credential's value.
    """

    line: int
    key: str
    message: str


def _readonly(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@attrs.frozen(kw_only=True)
class ProviderConfig:
    """One configured provider.

    Args:
        name: The entry's name (``[providers.NAME]``); unique in a configuration.
        type: The registered provider name; defaults to ``name``.
        options: The provider's options, with environment values already filled in;
            credentials are :class:`~smsbridge.Secret` objects.
    """

    name: str
    type: str = attrs.field()
    options: Mapping[str, Any] = attrs.field(factory=dict, converter=_readonly)

    @type.default
    def _type(self) -> str:
        return self.name


def _delivery(value: Delivery | str) -> Delivery:
    return value if isinstance(value, Delivery) else Delivery(value)


def _weights(value: Mapping[str, float] | None) -> Mapping[str, float]:
    return MappingProxyType({k: float(v) for k, v in (value or {}).items()})


@attrs.frozen(kw_only=True)
class Routing:
    """How messages are routed among the configured providers.

    Args:
        policy: ``"priority"`` (configured order), ``"weighted"`` or ``"least-cost"``.
        weights: Provider entry name → weight, for ``weighted``; unnamed ones weigh 1.
        retry: Attempt budget and backoff for transient failures.
        delivery: ``at-most-once`` (report unknown outcomes) or ``at-least-once``.
        max_wait: Longest total time one send sleeps between retries, in seconds.
    """

    policy: str = attrs.field(default="priority", validator=attrs.validators.in_(POLICIES))
    weights: Mapping[str, float] = attrs.field(factory=dict, converter=_weights)
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    delivery: Delivery = attrs.field(default=Delivery.AT_MOST_ONCE, converter=_delivery)
    max_wait: float = 10.0


def _split_key(text: str) -> tuple[str, ...]:
    parts: list[str] = []
    for match in re.finditer(r'"([^"]*)"|\'([^\']*)\'|([^.\s]+)', text):
        parts.append(next(g for g in match.groups() if g is not None))
    return tuple(parts)


class LineIndex:
    """Where each table header and dotted key path first appears in TOML text."""

    def __init__(self, text: str) -> None:
        self._lines: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        in_string: str | None = None
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if in_string is not None:
                # A multi-line string's content may look like a key; skip to its end.
                if line.count(in_string) % 2 == 1:
                    in_string = None
                continue
            if not line or line.startswith("#"):
                continue
            header = _HEADER_RE.match(line)
            if header:
                table = _split_key(header.group("key"))
                self._lines.setdefault(table, number)
                continue
            key = _KEY_RE.match(line)
            if key:
                self._lines.setdefault(table + _split_key(key.group("key")), number)
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    in_string = quote

    def line(self, *path: str) -> int:
        """The line of ``path``, or of its closest enclosing table; 1 if none is found."""
        for end in range(len(path), 0, -1):
            found = self._lines.get(path[:end])
            if found is not None:
                return found
        return 1


def _suggest(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the nearest choice to a misspelt key, else ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class _Checker:
    """Collects problems while turning parsed TOML into configuration values."""

    def __init__(self, index: LineIndex | None, *, literal_secrets: bool = False) -> None:
        self.index = index
        self.literal_secrets = literal_secrets
        self.problems: list[Problem] = []

    def add(self, path: tuple[str, ...], message: str) -> None:
        line = 0 if self.index is None else self.index.line(*path)
        self.problems.append(Problem(line, ".".join(path), message))

    def table(self, value: object, path: tuple[str, ...]) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.add(path, f"{'.'.join(path)} must be a table")
        return None

    def unknown(
        self, data: Mapping[str, Any], known: frozenset[str], path: tuple[str, ...]
    ) -> None:
        for key in data:
            if key not in known:
                where = ".".join(path) or "the top level"
                self.add(
                    (*path, key),
                    f"unknown key {key!r} in {where}; known: {', '.join(sorted(known))}"
                    + _suggest(key, known),
                )

    def at_least(
        self, path: tuple[str, ...], value: float, low: float, *, above: bool = False
    ) -> bool:
        """Check a number's range (finite, ``>= low`` or ``> low``); False after adding
        a problem naming the key and the value."""
        if math.isfinite(value) and (value > low if above else value >= low):
            return True
        bound = f"> {low}" if above else f">= {low}"
        self.add(path, f"{'.'.join(path)} must be a number {bound}, not {value!r}")
        return False

    def typed(
        self,
        data: Mapping[str, Any],
        key: str,
        kinds: tuple[type, ...],
        path: tuple[str, ...],
        what: str,
    ) -> Any:
        value = data.get(key)
        if value is None:
            return None
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            self.add((*path, key), f"{'.'.join((*path, key))} must be {what}")
            return None
        return value


def _interpolate(value: str, environ: Mapping[str, str]) -> tuple[str, list[str]]:
    missing: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            missing.append(name)
            return ""
        return environ[name]

    return _VAR_RE.sub(fill, value), missing


def _is_secret(field: attrs.Attribute[Any]) -> bool:
    converter: object = field.converter
    return converter is secret_converter or field.type in (Secret, "Secret")


def _wrap(field: attrs.Attribute[Any], value: str) -> str | Secret:
    # Credentials are held as Secret from the moment they are read, so no repr of a
    # Config, ProviderConfig or error can show them.
    return Secret(value) if _is_secret(field) else value


_NUMBER_TYPES = {"float": float, "float | None": float, "int": int, "int | None": int}


def _number_problem(field: attrs.Attribute[Any], value: object) -> str | None:
    """What is wrong with a numeric option's value (its type), or ``None``."""
    kind = _NUMBER_TYPES.get(str(field.type))
    if kind is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a number, not {value!r}"
    if kind is int and not isinstance(value, int):
        return f"must be a whole number, not {value!r}"
    if not math.isfinite(value):
        return f"must be a finite number, not {value!r}"
    return None


def _range_problem(field: attrs.Attribute[Any], value: object) -> str | None:
    """The option's own validator run on its value alone, so that every out-of-range
    number is reported at its line, not only the first one the options class meets."""
    if field.validator is None or str(field.type) not in _NUMBER_TYPES:
        return None
    try:
        field.validator(None, field, value)
    except (ValueError, TypeError, SmsBridgeError) as exc:
        return str(exc)
    except AttributeError:
        return None  # a validator that needs the other options; the class checks it
    return None


def _named(message: str, options: Mapping[str, Any]) -> str | None:
    """The option an options-class error is about: the one its message starts with
    (``timeout must be...``) or quotes (attrs' ``'batch_size' must be >= 1``)."""
    for option in options:
        if message.startswith((f"{option} ", f"'{option}'")):
            return option
    return None


def _provider(
    c: _Checker,
    name: str,
    entry: dict[str, Any],
    environ: Mapping[str, str],
    manager: LoadedPlugins,
) -> ProviderConfig | None:
    path = ("providers", name)
    before = len(c.problems)
    kind = entry.get("type", name)
    if not isinstance(kind, str):
        c.add((*path, "type"), f"providers.{name}.type must be a provider name")
        return None
    try:
        cls: type[Provider] = manager.registry.get(kind)
    except ConfigurationError as exc:
        c.add((*path, "type") if "type" in entry else path, str(exc))
        return None
    fields = {f.name: f for f in attrs.fields(cls.options_class)}
    options: dict[str, Any] = {}
    for key, value in entry.items():
        if key == "type":
            continue
        where = (*path, key)
        option = key[: -len(_ENV_SUFFIX)] if key.endswith(_ENV_SUFFIX) else key
        if option not in fields:
            c.add(
                where,
                f"{kind} has no option {key!r}; it accepts {', '.join(sorted(fields))} "
                f"(any of them as NAME{_ENV_SUFFIX} to read it from the environment)"
                + _suggest(option, fields),
            )
            continue
        if option in options or (option != key and option in entry):
            c.add(where, f"{option!r} is given twice in providers.{name}")
            continue
        if option != key:
            if not isinstance(value, str) or not value:
                c.add(where, f"{key} must name an environment variable")
            elif value not in environ:
                c.add(where, f"environment variable {value} ({kind} option {option}) is not set")
            else:
                options[option] = _wrap(fields[option], environ[value])
            continue
        if (problem := _number_problem(fields[key], value)) is not None:
            c.add(where, f"providers.{name}.{key} {problem}")
            continue
        if (problem := _range_problem(fields[key], value)) is not None:
            c.add(where, f"providers.{name}: {problem}")
            continue
        if isinstance(value, str):
            filled, missing = _interpolate(value, environ)
            for var in missing:
                c.add(where, f"environment variable {var} (in {kind} option {key}) is not set")
            if _is_secret(fields[key]) and filled == value and not c.literal_secrets:
                c.add(
                    where,
                    f"credential {key!r} is written in the file; "
                    f'use {key}{_ENV_SUFFIX} = "VARIABLE" to read it from the environment',
                )
            value = _wrap(fields[key], filled)
        options[option] = value
    if len(c.problems) > before:
        return None
    try:
        # Validates types and values without building the provider (no connection pool).
        cls.options_class(**options)
    except TypeError as exc:
        c.add(path, f"providers.{name}: {exc}")
        return None
    except (ValueError, SmsBridgeError) as exc:
        # A range error belongs on its option's line, where the editor shows it.
        named = _named(str(exc), options)
        at = named if named is None or named in entry else f"{named}{_ENV_SUFFIX}"
        c.add(path if at is None else (*path, at), f"providers.{name}: {exc}")
        return None
    return ProviderConfig(name=name, type=kind, options=options)


def _routing(
    c: _Checker, data: dict[str, Any], names: set[str], has_prices: bool
) -> Routing | None:
    path = ("routing",)
    c.unknown(data, _ROUTING_KEYS, path)
    before = len(c.problems)
    kwargs: dict[str, Any] = {}
    policy = c.typed(data, "policy", (str,), path, "a string")
    if policy is not None:
        if policy not in POLICIES:
            c.add(
                (*path, "policy"),
                f"unknown routing policy {policy!r}; use one of {', '.join(POLICIES)}",
            )
        else:
            kwargs["policy"] = policy
            if policy == "least-cost" and not has_prices:
                c.add((*path, "policy"), "routing policy least-cost needs a 'prices' table file")
    delivery = c.typed(data, "delivery", (str,), path, "a string")
    if delivery is not None:
        try:
            kwargs["delivery"] = Delivery(delivery)
        except ValueError:
            allowed = ", ".join(d.value for d in Delivery)
            c.add((*path, "delivery"), f"unknown delivery {delivery!r}; use one of {allowed}")
    wait = c.typed(data, "max_wait", (int, float), path, "a number of seconds")
    if wait is not None and c.at_least((*path, "max_wait"), wait, 0):
        kwargs["max_wait"] = float(wait)
    if "weights" in data and (weights := c.table(data["weights"], (*path, "weights"))) is not None:
        for key, weight in weights.items():
            where = (*path, "weights", key)
            if key not in names:
                c.add(where, f"weight for {key!r}, which is not a configured provider")
            elif (
                isinstance(weight, bool)
                or not isinstance(weight, int | float)
                or not math.isfinite(weight)
                or weight < 0
            ):
                c.add(where, f"the weight of {key!r} must be a number >= 0, not {weight!r}")
        kwargs["weights"] = weights
    if "retry" in data and (retry := c.table(data["retry"], (*path, "retry"))) is not None:
        c.unknown(retry, _RETRY_KEYS, (*path, "retry"))
        values = {k: v for k, v in retry.items() if k in _RETRY_KEYS}
        checked = len(c.problems)
        for key, value in values.items():
            where = (*path, "retry", key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                c.add(where, f"routing.retry.{key} must be a number, not {value!r}")
            elif key == "max_attempts":
                if not isinstance(value, int) or value < 1:
                    c.add(
                        where,
                        f"routing.retry.max_attempts must be a whole number >= 1, not {value!r}",
                    )
            else:
                c.at_least(where, value, 0, above=key == "cap")
        try:
            if len(c.problems) == checked:  # else the problems above already say why
                kwargs["retry"] = RetryPolicy(**values)
        except (TypeError, ValueError) as exc:
            c.add((*path, "retry"), f"routing.retry: {exc}")
    if len(c.problems) > before:
        return None
    return Routing(**kwargs)


def resolve_store(store: str, base: Path) -> str:
    """A configured ``store``: a URL (``scheme://``) as it is, a path relative to the
    configuration file's folder ``base``."""
    return store if "://" in store else str(base / store)


def check_text(
    text: str, *, base: Path, environ: Mapping[str, str], manager: LoadedPlugins
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Validate configuration text.

    Args:
        text: The TOML.
        base: Directory that relative paths are relative to.
        environ: Where ``*_env`` options and ``${VAR}`` are looked up.
        manager: Where provider names are looked up.

    Returns:
        The checked settings (``providers``, ``routing``, ``receiver`` when given, and
        the scalars) and the problems, sorted by line; the settings are ``None`` when
        there is a problem.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE_RE.search(str(exc))
        return None, [Problem(int(found.group(1)) if found else 1, "", f"invalid TOML: {exc}")]
    return _check(_Checker(LineIndex(text)), data, base=base, environ=environ, manager=manager)


def check_data(
    data: Mapping[str, Any],
    *,
    base: Path,
    environ: Mapping[str, str],
    manager: LoadedPlugins,
    literal_secrets: bool = False,
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Validate settings given as a mapping (a framework's settings) the way
    :func:`check_text` validates a file: same keys, same checks, every problem reported.

    Problems have line 0; their :attr:`Problem.key` says where they are.

    Args:
        data: The settings: the keys of ``smsbridge.toml``, tables as mappings.
        base: Directory that relative paths are relative to.
        environ: Where ``*_env`` options and ``${VAR}`` are looked up.
        manager: Where provider names are looked up.
        literal_secrets: Accept credentials given as values. Settings written in Python
            usually read them from the environment themselves (``os.environ[...]``),
            so the file's "credential written in the file" rule does not apply.

    Returns:
        As :func:`check_text`.
    """
    c = _Checker(None, literal_secrets=literal_secrets)
    return _check(c, _plain(data), base=base, environ=environ, manager=manager)


def _plain(value: Any) -> Any:
    """Mappings as dicts, all the way down, as ``tomllib`` would give them."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    return value


def _check(
    c: _Checker,
    data: dict[str, Any],
    *,
    base: Path,
    environ: Mapping[str, str],
    manager: LoadedPlugins,
) -> tuple[dict[str, Any] | None, list[Problem]]:
    c.unknown(data, _TOP_KEYS, ())
    out: dict[str, Any] = {}
    region = c.typed(data, "region", (str,), (), "a two-letter region code")
    if region is not None:
        if len(region) == 2 and region.isalpha():
            out["region"] = region.upper()
        else:
            c.add(("region",), f'region must be a two-letter code like "GB", not {region!r}')
    store = c.typed(data, "store", (str,), (), "a path or URL")
    if store is not None:
        out["store"] = resolve_store(store, base)
    prices = c.typed(data, "prices", (str,), (), "a path to a price table CSV")
    if prices is not None:
        resolved = base / prices
        if not resolved.is_file():
            c.add(("prices",), f"price table {prices!r} does not exist (looked at {resolved})")
        out["prices"] = resolved
    strict = c.typed(data, "strict_numbers", (bool,), (), "true or false")
    if strict is not None:
        out["strict_numbers"] = strict
    providers: list[ProviderConfig] = []
    section = data.get("providers")
    if section is None:
        c.add(("providers",), "no providers: add a [providers.NAME] table")
    elif (entries := c.table(section, ("providers",))) is not None:
        for name, entry in entries.items():
            body = c.table(entry, ("providers", name))
            if body is not None:
                built = _provider(c, name, body, environ, manager)
                if built is not None:
                    providers.append(built)
    out["providers"] = providers
    routing = Routing()
    if "routing" in data and (table := c.table(data["routing"], ("routing",))) is not None:
        names = set(section) if isinstance(section, dict) else set()
        routing = _routing(c, table, names, "prices" in data) or routing
    out["routing"] = routing
    if "receiver" in data and (table := c.table(data["receiver"], ("receiver",))) is not None:
        # Imported here: the receiver's modules are not needed to send.
        from smsbridge.reports.settings import check_receiver

        kinds = {entry.name: entry.type for entry in providers}
        out["receiver"] = check_receiver(
            table, providers=kinds, environ=environ, add=c.add, literal_secrets=c.literal_secrets
        )
    problems = sorted(c.problems, key=lambda p: p.line)
    return (None if problems else out), problems
