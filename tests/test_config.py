"""The configuration API: load, check and build a bridge from Python."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from smsbridge import ConfigurationError, Message, SendResult
from smsbridge.config import Config, ConfigFileError, ProviderConfig, Routing, load_config
from smsbridge.config_schema import LineIndex
from smsbridge.outbox import SqliteStore
from smsbridge.router import Delivery, Priority, RetryPolicy, Weighted
from smsbridge.testing import EmulatorFactory
from smsbridge_clickatell.emulator import ClickatellEmulator

TOML = """\
region = "gb"
[routing]
policy = "weighted"
delivery = "at-least-once"
max_wait = 2
[routing.weights]
main = 3
[routing.retry]
max_attempts = 2
base = 0.1
[providers.main]
type = "clickatell"
base_url = "{url}"
api_id_env = "A"
user = "${{U}}"
password_env = "P"
auth_mode = "per_call"
"""


def test_load_config_fills_environment_values_and_builds_a_bridge(
    tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    emulator = smsbridge_emulator_factory(ClickatellEmulator)
    path = tmp_path / "smsbridge.toml"
    path.write_text(TOML.format(url=emulator.url), encoding="utf-8")
    env = {"A": emulator.api_id, "U": emulator.user, "P": emulator.password}
    # ${U} for a credential is allowed: the value still comes from the environment.
    config = load_config(path, environ=env)
    assert config.region == "GB" and config.source == path
    assert config.routing.policy == "weighted"
    assert config.routing.delivery is Delivery.AT_LEAST_ONCE
    assert config.routing.retry == RetryPolicy(max_attempts=2, base=0.1)
    [provider] = config.providers
    assert (provider.name, provider.type) == ("main", "clickatell")
    assert emulator.password not in repr(config)
    assert isinstance(config.build_policy(), Weighted)
    with config.build_bridge(max_wait=1.0) as bridge:
        result = bridge.send(Message("07700 900123", "hi"))
    assert isinstance(result, SendResult) and result.ok
    assert path.read_text(encoding="utf-8") == TOML.format(url=emulator.url)


def test_load_config_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "smsbridge.toml"
    path.write_text(TOML.format(url="http://127.0.0.1:1"), encoding="utf-8")
    with pytest.raises(ConfigFileError) as info:
        load_config(path, environ={})
    assert [p.line for p in info.value.problems] == [14, 15, 16]
    assert f"{path}:15:" in str(info.value)


def test_a_route_s_national_tables_come_from_its_provider_section(tmp_path: Path) -> None:
    path = tmp_path / "smsbridge.toml"
    text = TOML.format(url="http://127.0.0.1:1") + 'national_languages = ["tr", "es"]\n'
    path.write_text(text, encoding="utf-8")
    config = load_config(path, environ={"A": "1", "U": "u", "P": "p"})
    [provider] = config.build_providers()
    try:
        assert provider.national_languages == ("tr", "es")
    finally:
        provider.close()
    path.write_text(text.replace('"es"', '"klingon"'), encoding="utf-8")
    with pytest.raises(ConfigFileError, match="unknown national language 'klingon'"):
        load_config(path, environ={"A": "1", "U": "u", "P": "p"})


def test_config_from_python_arguments(smsbridge_emulator_factory: EmulatorFactory) -> None:
    emulator = smsbridge_emulator_factory(ClickatellEmulator)
    options = {"base_url": emulator.url, "api_id": emulator.api_id, "user": emulator.user,
               "password": emulator.password}  # fmt: skip
    config = Config(providers=[ProviderConfig(name="clickatell", options=options)], region="GB")
    assert config.providers[0].type == "clickatell"
    assert isinstance(config.build_policy(), Priority)
    with config.build_bridge() as bridge:
        assert bridge.send(Message("+447700900123", "hi")).ok


def test_least_cost_needs_prices_and_no_providers_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="prices"):
        Config(routing=Routing(policy="least-cost")).build_policy()
    with pytest.raises(ConfigurationError, match="no providers"):
        Config().build_bridge()
    with pytest.raises(ValueError, match="policy"):
        Routing(policy="fastest")


def test_missing_default_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SMSBRIDGE_CONFIG", raising=False)
    with pytest.raises(ConfigurationError, match="no configuration file"):
        load_config()


def test_line_index_handles_quotes_dotted_keys_and_multiline_strings() -> None:
    text = io.StringIO(
        '# comment\n[a]\n"quoted.key" = 1\nb.c = 2\nnote = """\nfake = 3\n"""\n'
        "[[arr]]\nx = 1\n[ d . 'e' ]  # trailing\ny = 2\n"
    ).getvalue()
    index = LineIndex(text)
    assert index.line("a") == 2
    assert index.line("a", "quoted.key") == 3
    assert index.line("a", "b", "c") == 4
    assert index.line("a", "fake") == 2
    assert index.line("arr", "x") == 9
    assert index.line("d", "e", "y") == 11
    assert index.line("nowhere") == 1


def test_configured_store_is_where_the_bridge_keeps_its_outbox(
    tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    emulator = smsbridge_emulator_factory(ClickatellEmulator)
    options = {"base_url": emulator.url, "api_id": emulator.api_id, "user": emulator.user,
               "password": emulator.password}  # fmt: skip
    db = tmp_path / "configured.sqlite3"
    config = Config(providers=[ProviderConfig(name="clickatell", options=options)], store=str(db))
    with config.build_bridge() as bridge:
        result = bridge.send(Message("+447700900123", "hi", reference="cfg-store-1"))
        assert isinstance(result, SendResult) and result.ok
    with SqliteStore(db) as store:
        item = store.get("cfg-store-1")
    assert item is not None and item.recipient == "+447700900123"
