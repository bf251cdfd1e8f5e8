"""Plugin loading: registration, broken plugins skipped with a warning, disabling."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

import pytest

import smsbridge
from smsbridge import (
    Capabilities,
    ConfigurationError,
    Message,
    PluginWarning,
    Provider,
    SendResult,
    Status,
    UnsupportedOperationError,
    make_plugin_manager,
)
from smsbridge.plugins import DISABLE_ENV


class ToyProvider(Provider):
    name = "toy"
    capabilities = Capabilities(max_recipients_per_request=10, balance=False)

    def send(self, message: Message) -> list[SendResult]:
        return [SendResult(n, Status.ACCEPTED, provider=self.name) for n in message.to]


class ToyPlugin:
    @smsbridge.hookimpl
    def smsbridge_register_providers(self, registry: smsbridge.ProviderRegistry) -> None:
        registry.add(ToyProvider)


def test_register_and_get() -> None:
    manager = make_plugin_manager(load_entry_points=False)
    assert manager.register(ToyPlugin(), name="toy-plugin")
    assert manager.registry.names() == ["toy"]
    info = smsbridge.providers(manager)[0]
    assert (info.name, info.plugin, info.cls) == ("toy", "toy-plugin", ToyProvider)
    provider = smsbridge.get_provider("toy", manager=manager, base_url="http://127.0.0.1:1")
    assert isinstance(provider, ToyProvider)
    assert provider.options.base_url == "http://127.0.0.1:1"


def test_unknown_provider_lists_installed() -> None:
    manager = make_plugin_manager(load_entry_points=False)
    manager.register(ToyPlugin(), name="toy-plugin")
    with pytest.raises(ConfigurationError, match=r"no provider named 'nope'.*installed: toy"):
        smsbridge.get_provider("nope", manager=manager)


def test_bad_options_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="no option"):
        ToyProvider.from_options(base_url="http://x", colour="red")
    with pytest.raises(ConfigurationError, match="base_url"):
        ToyProvider.from_options()


def test_undeclared_operations_raise_typed_error() -> None:
    provider = ToyProvider.from_options(base_url="http://127.0.0.1:1")
    for call in (
        lambda: provider.balance(),
        lambda: provider.cancel("id"),
        lambda: provider.query(message_id="id"),
        lambda: provider.coverage("+447700900123"),
        lambda: provider.quote(Message("+447700900123", "x")),
    ):
        with pytest.raises(UnsupportedOperationError) as info:
            call()
        assert info.value.provider == "toy"


class NotAProvider:
    name = "bad"


class BadName(ToyProvider):
    name = "Bad Name!"


class NoSend(Provider):
    name = "nosend"
    capabilities = Capabilities()


class BadCaps(ToyProvider):
    name = "badcaps"
    capabilities = {"max_parts": 3}  # type: ignore[assignment]


@pytest.mark.parametrize("cls", [NotAProvider, BadName, NoSend, BadCaps])
def test_malformed_provider_plugin_is_skipped_with_warning(cls: type) -> None:
    class Plugin:
        @smsbridge.hookimpl
        def smsbridge_register_providers(self, registry: smsbridge.ProviderRegistry) -> None:
            registry.add(ToyProvider)  # registered first, then rolled back
            registry.add(cls)

    manager = make_plugin_manager(load_entry_points=False)
    with pytest.warns(PluginWarning, match="'broken-plugin' was not loaded"):
        assert not manager.register(Plugin(), name="broken-plugin")
    assert manager.registry.names() == []
    assert manager.register(ToyPlugin(), name="toy-plugin")
    assert manager.registry.names() == ["toy"]


def test_duplicate_name_from_other_plugin_is_refused() -> None:
    class Other(ToyProvider):
        pass

    class OtherPlugin:
        @smsbridge.hookimpl
        def smsbridge_register_providers(self, registry: smsbridge.ProviderRegistry) -> None:
            registry.add(Other)

    manager = make_plugin_manager(load_entry_points=False)
    manager.register(ToyPlugin(), name="first")
    with pytest.warns(PluginWarning, match="already registered by first"):
        manager.register(OtherPlugin(), name="second")
    assert manager.registry.get("toy") is ToyProvider


@pytest.fixture
def fake_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A real installed distribution on sys.path declaring three entry points."""
    group = f"smsbridge_test_{uuid.uuid4().hex[:8]}"
    mod = f"good_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{mod}.py").write_text(
        textwrap.dedent(
            """
            import smsbridge
            from smsbridge import Capabilities, Provider, SendResult, Status

            class Good(Provider):
                name = "good"
                capabilities = Capabilities()

                def send(self, message):
                    return [SendResult(n, Status.ACCEPTED) for n in message.to]

            @smsbridge.hookimpl
            def smsbridge_register_providers(registry):
                registry.add(Good)
            """
        )
    )
    (tmp_path / f"bad_{mod}.py").write_text(
        textwrap.dedent(
            """
            import smsbridge

            @smsbridge.hookimpl
            def smsbridge_register_providers(registry):
                registry.add(object)
            """
        )
    )
    dist = tmp_path / "fake_smsbridge_plugins-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fake-smsbridge-plugins\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(
        f"[{group}]\ngood = {mod}\nmissing = no_such_module_{mod}\ninvalid = bad_{mod}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return group


def test_entry_points_load_one_at_a_time(fake_distribution: str) -> None:
    manager = make_plugin_manager(load_entry_points=False)
    with pytest.warns(PluginWarning) as record:
        loaded = manager.load_entry_points(fake_distribution)
    assert loaded == ["good"]
    messages = sorted(str(w.message) for w in record)
    assert len(messages) == 2
    assert "'invalid' was not loaded" in messages[0]
    assert "'missing'" in messages[1] and "failed to import" in messages[1]
    assert manager.registry.names() == ["good"]


def test_disable_env(fake_distribution: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DISABLE_ENV, "missing, invalid")
    manager = make_plugin_manager(load_entry_points=False)
    assert manager.load_entry_points(fake_distribution) == ["good"]
    monkeypatch.setenv(DISABLE_ENV, "*")
    manager = make_plugin_manager(load_entry_points=False)
    assert manager.load_entry_points(fake_distribution) == []
