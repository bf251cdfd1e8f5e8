"""The ``[receiver]`` section of ``smsbridge.toml``: where and how reports are received.

``smsbridge serve-reports`` reads the same file as every other command; the receiver's
own settings live in their section::

    [receiver]
    host = "0.0.0.0"          # 127.0.0.1 by default
    port = 8080
    request_timeout = 10      # seconds for a whole request: line, headers and body
    max_clients = 64          # connections served at once; more are answered 503
    grace = 2                 # seconds a stop lets requests in progress finish
    max_body_bytes = 65536

    [receiver.auth.clickatell]          # a [providers.NAME] entry: served at /TYPE
    username_env = "CLICKATELL_CALLBACK_USER"
    password_env = "CLICKATELL_CALLBACK_PASSWORD"

    [receiver.auth.huawei]
    token_env = "HUAWEI_REPORT_TOKEN"   # served at /huawei/<token>

    [receiver.auth.bulksms]
    none = true                         # only behind an authenticating proxy

Credentials are read from the environment (``*_env``); one written in the file is a
problem, as for providers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from smsbridge.reports.auth import Auth, BasicAuth, TokenAuth, Unauthenticated
from smsbridge.reports.receiver import DEFAULT_MAX_BODY
from smsbridge.reports.serve import DEFAULT_GRACE, DEFAULT_MAX_CLIENTS, DEFAULT_REQUEST_TIMEOUT

__all__ = ["ReceiverSettings", "check_receiver"]

AddProblem = Callable[[tuple[str, ...], str], None]

_AUTH_KEYS = frozenset(
    {"token_env", "username", "username_env", "password_env", "none", "token", "password"}
)
# key: (kinds, lowest, highest, what a problem says it must be)
_LIMITS: dict[str, tuple[tuple[type, ...], float, float, str]] = {
    "port": ((int,), 0, 65535, "a port number from 0 to 65535"),
    "request_timeout": ((int, float), 0.001, 3600, "seconds, > 0 and at most 3600"),
    "max_clients": ((int,), 1, 100_000, "a whole number from 1 to 100000"),
    "grace": ((int, float), 0, 60, "seconds from 0 to 60"),
    "max_body_bytes": ((int,), 1, 16 * 1024 * 1024, "a byte count from 1 to 16 MiB"),
}
_KEYS = frozenset({"host", "auth", *_LIMITS})


def _auth_map(value: Mapping[str, Auth] | None) -> Mapping[str, Auth]:
    return MappingProxyType(dict(value or {}))


@attrs.frozen(kw_only=True)
class ReceiverSettings:
    """The ``[receiver]`` section, checked.

    Args:
        host: The address to bind.
        port: The port to bind (0: any free one).
        request_timeout: Seconds each connection has for its whole request.
        max_clients: Connections served at once.
        grace: Seconds a stop lets requests in progress finish.
        max_body_bytes: Largest callback body read.
        auth: Provider entry name (``[providers.NAME]``) to the authentication of its
            route; exactly these providers are served.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    max_clients: int = DEFAULT_MAX_CLIENTS
    grace: float = DEFAULT_GRACE
    max_body_bytes: int = DEFAULT_MAX_BODY
    auth: Mapping[str, Auth] = attrs.field(factory=dict, converter=_auth_map, repr=False)


def _env(
    spec: Mapping[str, Any],
    key: str,
    where: tuple[str, ...],
    environ: Mapping[str, str],
    add: AddProblem,
) -> str | None:
    name = spec.get(f"{key}_env")
    if name is None:
        return None
    label = ".".join((*where, f"{key}_env"))
    if not isinstance(name, str) or not name:
        add((*where, f"{key}_env"), f"{label} must name an environment variable")
        return None
    if name not in environ:
        add((*where, f"{key}_env"), f"environment variable {name} ({label}) is not set")
        return None
    return environ[name]


def _given(
    spec: Mapping[str, Any],
    key: str,
    where: tuple[str, ...],
    environ: Mapping[str, str],
    add: AddProblem,
    literal: bool,
) -> str | None:
    """``key``'s value: written (only where literal secrets are allowed) or ``key_env``."""
    if literal and key in spec:
        value = spec[key]
        if isinstance(value, str) and value:
            return value
        add((*where, key), f"{'.'.join((*where, key))} must be a non-empty string")
        return None
    return _env(spec, key, where, environ, add)


def _auth(
    name: str, spec: object, environ: Mapping[str, str], add: AddProblem, literal: bool
) -> Auth | None:
    where = ("receiver", "auth", name)
    label = ".".join(where)
    if not isinstance(spec, Mapping):
        add(where, f"{label} must be a table")
        return None
    for key in spec:
        if key not in _AUTH_KEYS:
            add((*where, key), f"unknown key {key!r} in {label}; use token_env, "
                "username(_env) and password_env, or none = true")  # fmt: skip
    for key in () if literal else ("token", "password"):
        if key in spec:
            add((*where, key), f"credential {key!r} is written in the file; use "
                f'{key}_env = "VARIABLE" to read it from the environment')  # fmt: skip
    has_token = "token_env" in spec or (literal and "token" in spec)
    basic = "password_env" in spec or (literal and "password" in spec)
    if spec.get("none") is True and not has_token and not basic:
        return Unauthenticated()
    if has_token and not basic:
        token = _given(spec, "token", where, environ, add, literal)
        if token is None:
            return None
        try:
            return TokenAuth(token)
        except ValueError as exc:
            add((*where, "token_env"), f"{label}: {exc}")
            return None
    if basic and not has_token:
        password = _given(spec, "password", where, environ, add, literal)
        user = _env(spec, "username", where, environ, add) if "username_env" in spec else None
        if user is None:
            user = spec.get("username")
        if not isinstance(user, str) or not user:
            add(where, f"{label}: Basic authentication needs username or username_env")
            return None
        return None if password is None else BasicAuth(user, password)
    add(where, f"{label} needs one of: token_env; username(_env) and password_env; none = true")
    return None


def check_receiver(
    data: Mapping[str, Any],
    *,
    providers: Mapping[str, str],
    environ: Mapping[str, str],
    add: AddProblem,
    literal_secrets: bool = False,
) -> ReceiverSettings | None:
    """Check the ``[receiver]`` table, reporting each problem through ``add``.

    Args:
        data: The parsed table.
        providers: Configured provider entry names to their registered type.
        environ: Where ``*_env`` values are looked up.
        add: Records a problem at a key path.
        literal_secrets: Accept ``token`` and ``password`` as values (settings written
            in Python, which read them from the environment themselves).

    Returns:
        The settings, or None when there was a problem.
    """
    problems: list[str] = []

    def note(path: tuple[str, ...], message: str) -> None:
        problems.append(message)
        add(path, message)

    for key in data:
        if key not in _KEYS:
            note(("receiver", key), f"unknown key {key!r} in receiver; known: "
                 f"{', '.join(sorted(_KEYS))}")  # fmt: skip
    values: dict[str, Any] = {}
    host = data.get("host")
    if host is not None:
        if isinstance(host, str) and host.strip():
            values["host"] = host.strip()
        else:
            note(("receiver", "host"), "receiver.host must be an address such as 127.0.0.1")
    for key, (kinds, low, high, what) in _LIMITS.items():
        value = data.get(key)
        if value is None:
            continue
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        if number is None or not isinstance(value, kinds) or not low <= number <= high:
            note(("receiver", key), f"receiver.{key} must be {what}, not {value!r}")
        else:
            values[key] = value
    auth: dict[str, Auth] = {}
    section = data.get("auth")
    if not isinstance(section, Mapping) or not section:
        note(("receiver", "auth"), "receiver.auth names no provider: add a "
             "[receiver.auth.NAME] table for each provider whose reports are received")  # fmt: skip
        section = {}
    served: dict[str, str] = {}
    for name, spec in section.items():
        if name not in providers:
            note(("receiver", "auth", name), f"receiver.auth.{name}: no [providers.{name}] "
                 f"entry; configured: {', '.join(sorted(providers)) or 'none'}")  # fmt: skip
            continue
        kind = providers[name]
        if kind in served:
            note(("receiver", "auth", name), f"receiver.auth.{name} and receiver.auth."
                 f"{served[kind]} are both {kind}: one route per provider type")  # fmt: skip
            continue
        served[kind] = name
        built = _auth(name, spec, environ, note, literal_secrets)
        if built is not None:
            auth[name] = built
    if problems:
        return None
    return ReceiverSettings(auth=auth, **values)
