"""``smsbridge.toml``: providers, routing, store, prices and region in one file.

The file is a convenience: every setting is also a Python argument (build a
:class:`Config` directly, or pass the same values to :class:`~smsbridge.SmsBridge`).

Credentials never live in the file. An option is read from the environment in one of
two ways, and the tool never writes a value back:

* ``password_env = "CLICKATELL_PASSWORD"``: any option ``X`` may be given as ``X_env``,
  naming the variable that holds it. This is the way for credentials.
* ``${VAR}`` inside any string value is replaced by the variable's value, handy for
  ``base_url = "http://127.0.0.1:${EMULATOR_PORT}"``.

A credential option (a :class:`~smsbridge.Secret` field of the provider's options)
written literally in the file is reported as a problem, so a password cannot slip into
version control unnoticed. See ``docs/configuration.md`` for the format and every key.

:func:`check_config` reports *every* problem, each with its line; :func:`load_config`
raises one :class:`ConfigFileError` listing them all.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from smsbridge.bridge import SmsBridge
from smsbridge.config_schema import (
    POLICIES,
    Problem,
    ProviderConfig,
    Routing,
    check_data,
    check_text,
    resolve_store,
)
from smsbridge.errors import ConfigurationError
from smsbridge.plugins import LoadedPlugins, default_plugin_manager
from smsbridge.provider import Provider
from smsbridge.reports.receiver import ReportReceiver
from smsbridge.router import Policy, Priority, Weighted

if TYPE_CHECKING:
    from smsbridge.reports.settings import ReceiverSettings

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_NAME",
    "POLICIES",
    "Config",
    "ConfigFileError",
    "ConfigMappingError",
    "Problem",
    "ProviderConfig",
    "Routing",
    "check_config",
    "config_from_mapping",
    "configured_store",
    "find_config",
    "load_config",
]

CONFIG_ENV = "SMSBRIDGE_CONFIG"
"""Environment variable naming the configuration file when ``--config`` is not given."""
DEFAULT_NAME = "smsbridge.toml"
"""The file looked for in the current directory last."""


def _providers_tuple(value: Any) -> tuple[ProviderConfig, ...]:
    return tuple(value)


def _optional_path(value: str | os.PathLike[str] | None) -> Path | None:
    return None if value is None else Path(value)


@attrs.frozen(kw_only=True)
class Config:
    """Everything ``smsbridge.toml`` can say, as one frozen value.

    Args:
        providers: The providers, in order of preference.
        routing: Policy, weights, retries and delivery semantics.
        store: Where the outbox lives: a path, or a URL for a server-backed store.
        prices: A price table CSV (needed by the ``least-cost`` policy and quotes).
        region: Default region for numbers written without a country code (``"GB"``).
        strict_numbers: Refuse numbers that are possible but not assigned.
        receiver: The ``[receiver]`` section (``smsbridge serve-reports``), if any.
        source: The file this configuration was read from, if any.
    """

    providers: tuple[ProviderConfig, ...] = attrs.field(converter=_providers_tuple, default=())
    routing: Routing = attrs.field(factory=Routing)
    store: str | None = None
    prices: Path | None = attrs.field(default=None, converter=_optional_path)
    region: str | None = None
    strict_numbers: bool = False
    receiver: ReceiverSettings | None = None
    source: Path | None = attrs.field(default=None, converter=_optional_path)

    def build_providers(self, plugin_manager: LoadedPlugins | None = None) -> list[Provider]:
        """Build every configured provider, in order.

        Raises:
            ConfigurationError: For an unknown provider or invalid options; providers
                already built are closed first.
        """
        manager = plugin_manager or default_plugin_manager()
        built: list[Provider] = []
        try:
            for item in self.providers:
                cls = manager.registry.get(item.type)
                built.append(cls.from_options(**item.options))
        except BaseException:
            for provider in built:
                provider.close()
            raise
        return built

    def build_policy(self) -> Policy:
        """The routing policy object the configuration names.

        Raises:
            ConfigurationError: For ``least-cost`` without a readable price table.
        """
        policy = self.routing.policy
        if policy == "weighted":
            # Weighted orders by the providers' registered names; the file names the
            # configured entries, so translate (two entries of one type share a weight).
            types = {item.name: item.type for item in self.providers}
            return Weighted({types.get(k, k): w for k, w in self.routing.weights.items()})
        if policy == "least-cost":
            if self.prices is None:
                raise ConfigurationError("routing policy least-cost needs a prices table")
            # Imported here: pricing is only needed by this policy.
            from smsbridge.pricing import PriceTable, TablePrices
            from smsbridge.router import LeastCost

            table = PriceTable.from_csv(self.prices)
            return LeastCost(TablePrices(table, region=self.region))
        return Priority()

    def build_bridge(self, **overrides: Any) -> SmsBridge:
        """An :class:`~smsbridge.SmsBridge` with these providers and settings.

        Args:
            **overrides: Any :class:`~smsbridge.SmsBridge` keyword argument (``region``,
                ``strict_numbers``, ``plugin_manager``, ``policy``, ``retry``,
                ``delivery``, ``max_wait``, ``store``); it wins over the configured value.
                A configured ``store`` (path or URL) is opened by the bridge.

        Raises:
            ConfigurationError: When no provider is configured or one cannot be built.
        """
        if not self.providers:
            raise ConfigurationError("no providers are configured")
        manager: LoadedPlugins | None = overrides.pop("plugin_manager", None)
        settings: dict[str, Any] = {
            "region": self.region,
            "strict_numbers": self.strict_numbers,
            "retry": self.routing.retry,
            "delivery": self.routing.delivery,
            "max_wait": self.routing.max_wait,
        }
        if self.store is not None:
            settings["store"] = self.store
        if "policy" not in overrides:
            settings["policy"] = self.build_policy()
        settings.update(overrides)
        providers = self.build_providers(manager)
        try:
            return SmsBridge(providers, plugin_manager=manager, **settings)
        except BaseException:
            for provider in providers:
                provider.close()
            raise

    def receiver_settings(self) -> ReceiverSettings:
        """The ``[receiver]`` section.

        Raises:
            ConfigurationError: When the configuration has none.
        """
        if self.receiver is None:
            where = self.source or "the configuration"
            raise ConfigurationError(
                f"{where} has no [receiver] section: add [receiver.auth.NAME] for each "
                "provider whose delivery reports are received (see docs/reports.md)"
            )
        return self.receiver

    def build_receiver(
        self, *, store: Any, settings: ReceiverSettings | None = None
    ) -> tuple[ReportReceiver, list[Provider]]:
        """The delivery-report receiver the ``[receiver]`` section describes.

        Args:
            store: The outbox to record in (``None``: hooks only).
            settings: The receiver settings; :meth:`receiver_settings` by default.

        Returns:
            The receiver and the providers it owns (close them when done).

        Raises:
            ConfigurationError: No ``[receiver]`` section, or a provider cannot be built
                (never quoting a secret).
        """
        chosen = settings or self.receiver_settings()
        entries = [entry for entry in self.providers if entry.name in chosen.auth]
        providers = attrs.evolve(self, providers=tuple(entries)).build_providers()
        try:
            auth = {
                provider.name: chosen.auth[entry.name]
                for provider, entry in zip(providers, entries, strict=True)
            }
            receiver = ReportReceiver(
                providers, store=store, auth=auth, max_body_bytes=chosen.max_body_bytes
            )
        except BaseException:
            for provider in providers:
                provider.close()
            raise
        return receiver, providers


class ConfigFileError(ConfigurationError):
    """A configuration file has problems; :attr:`problems` lists every one with its line."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        lines = "\n".join(f"{path}:{p.line}: {p.message}" for p in problems)
        super().__init__(f"{path} has {len(problems)} problem(s):\n{lines}")
        self.path = path
        self.problems = problems


class ConfigMappingError(ConfigurationError):
    """Settings given as a mapping have problems; :attr:`problems` lists every one,
    each with its key path (``SMSBRIDGE['providers']['clickatell']['timeout']``)."""

    def __init__(self, name: str, problems: list[Problem]) -> None:
        lines = "\n".join(f"{_subscripts(name, p.key)}: {p.message}" for p in problems)
        super().__init__(f"{name} has {len(problems)} problem(s):\n{lines}")
        self.name = name
        self.problems = problems


def _subscripts(name: str, key: str) -> str:
    return name + "".join(f"[{part!r}]" for part in key.split(".") if part)


def find_config(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The configuration file to use: ``path``, else ``$SMSBRIDGE_CONFIG``, else
    ``./smsbridge.toml`` when it exists; ``None`` when there is none.

    An explicitly named file (argument or variable) is returned even if missing, so the
    caller reports it rather than silently falling back to another file.
    """
    if path is not None:
        return Path(path)
    named = os.environ.get(CONFIG_ENV)
    if named:
        return Path(named)
    local = Path(DEFAULT_NAME)
    return local if local.is_file() else None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"{path} is not UTF-8 text: {exc.reason}") from None


def configured_store(path: str | os.PathLike[str] | None = None) -> str | None:
    """The ``store`` of the configuration :func:`find_config` finds, or ``None`` (no
    file, or no ``store`` in it).

    Only that key is read, so commands that just read the outbox (``status``,
    ``breakers``) work without the providers' credentials in the environment.

    Raises:
        ConfigurationError: When a named file cannot be read or is not valid TOML, or
            ``store`` is not a string.
    """
    found = find_config(path)
    if found is None:
        return None
    try:
        data = tomllib.loads(_read(found))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{found}: invalid TOML: {exc}") from None
    store = data.get("store")
    if store is None:
        return None
    if not isinstance(store, str):
        raise ConfigurationError(f"{found}: store must be a path or URL")
    return resolve_store(store, found.parent)


def check_config(
    path: str | os.PathLike[str],
    *,
    environ: Mapping[str, str] | None = None,
    plugin_manager: LoadedPlugins | None = None,
) -> list[Problem]:
    """Every problem of a configuration file, each with its line, sorted by line.

    Checks TOML syntax, unknown keys, value types, provider names, each provider's
    options (against its ``options_class`` fields), environment variables that are not
    set, credentials written in the file, the routing policy and the price table path.

    Raises:
        ConfigurationError: When the file cannot be read at all.
    """
    source = Path(path)
    env = os.environ if environ is None else environ
    manager = plugin_manager or default_plugin_manager()
    _, problems = check_text(_read(source), base=source.parent, environ=env, manager=manager)
    return problems


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    plugin_manager: LoadedPlugins | None = None,
) -> Config:
    """Read the configuration found by :func:`find_config`.

    Relative paths in the file (``prices``, a ``store`` path) are relative to the file.

    Raises:
        ConfigFileError: Listing every problem with its line.
        ConfigurationError: When no file is found or it cannot be read.
    """
    found = find_config(path)
    if found is None:
        raise ConfigurationError(
            f"no configuration file: pass --config, set ${CONFIG_ENV}, or create ./{DEFAULT_NAME}"
        )
    env = os.environ if environ is None else environ
    manager = plugin_manager or default_plugin_manager()
    data, problems = check_text(_read(found), base=found.parent, environ=env, manager=manager)
    if problems or data is None:
        raise ConfigFileError(found, problems)
    return _config(data, source=found)


def config_from_mapping(
    data: Mapping[str, Any],
    *,
    name: str = "settings",
    base: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    plugin_manager: LoadedPlugins | None = None,
    literal_secrets: bool = True,
) -> Config:
    """A :class:`Config` from settings held in a mapping (Django's ``settings.SMSBRIDGE``),
    checked exactly as a ``smsbridge.toml`` with the same keys would be.

    Args:
        data: The keys of ``smsbridge.toml`` (``providers``, ``routing``, ``store``,
            ``region``...), tables as mappings.
        name: What error messages call the mapping (``"SMSBRIDGE"``).
        base: Directory relative ``store`` and ``prices`` paths are relative to
            (default: the current directory).
        environ: Where ``*_env`` options and ``${VAR}`` are looked up.
        plugin_manager: Where provider names are looked up.
        literal_secrets: Accept credentials given as values: settings written in Python
            read them from the environment themselves. ``*_env`` works as well.

    Raises:
        ConfigMappingError: Listing every problem with its key path.
    """
    folder = Path.cwd() if base is None else Path(base)
    env = os.environ if environ is None else environ
    manager = plugin_manager or default_plugin_manager()
    if not isinstance(data, Mapping):
        problem = Problem(0, "", f"must be a dict of settings, not {type(data).__name__}")
        raise ConfigMappingError(name, [problem])
    checked, problems = check_data(
        data, base=folder, environ=env, manager=manager, literal_secrets=literal_secrets
    )
    if problems or checked is None:
        raise ConfigMappingError(name, problems)
    return _config(checked)


def _config(checked: Mapping[str, Any], source: Path | None = None) -> Config:
    """The :class:`Config` of checked settings (from a file or a mapping)."""
    return Config(
        providers=checked["providers"],
        routing=checked["routing"],
        store=checked.get("store"),
        prices=checked.get("prices"),
        region=checked.get("region"),
        strict_numbers=checked.get("strict_numbers", False),
        receiver=checked.get("receiver"),
        source=source,
    )
