"""Settings given as a mapping (Django's ``settings.SMSBRIDGE``): the file's checks,
reported by key path, credentials accepted as values."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsbridge.config import ConfigMappingError, config_from_mapping
from smsbridge.credentials import Secret
from smsbridge.reports import BasicAuth, TokenAuth

PROVIDER = {"api_id": "3456789", "user": "someone", "password": "pa55-word-never-shown"}


def test_a_mapping_gives_the_same_config_as_the_file(tmp_path: Path) -> None:
    config = config_from_mapping(
        {
            "region": "gb",
            "store": "outbox.sqlite3",
            "routing": {"policy": "priority", "retry": {"max_attempts": 3}},
            "providers": {"clickatell": dict(PROVIDER), "bulksms": {"username": "u",
                                                                   "password_env": "BULK_PW"}},
            "receiver": {"auth": {"clickatell": {"username": "cb", "password": "cb-pw-1"},
                                  "bulksms": {"token": "t" * 20}}},
        },
        base=tmp_path,
        environ={"BULK_PW": "from-the-environment"},
    )  # fmt: skip
    assert config.region == "GB"
    assert config.store == str(tmp_path / "outbox.sqlite3")
    assert config.routing.retry.max_attempts == 3
    clickatell, bulksms = config.providers
    assert isinstance(clickatell.options["password"], Secret)
    assert clickatell.options["password"].reveal() == PROVIDER["password"]
    assert bulksms.options["password"].reveal() == "from-the-environment"
    assert config.receiver is not None
    assert isinstance(config.receiver.auth["clickatell"], BasicAuth)
    assert isinstance(config.receiver.auth["bulksms"], TokenAuth)
    assert PROVIDER["password"] not in repr(config)


def test_every_problem_is_listed_by_key_path_without_secrets() -> None:
    with pytest.raises(ConfigMappingError) as caught:
        config_from_mapping(
            {
                "regoin": "GB",
                "routing": {"policy": "fastest"},
                "providers": {"clickatell": {**PROVIDER, "timeout": -5, "colour": "red"}},
            },
            name="SMSBRIDGE",
        )
    text = str(caught.value)
    assert len(caught.value.problems) == 4
    for where in (
        "SMSBRIDGE['regoin']",
        "SMSBRIDGE['routing']['policy']",
        "SMSBRIDGE['providers']['clickatell']['timeout']",
        "SMSBRIDGE['providers']['clickatell']['colour']",
    ):
        assert where in text
    assert PROVIDER["password"] not in text


def test_literal_credentials_can_be_refused_as_in_the_file() -> None:
    with pytest.raises(ConfigMappingError, match="credential 'password' is written"):
        config_from_mapping({"providers": {"clickatell": PROVIDER}}, literal_secrets=False)


@pytest.mark.parametrize("value", [None, ["providers"], "clickatell"])
def test_settings_that_are_not_a_mapping_are_refused(value: object) -> None:
    with pytest.raises(ConfigMappingError, match="must be a dict"):
        config_from_mapping(value, name="SMSBRIDGE")  # type: ignore[arg-type]
