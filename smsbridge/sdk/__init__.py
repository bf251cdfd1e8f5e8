"""The provider author's API: everything a provider package imports from smsbridge.

An application imports :mod:`smsbridge`; a package that teaches smsbridge a new provider
imports this module (and the value types, statuses and errors of :mod:`smsbridge` it
builds results from). Quick start::

    from smsbridge.sdk import Capabilities, HttpClient, Provider, ProviderOptions, hookimpl

    class PigeonProvider(Provider):
        name = "pigeon"
        capabilities = Capabilities(batch=False)
        emulator_ref = ".emulator:PigeonEmulator"
        ...

    @hookimpl
    def smsbridge_register_providers(registry):
        registry.add(PigeonProvider)

The conformance suite and the pytest fixtures' types are in :mod:`smsbridge.sdk.testing`
(it imports pytest; this module does not). ``docs/writing-a-provider.md`` walks through it.
"""

from __future__ import annotations

from smsbridge.codes import CodeTable, Outcome
from smsbridge.credentials import Redactor, Secret, secret_converter, secret_forms
from smsbridge.emulator_wiring import EmulatedBy
from smsbridge.encoding import decode_septets, encode_septets, pack_septets, unpack_septets
from smsbridge.encoding.binary import BinarySegmentation, check_udh, parse_hex, segment_binary
from smsbridge.extras import extras_key, provider_extras, raw_params, relevant_extras
from smsbridge.http import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    Fields,
    FieldValue,
    HttpClient,
    HttpResponse,
    is_loopback_host,
    raise_for_transport_status,
    redact_query,
)
from smsbridge.plugins import Hooks, LoadedPlugins, ProviderRegistry, hookimpl, make_plugin_manager
from smsbridge.provider import Capabilities, Coverage, Provider, ProviderOptions
from smsbridge.testing import (
    AcceptThenDrop,
    CallbackDelivery,
    CallbackPlan,
    ConnectionReset,
    Delay,
    EchoRequest,
    Emulator,
    EmulatorFactory,
    EmulatorRequest,
    EmulatorResponse,
    EmulatorServer,
    Fault,
    FaultPlan,
    FaultRule,
    Garbage,
    HttpStatus,
    LoopbackEmulator,
    ManualClock,
    Params,
    RecordLog,
    RequestRecord,
    SlowDrip,
    Submission,
    SubmissionLog,
    TransientCode,
    on_path,
    route,
)

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_READ_TIMEOUT",
    "AcceptThenDrop",
    "BinarySegmentation",
    "CallbackDelivery",
    "CallbackPlan",
    "Capabilities",
    "CodeTable",
    "ConnectionReset",
    "Coverage",
    "Delay",
    "EchoRequest",
    "EmulatedBy",
    "Emulator",
    "EmulatorFactory",
    "EmulatorRequest",
    "EmulatorResponse",
    "EmulatorServer",
    "Fault",
    "FaultPlan",
    "FaultRule",
    "FieldValue",
    "Fields",
    "Garbage",
    "Hooks",
    "HttpClient",
    "HttpResponse",
    "HttpStatus",
    "LoadedPlugins",
    "LoopbackEmulator",
    "ManualClock",
    "Outcome",
    "Params",
    "Provider",
    "ProviderOptions",
    "ProviderRegistry",
    "RecordLog",
    "Redactor",
    "RequestRecord",
    "Secret",
    "SlowDrip",
    "Submission",
    "SubmissionLog",
    "TransientCode",
    "check_udh",
    "decode_septets",
    "encode_septets",
    "extras_key",
    "hookimpl",
    "is_loopback_host",
    "make_plugin_manager",
    "on_path",
    "pack_septets",
    "parse_hex",
    "provider_extras",
    "raise_for_transport_status",
    "raw_params",
    "redact_query",
    "relevant_extras",
    "route",
    "secret_converter",
    "secret_forms",
    "segment_binary",
    "unpack_septets",
]
