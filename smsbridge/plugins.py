"""Plugins: hook specifications, the provider registry, and entry-point loading.

A provider package declares an entry point in the ``smsbridge`` group pointing at a module
(or object) that implements :func:`smsbridge_register_providers`. The bundled providers are
registered exactly the same way, so they double as examples.

Entry points are loaded one at a time: a plugin that fails to import, or registers
something that is not a valid provider, is unregistered and reported with a
:class:`PluginWarning` naming it; every other plugin still loads. Set
``SMSBRIDGE_DISABLE_PLUGINS`` to a comma-separated list of entry-point names (or ``*``) to
skip plugins without uninstalling them.
"""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Iterator, Mapping
from importlib.metadata import EntryPoint, entry_points
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, cast

import attrs
import pluggy

from smsbridge.errors import ConfigurationError
from smsbridge.observe.specs import EventSpecs
from smsbridge.provider import NAME_RE, Capabilities, Provider, ProviderOptions

if TYPE_CHECKING:
    from smsbridge.errors import SmsBridgeError
    from smsbridge.model import Batch, Message
    from smsbridge.results import DeliveryReport, SendResult

__all__ = [
    "ENTRY_POINT_GROUP",
    "Hooks",
    "LoadedPlugins",
    "PluginWarning",
    "ProviderInfo",
    "ProviderRegistry",
    "get_provider",
    "hookimpl",
    "make_plugin_manager",
    "providers",
]

PROJECT = "smsbridge"
ENTRY_POINT_GROUP = "smsbridge"
DISABLE_ENV = "SMSBRIDGE_DISABLE_PLUGINS"

_hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marker for plugin hook implementations: ``@smsbridge.hookimpl``."""


class PluginWarning(UserWarning):
    """A plugin could not be loaded or registered something invalid; it was skipped."""


class HookSpecs:
    """The hooks smsbridge calls. Arguments are always passed by keyword."""

    @_hookspec
    def smsbridge_register_providers(self, registry: ProviderRegistry) -> None:
        """Register provider classes.

        Called once per plugin manager, when it is built. Implementations call
        ``registry.add(ProviderClass)`` for each provider they offer. Registering an
        invalid class raises :class:`~smsbridge.errors.ConfigurationError`, which makes
        the loader skip this plugin with a warning.

        Args:
            registry: The registry to add provider classes to.
        """

    @_hookspec
    def smsbridge_before_send(self, provider: str, message: Message) -> None:
        """Observe a submission just before it goes to a provider.

        Called once per request attempt (a retry or failover fires it again). It only
        observes: the return value is ignored and it must not change the message.

        Args:
            provider: The registered name of the provider about to be called.
            message: The message as the provider will receive it (E.164 numbers,
                reference set).
        """

    @_hookspec
    def smsbridge_after_send(self, provider: str, results: list[SendResult]) -> None:
        """Observe the per-recipient results of a submission that got an answer.

        Args:
            provider: The provider's registered name.
            results: One result per recipient of the submission, including
                per-recipient refusals.
        """

    @_hookspec
    def smsbridge_send_failed(
        self, provider: str, message: Message | Batch, error: SmsBridgeError
    ) -> None:
        """Observe a submission that failed as a whole (transport, account, outage).

        Args:
            provider: The provider's registered name.
            message: The message, or the batch, that was being sent.
            error: The error; its ``scope``, ``kind`` and ``outcome_unknown`` say what
                happened.
        """

    @_hookspec
    def smsbridge_delivery_report(self, report: DeliveryReport) -> None:
        """Observe a delivery report, from a callback or from polling.

        Args:
            report: The report, with its unified status.
        """


@attrs.frozen(slots=True)
class ProviderInfo:
    """What :func:`providers` tells about an installed provider."""

    name: str
    capabilities: Capabilities
    cls: type[Provider]
    plugin: str


def _validate_provider_class(cls: object) -> type[Provider]:
    if not isinstance(cls, type) or not issubclass(cls, Provider):
        raise ConfigurationError(f"{cls!r} is not a smsbridge.Provider subclass")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ConfigurationError(
            f"{cls.__qualname__}.name must be a lower-case identifier of 2-32 characters, "
            f"got {name!r}"
        )
    if not isinstance(getattr(cls, "capabilities", None), Capabilities):
        raise ConfigurationError(f"{cls.__qualname__}.capabilities must be a Capabilities")
    options_class = getattr(cls, "options_class", None)
    if not (
        isinstance(options_class, type)
        and issubclass(options_class, ProviderOptions)
        and attrs.has(options_class)
    ):
        raise ConfigurationError(
            f"{cls.__qualname__}.options_class must be an attrs subclass of ProviderOptions"
        )
    if cls.send is Provider.send:
        raise ConfigurationError(f"{cls.__qualname__} does not implement send()")
    return cls


class ProviderRegistry:
    """Provider classes by registered name."""

    def __init__(self) -> None:
        self._providers: dict[str, ProviderInfo] = {}
        self._current_plugin = "<direct>"

    def add(self, cls: type[Provider]) -> None:
        """Register a provider class.

        Raises:
            ConfigurationError: When ``cls`` is not a valid provider, or another plugin
                already registered the same name.
        """
        provider = _validate_provider_class(cls)
        existing = self._providers.get(provider.name)
        if existing is not None and existing.cls is not provider:
            raise ConfigurationError(
                f"provider name {provider.name!r} is already registered by {existing.plugin}"
            )
        self._providers[provider.name] = ProviderInfo(
            provider.name, provider.capabilities, provider, self._current_plugin
        )

    def get(self, name: str) -> type[Provider]:
        """The provider class registered as ``name``.

        Raises:
            ConfigurationError: Listing the installed providers when ``name`` is unknown.
        """
        try:
            return self._providers[name].cls
        except KeyError:
            installed = ", ".join(sorted(self._providers)) or "none"
            close = difflib.get_close_matches(str(name), list(self._providers), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigurationError(
                f"no provider named {name!r} is installed (installed: {installed}){hint}"
            ) from None

    def infos(self) -> list[ProviderInfo]:
        """Every registered provider, sorted by name."""
        return [self._providers[name] for name in sorted(self._providers)]

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._providers)

    def __contains__(self, name: object) -> bool:
        return name in self._providers

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._providers))

    def _snapshot(self) -> dict[str, ProviderInfo]:
        return dict(self._providers)

    def _restore(self, snapshot: Mapping[str, ProviderInfo]) -> None:
        self._providers = dict(snapshot)


class Hooks(Protocol):
    """smsbridge's hooks as :attr:`LoadedPlugins.hook` gives them: one pluggy caller per
    spec of :class:`HookSpecs`, called with keyword arguments
    (``hook.smsbridge_after_send(provider=..., results=...)``). Naming them here lets a
    type checker catch a misspelt hook, which pluggy's own relay cannot."""

    smsbridge_register_providers: pluggy.HookCaller
    smsbridge_before_send: pluggy.HookCaller
    smsbridge_after_send: pluggy.HookCaller
    smsbridge_send_failed: pluggy.HookCaller
    smsbridge_delivery_report: pluggy.HookCaller


class LoadedPlugins:
    """smsbridge's plugins: a pluggy manager, and the provider registry its plugins filled.

    Build one with :func:`make_plugin_manager`; nothing is loaded at import time. (It was
    called ``PluginManager``, a name it shared with pluggy's own class; that name stays
    importable.)
    """

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(HookSpecs)
        self.pm.add_hookspecs(EventSpecs)
        self.registry = ProviderRegistry()

    @property
    def hook(self) -> Hooks:
        """The hooks, to call by keyword (``manager.hook.smsbridge_after_send(...)``)."""
        return cast("Hooks", self.pm.hook)

    def register(self, plugin: object, name: str | None = None) -> bool:
        """Register a plugin object and let it add its providers.

        Returns:
            True when registered; False (with a :class:`PluginWarning`) when the plugin
            was invalid and has been unregistered again.
        """
        label = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        snapshot = self.registry._snapshot()
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:
            warnings.warn(
                f"smsbridge plugin {label!r} was not loaded: {exc}", PluginWarning, stacklevel=2
            )
            return False
        impl = getattr(plugin, "smsbridge_register_providers", None)
        if impl is None:
            return True
        self.registry._current_plugin = label
        try:
            impl(registry=self.registry)
        except Exception as exc:
            self.registry._restore(snapshot)
            self.pm.unregister(plugin)
            warnings.warn(
                f"smsbridge plugin {label!r} was not loaded: {exc}", PluginWarning, stacklevel=2
            )
            return False
        finally:
            self.registry._current_plugin = "<direct>"
        return True

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> list[str]:
        """Load every installed plugin of ``group``, one at a time.

        Returns:
            The names of the entry points that loaded.
        """
        disabled = {
            item.strip() for item in os.environ.get(DISABLE_ENV, "").split(",") if item.strip()
        }
        loaded: list[str] = []
        for ep in sorted(_entry_points(group), key=lambda ep: ep.name):
            if "*" in disabled or ep.name in disabled or self.pm.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                warnings.warn(
                    f"smsbridge plugin {ep.name!r} ({ep.value}) failed to import: "
                    f"{type(exc).__name__}: {exc}",
                    PluginWarning,
                    stacklevel=2,
                )
                continue
            if self.register(plugin, name=ep.name):
                loaded.append(ep.name)
        return loaded


PluginManager = LoadedPlugins
"""The former name of :class:`LoadedPlugins`, kept for existing code."""


def _entry_points(group: str) -> list[EntryPoint]:
    return list(entry_points(group=group))


def make_plugin_manager(*, load_entry_points: bool = True) -> LoadedPlugins:
    """Build a plugin manager, loading installed plugins unless told not to.

    Tests build their own managers with ``load_entry_points=False`` and register exactly
    the plugins they need; nothing global has to be patched.
    """
    manager = LoadedPlugins()
    if load_entry_points:
        manager.load_entry_points()
    return manager


_default: LoadedPlugins | None = None


def default_plugin_manager() -> LoadedPlugins:
    """The process-wide manager with every installed plugin, built on first use."""
    global _default
    if _default is None:
        _default = make_plugin_manager()
    return _default


def providers(manager: LoadedPlugins | None = None) -> list[ProviderInfo]:
    """The installed providers, with their capabilities."""
    return (manager or default_plugin_manager()).registry.infos()


def get_provider(name: str, /, *, manager: LoadedPlugins | None = None, **options: Any) -> Provider:
    """Build a provider by its registered name.

    Args:
        name: The registered name (``"clickatell"``).
        manager: The plugin manager to look in; the default one when ``None``.
        **options: The provider's options: ``base_url`` and its credentials, and the
            common ones of :class:`~smsbridge.provider.ProviderOptions`.

    Raises:
        ConfigurationError: For an unknown provider or invalid options.
    """
    cls = (manager or default_plugin_manager()).registry.get(name)
    return cls.from_options(**options)


def registered_providers() -> Mapping[str, ProviderInfo]:
    """Read-only view of the default registry, by name."""
    return MappingProxyType({info.name: info for info in providers()})
