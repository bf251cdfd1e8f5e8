"""Test toolkit: loopback provider emulators, fault injection, pytest fixtures.

Provider packages ship an :class:`Emulator` subclass speaking their protocol; tests (and
the demo) run it on 127.0.0.1 and point the real provider at it. Importing this package
never imports pytest: the fixtures live in :mod:`smsbridge.testing.pytest_plugin`.
"""

from smsbridge.testing.emulator import (
    CallbackDelivery,
    Emulator,
    EmulatorFactory,
    EmulatorRequest,
    EmulatorResponse,
    EmulatorServer,
    LoopbackEmulator,
    ManualClock,
    Params,
    RecordLog,
    RequestRecord,
    Submission,
    SubmissionLog,
    route,
)
from smsbridge.testing.faults import (
    AcceptThenDrop,
    CallbackPlan,
    ConnectionReset,
    Delay,
    EchoRequest,
    Fault,
    FaultPlan,
    FaultRule,
    Garbage,
    HttpStatus,
    SlowDrip,
    TransientCode,
    on_path,
)

__all__ = [
    "AcceptThenDrop",
    "CallbackDelivery",
    "CallbackPlan",
    "ConnectionReset",
    "Delay",
    "EchoRequest",
    "Emulator",
    "EmulatorFactory",
    "EmulatorRequest",
    "EmulatorResponse",
    "EmulatorServer",
    "Fault",
    "FaultPlan",
    "FaultRule",
    "Garbage",
    "HttpStatus",
    "LoopbackEmulator",
    "ManualClock",
    "Params",
    "RecordLog",
    "RequestRecord",
    "SlowDrip",
    "Submission",
    "SubmissionLog",
    "TransientCode",
    "on_path",
    "route",
]
