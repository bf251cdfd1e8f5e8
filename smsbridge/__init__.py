"""smsbridge: send SMS through many providers behind one API.

Quick start::

    import smsbridge

    provider = smsbridge.get_provider(
        "clickatell", base_url=..., api_id=..., user=..., password=...
    )
    with smsbridge.SmsBridge([provider]) as bridge:
        result = bridge.send(smsbridge.Message("+447700900123", "Your code is 482913"))
        print(result.status, result.message_id)

Everything a provider package may import is listed in ``__all__``.
"""

from __future__ import annotations

from smsbridge.bridge import SmsBridge, new_reference
from smsbridge.codes import CodeTable, Outcome
from smsbridge.credentials import Redactor, Secret, secret_converter
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
from smsbridge.extras import extras_key, provider_extras, raw_params, relevant_extras
from smsbridge.model import Batch, Message, Recipient, SendOptions, Template
from smsbridge.numbers import NormalisationReport, NumberNormaliser, normalise, normalise_many
from smsbridge.plugins import (
    PluginManager,
    PluginWarning,
    ProviderInfo,
    ProviderRegistry,
    get_provider,
    hookimpl,
    make_plugin_manager,
    providers,
)
from smsbridge.progress import BatchProgress
from smsbridge.provider import Capabilities, Coverage, Provider, ProviderOptions
from smsbridge.results import BatchResult, Cost, DeliveryReport, SendResult
from smsbridge.status import Status

__version__ = "0.1.0"

__all__ = [
    "GSM7",
    "UCS2",
    "Batch",
    "BatchProgress",
    "BatchResult",
    "BinarySegmentation",
    "Capabilities",
    "CodeTable",
    "ConfigurationError",
    "Cost",
    "Coverage",
    "DeliveryReport",
    "ErrorInfo",
    "InvalidMessageError",
    "InvalidNumberError",
    "Kind",
    "MalformedResponseError",
    "Message",
    "MessageNotFoundError",
    "NormalisationReport",
    "NumberNormaliser",
    "Outcome",
    "PluginManager",
    "PluginWarning",
    "Provider",
    "ProviderError",
    "ProviderInfo",
    "ProviderOptions",
    "ProviderRegistry",
    "Recipient",
    "Redactor",
    "Scope",
    "Secret",
    "Segmentation",
    "SendOptions",
    "SendResult",
    "SmsBridge",
    "SmsBridgeError",
    "Status",
    "Template",
    "TemplateError",
    "TransportError",
    "UnknownOutcomeError",
    "UnsupportedOperationError",
    "__version__",
    "check_udh",
    "extras_key",
    "get_provider",
    "hookimpl",
    "make_plugin_manager",
    "new_reference",
    "normalise",
    "normalise_many",
    "parse_hex",
    "provider_extras",
    "providers",
    "raw_params",
    "relevant_extras",
    "secret_converter",
    "segment",
    "segment_binary",
    "transliterate",
]
