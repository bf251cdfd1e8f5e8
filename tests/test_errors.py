"""The error hierarchy: scope, kind and outcome flags, and what errors show."""

from __future__ import annotations

import pickle

import pytest

from smsbridge import (
    ConfigurationError,
    InvalidMessageError,
    InvalidNumberError,
    Kind,
    MalformedResponseError,
    ProviderError,
    Scope,
    SmsBridgeError,
    TemplateError,
    TransportError,
    UnknownOutcomeError,
    UnsupportedOperationError,
)


@pytest.mark.parametrize(
    ("error", "scope", "kind", "unknown"),
    [
        (InvalidMessageError("x", field="body", value=""), Scope.REQUEST, Kind.PERMANENT, False),
        (InvalidNumberError("x", field="to", value="1"), Scope.RECIPIENT, Kind.PERMANENT, False),
        (TemplateError("x", variable="name"), Scope.RECIPIENT, Kind.PERMANENT, False),
        (ConfigurationError("x"), Scope.REQUEST, Kind.PERMANENT, False),
        (UnsupportedOperationError("cancel", provider="p"), Scope.REQUEST, Kind.PERMANENT, False),
        (ProviderError("x", kind=Kind.TRANSIENT), Scope.PROVIDER, Kind.TRANSIENT, False),
        (TransportError("x"), Scope.PROVIDER, Kind.TRANSIENT, False),
        (UnknownOutcomeError("x"), Scope.PROVIDER, Kind.TRANSIENT, True),
        (MalformedResponseError("x", excerpt="<html>"), Scope.PROVIDER, Kind.TRANSIENT, True),
    ],
)
def test_defaults(error: SmsBridgeError, scope: Scope, kind: Kind, unknown: bool) -> None:
    assert isinstance(error, SmsBridgeError)
    assert error.scope is scope
    assert error.kind is kind
    assert error.outcome_unknown is unknown
    assert error.transient is (kind is Kind.TRANSIENT)
    info = error.info()
    assert (info.scope, info.kind) == (scope, kind)


def test_str_names_provider_and_code() -> None:
    err = ProviderError("Invalid destination", code="105", provider="clickatell")
    assert str(err) == "[clickatell] Invalid destination (code 105)"
    assert "scope=provider" in repr(err)


def test_unsupported_names_operation() -> None:
    err = UnsupportedOperationError("cancel", provider="huawei")
    assert err.operation == "cancel"
    assert "huawei does not support cancel" in str(err)


def test_pickle_keeps_attributes() -> None:
    err = ProviderError("no credit", code="301", provider="x", kind=Kind.PERMANENT, retry_after=5)
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is ProviderError
    assert (copy.code, copy.provider, copy.kind, copy.retry_after) == (
        "301",
        "x",
        Kind.PERMANENT,
        5,
    )


def test_invalid_message_is_value_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        raise InvalidMessageError("the message body is empty", field="body", value="")
