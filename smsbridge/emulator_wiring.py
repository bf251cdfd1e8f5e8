"""How a provider class finds its loopback emulator and points itself at a running one.

A provider declares one :class:`EmulatedBy` instead of writing ``emulator_class`` and
``emulator_options`` by hand; the emulator module is imported only when asked for, so
importing a provider never loads its emulator.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

import attrs

from smsbridge.errors import ConfigurationError

if TYPE_CHECKING:
    from smsbridge.testing.emulator import Emulator

__all__ = ["EmulatedBy"]


def _check_ref(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    module, colon, name = value.partition(":")
    if not (module and colon and name.isidentifier()):
        raise ValueError(f"{attribute.name} must look like 'module:Class', not {value!r}")


@attrs.frozen(slots=True)
class EmulatedBy:
    """A provider's emulator and the options that point the provider at it.

    Args:
        ref: ``"module:Class"``; a module starting with a dot is relative to the package
            of the provider class declaring it (``".emulator:PigeonEmulator"``).
        options: Emulator attributes passed as the provider options of the same name
            (the credentials the emulator accepts).
        path: Appended to the emulator's URL to make ``base_url`` (``"/eapi"``).

    Raises:
        ValueError: For a ``ref`` not of the form ``module:Class``.
    """

    ref: str = attrs.field(validator=_check_ref)
    options: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    path: str = attrs.field(default="", kw_only=True)

    def emulator_class(self, owner: type[Any]) -> type[Emulator]:
        """Import and return the emulator class for the provider class ``owner``.

        Raises:
            ConfigurationError: When the module cannot be imported or the name is not an
                :class:`~smsbridge.testing.Emulator` subclass.
        """
        from smsbridge.testing.emulator import Emulator

        module_name, _, name = self.ref.partition(":")
        # Relative to the class that declared the wiring, so a subclass elsewhere keeps it.
        declaring = next((k for k in owner.__mro__ if vars(k).get("emulated_by") is self), owner)
        package = getattr(sys.modules.get(declaring.__module__), "__package__", None)
        provider = getattr(owner, "name", owner.__name__)
        try:
            module = importlib.import_module(module_name, package or None)
        except ImportError as exc:
            raise ConfigurationError(
                f"{provider}: emulator module {module_name!r} cannot be imported: {exc}",
                provider=provider,
            ) from None
        found = getattr(module, name, None)
        if not (isinstance(found, type) and issubclass(found, Emulator)):
            raise ConfigurationError(
                f"{provider}: {self.ref!r} is not an Emulator subclass", provider=provider
            )
        return found

    def provider_options(self, owner: type[Any], emulator: Emulator) -> dict[str, Any]:
        """``base_url`` and the credential options pointing ``owner`` at ``emulator``.

        Raises:
            ConfigurationError: When ``emulator`` is not ``owner``'s emulator.
        """
        expected = self.emulator_class(owner)
        if not isinstance(emulator, expected):
            provider = getattr(owner, "name", owner.__name__)
            raise ConfigurationError(
                f"{provider} needs a {expected.__name__}, not {type(emulator).__name__}",
                provider=provider,
            )
        options: dict[str, Any] = {"base_url": f"{emulator.url}{self.path}"}
        options.update((name, getattr(emulator, name)) for name in self.options)
        return options
