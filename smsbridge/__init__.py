"""smsbridge: send SMS through many providers behind one API.

Quick start::

    import smsbridge

    provider = smsbridge.get_provider(
        "clickatell", base_url=..., api_id=..., user=..., password=...
    )
    with smsbridge.SmsBridge([provider]) as bridge:
        result = bridge.send(smsbridge.Message("+447700900123", "Your code is 482913"))
        print(result.status, result.message_id)

This is the application's front door: ``__all__`` lists what an application needs
(the bridge, values, statuses, results, errors, stores, retry and delivery settings,
configuration, the worker). A provider package imports :mod:`smsbridge.sdk` instead.
The author's names imported here as ``X as X`` (``hookimpl``, ``CodeTable``,
``Redactor``, ...) stay importable from ``smsbridge`` for code written before
:mod:`smsbridge.sdk` existed; new code imports them from there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from smsbridge.bridge import SmsBridge, new_reference
from smsbridge.codes import CodeTable as CodeTable
from smsbridge.codes import Outcome as Outcome
from smsbridge.config import Config, load_config
from smsbridge.credentials import Redactor as Redactor
from smsbridge.credentials import Secret
from smsbridge.credentials import secret_converter as secret_converter
from smsbridge.encoding import GSM7, UCS2, Segmentation, segment, transliterate
from smsbridge.encoding.binary import BinarySegmentation, check_udh, parse_hex, segment_binary
from smsbridge.errors import (
    ConfigurationError,
    ErrorInfo,
    InvalidMessageError,
    InvalidNumberError,
    Kind,
    MalformedResponseError,
    MessageNotFoundError,
    ProviderError,
    Scope,
    SmsBridgeError,
    TemplateError,
    TransportError,
    UnknownOutcomeError,
    UnsupportedOperationError,
)
from smsbridge.extras import extras_key as extras_key
from smsbridge.extras import provider_extras as provider_extras
from smsbridge.extras import raw_params as raw_params
from smsbridge.extras import relevant_extras as relevant_extras
from smsbridge.limits import Limit
from smsbridge.model import Batch, Message, Recipient, SendOptions, Template
from smsbridge.numbers import NormalisationReport, NumberNormaliser, normalise, normalise_many
from smsbridge.outbox import OutboxError, OutboxStore, SqliteStore
from smsbridge.outbox.factory import open_store
from smsbridge.plugins import LoadedPlugins as LoadedPlugins
from smsbridge.plugins import PluginManager as PluginManager
from smsbridge.plugins import PluginWarning, ProviderInfo, get_provider, providers
from smsbridge.plugins import ProviderRegistry as ProviderRegistry
from smsbridge.plugins import hookimpl as hookimpl
from smsbridge.plugins import make_plugin_manager as make_plugin_manager
from smsbridge.progress import BatchProgress
from smsbridge.provider import Capabilities, Coverage, Provider
from smsbridge.provider import ProviderOptions as ProviderOptions
from smsbridge.results import BatchResult, Cost, DeliveryReport, SendResult
from smsbridge.router import Delivery, RetryPolicy
from smsbridge.status import Status
from smsbridge.version import __version__
from smsbridge.worker import EnqueueResult, Worker, enqueue

if TYPE_CHECKING:
    from smsbridge.outbox.postgres import PostgresStore


__all__ = [
    "GSM7",
    "UCS2",
    "Batch",
    "BatchProgress",
    "BatchResult",
    "BinarySegmentation",
    "Capabilities",
    "Config",
    "ConfigurationError",
    "Cost",
    "Coverage",
    "Delivery",
    "DeliveryReport",
    "EnqueueResult",
    "ErrorInfo",
    "InvalidMessageError",
    "InvalidNumberError",
    "Kind",
    "Limit",
    "MalformedResponseError",
    "Message",
    "MessageNotFoundError",
    "NormalisationReport",
    "NumberNormaliser",
    "OutboxError",
    "OutboxStore",
    "PluginWarning",
    "PostgresStore",
    "Provider",
    "ProviderError",
    "ProviderInfo",
    "Recipient",
    "RetryPolicy",
    "Scope",
    "Secret",
    "Segmentation",
    "SendOptions",
    "SendResult",
    "SmsBridge",
    "SmsBridgeError",
    "SqliteStore",
    "Status",
    "Template",
    "TemplateError",
    "TransportError",
    "UnknownOutcomeError",
    "UnsupportedOperationError",
    "Worker",
    "__version__",
    "check_udh",
    "enqueue",
    "get_provider",
    "load_config",
    "new_reference",
    "normalise",
    "normalise_many",
    "open_store",
    "parse_hex",
    "providers",
    "segment",
    "segment_binary",
    "transliterate",
]


def __getattr__(name: str) -> Any:
    # PostgresStore needs psycopg (the postgres extra): imported on first use only.
    if name == "PostgresStore":
        from smsbridge.outbox.postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module 'smsbridge' has no attribute {name!r}")
