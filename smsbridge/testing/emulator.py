"""Loopback HTTP emulators of SMS providers: a real server, a routing base class, records.

Tests talk to an emulator over real sockets with the same :class:`~smsbridge.http.HttpClient`
production uses, so connection handling, timeouts and error translation are exercised for
real. A provider emulator subclasses :class:`Emulator`, declares routes with :func:`route`
and calls :meth:`Emulator.record` whenever it accepts a submission, so that tests can assert
"accepted exactly once".

Modules: :mod:`~smsbridge.testing.server` (the HTTP server), :mod:`~smsbridge.testing.records`
(requests, responses, logs, :class:`ManualClock`), :mod:`~smsbridge.testing.callbacks`
(pushed callbacks); every name stays importable from here.
"""

from __future__ import annotations

import json as jsonlib
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType, TracebackType
from typing import Any, ClassVar, Self, TypeVar
from urllib.parse import urlencode

import attrs

from smsbridge.testing import faults as f
from smsbridge.testing.callbacks import CallbackDelivery, CallbackSender, OutgoingCallback
from smsbridge.testing.records import (
    Clock,
    EmulatorRequest,
    EmulatorResponse,
    ManualClock,
    Params,
    RecordLog,
    RequestRecord,
    Submission,
    SubmissionLog,
)
from smsbridge.testing.server import EmulatorServer

__all__ = [
    "CallbackDelivery",
    "Emulator",
    "EmulatorFactory",
    "EmulatorRequest",
    "EmulatorResponse",
    "EmulatorServer",
    "LoopbackEmulator",
    "ManualClock",
    "Params",
    "RecordLog",
    "RequestRecord",
    "Submission",
    "SubmissionLog",
    "route",
]

E = TypeVar("E", bound="Emulator")

Handler = Callable[[EmulatorRequest], EmulatorResponse]
_ROUTES_ATTR = "__smsbridge_routes__"


def route(method: str, path: str) -> Callable[[Callable[..., EmulatorResponse]], Any]:
    """Mark an :class:`Emulator` method as the handler of ``method path`` (stackable)."""

    def mark(func: Callable[..., EmulatorResponse]) -> Any:
        routes = [*getattr(func, _ROUTES_ATTR, ()), (method.upper(), path)]
        setattr(func, _ROUTES_ATTR, routes)
        return func

    return mark


class Emulator:
    """Base class of provider emulators: routing, faults, records, callbacks.

    Route handlers run one at a time under :attr:`lock`, so emulator state needs no
    further locking; slow behaviour belongs in faults (``Delay``), not in handlers.

    Args:
        clock: Time source for records, sessions and schedules (see :class:`ManualClock`).
        seed: Seeds the fault plan, so random faults replay identically.
        certfile: Serve HTTPS with this certificate (PEM)...
        keyfile: ...and key.
        callback_plan: Duplication, shuffling and delay of pushed callbacks.
    """

    name: ClassVar[str] = "emulator"

    def __init__(
        self,
        *,
        clock: Clock = time.time,
        seed: int = 0,
        certfile: str | None = None,
        keyfile: str | None = None,
        callback_plan: f.CallbackPlan | None = None,
    ) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.faults = f.FaultPlan(seed=seed)
        self.submissions = SubmissionLog()
        self.callbacks: RecordLog[CallbackDelivery] = RecordLog()
        self.callback_plan = callback_plan or f.CallbackPlan()
        self.server = EmulatorServer(self.handle, clock=clock, certfile=certfile, keyfile=keyfile)
        self._table: Mapping[tuple[str, str], Handler] = {}
        self._sender: CallbackSender | None = None

    def __repr__(self) -> str:
        where = self.server.url if self.server.started else "not started"
        return f"{type(self).__name__}({where})"

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321``."""
        return self.server.url

    @property
    def requests(self) -> RecordLog[RequestRecord]:
        """Every request served, in arrival order."""
        return self.server.requests

    def start(self) -> Self:
        """Start serving. Returns self."""
        self._table = dict(self.routes())
        self.server.start()
        return self

    def stop(self) -> None:
        """Stop serving and sending callbacks; returns promptly even with open connections."""
        if self._sender is not None:
            self._sender.close()
        self.server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def routes(self) -> Mapping[tuple[str, str], Handler]:
        """``(METHOD, path) -> handler``: methods marked with :func:`route`, overridable."""
        table: dict[tuple[str, str], Handler] = {}
        for klass in reversed(type(self).__mro__):
            for attr, value in vars(klass).items():
                for key in getattr(value, _ROUTES_ATTR, ()):
                    table[key] = getattr(self, attr)
        return table

    def fallback(self, request: EmulatorRequest) -> EmulatorResponse:
        """The answer for an unknown path: 404."""
        return EmulatorResponse(404, f"no route for {request.method} {request.path}")

    def transient_error_response(self, request: EmulatorRequest) -> EmulatorResponse:
        """The provider's "temporarily unavailable" reply, for ``TransientCode``: 503 here."""
        return EmulatorResponse(
            503, "service temporarily unavailable", headers={"Retry-After": "1"}
        )

    def echo_response(self, request: EmulatorRequest, echo: str) -> EmulatorResponse:
        """The provider's refusal of ``request`` quoting ``echo`` (see ``EchoRequest``):
        HTTP 400 with the quote as the body here; emulators answer in their protocol.

        Args:
            request: The refused request.
            echo: :meth:`EmulatorRequest.echo` of it: one line, no ``|``.
        """
        return EmulatorResponse(400, f"bad request: {echo}")

    def handle(self, request: EmulatorRequest) -> EmulatorResponse | None:
        """Act out the request's fault, if any, around normal processing.

        Returns:
            The response, or None to drop the connection without answering.
        """
        fault = self.faults.pick(request)
        if isinstance(fault, f.Delay):
            self.server.wait(fault.seconds)
        elif isinstance(fault, f.ConnectionReset):
            return None
        elif isinstance(fault, f.HttpStatus):
            extra = {} if fault.retry_after is None else {"Retry-After": _retry(fault.retry_after)}
            return EmulatorResponse(fault.status, fault.body, headers=extra)
        elif isinstance(fault, f.TransientCode):
            with self.lock:
                return self.transient_error_response(request)
        elif isinstance(fault, f.Garbage) and not fault.process:
            return EmulatorResponse(200, fault.body)
        elif isinstance(fault, f.EchoRequest):
            with self.lock:
                return self.echo_response(request, request.echo())
        response = self._process(request)
        if isinstance(fault, f.AcceptThenDrop):
            return None
        if isinstance(fault, f.Garbage):
            return EmulatorResponse(200, fault.body)
        if isinstance(fault, f.SlowDrip):
            return attrs.evolve(response, bytes_per_second=fault.bytes_per_second)
        return response

    def _process(self, request: EmulatorRequest) -> EmulatorResponse:
        handler = self._table.get((request.method, request.path))
        with self.lock:
            if handler is not None:
                return handler(request)
            allowed = sorted(m for m, p in self._table if p == request.path)
            if allowed:
                return EmulatorResponse(
                    405, "method not allowed", headers={"Allow": ", ".join(allowed)}
                )
            return self.fallback(request)

    def record(self, command: str, recipients: Iterable[str], **details: Any) -> Submission:
        """Record an accepted submission (call it exactly when the provider would accept).

        Args:
            command: The protocol operation (``"sendmsg"``, ``"batch"``...).
            recipients: The accepted numbers.
            details: The other :class:`Submission` fields (``message_ids``, ``reference``,
                ``body``, ``parts``, ``charge``, ``fields``).

        Returns:
            The record, stamped with the emulator's clock.
        """
        submission = Submission(command=command, recipients=recipients, at=self.clock(), **details)
        self.submissions.append(submission)
        return submission

    def post_callback(
        self,
        url: str,
        *,
        form: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        json: object = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        method: str = "POST",
    ) -> None:
        """Queue a request to ``url`` (a delivery report), sent from a background thread.

        ``method="GET"`` sends ``form`` as the query string (appended to any query ``url``
        already has) and no body; ``json`` and ``body`` need a POST.

        Outcomes land in :attr:`callbacks`; :meth:`wait_for_callbacks` waits for them.
        """
        method = method.upper()
        if method not in ("GET", "POST"):
            raise ValueError(f"callbacks are sent with GET or POST, not {method}")
        sent_headers = dict(headers or {})
        if method == "GET":
            if json is not None or body is not None:
                raise ValueError("a GET callback carries its fields in form, not a body")
            if form is not None:
                query = urlencode(list(form.items() if isinstance(form, Mapping) else form))
                if query:
                    url = f"{url}{'&' if '?' in url else '?'}{query}"
        elif form is not None:
            body = urlencode(list(form.items() if isinstance(form, Mapping) else form)).encode()
            sent_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif json is not None:
            body = jsonlib.dumps(json).encode()
            sent_headers.setdefault("Content-Type", "application/json")
        with self.lock:
            if self._sender is None:
                self._sender = CallbackSender(self.callback_plan, self.callbacks, self.clock)
        self._sender.submit(
            OutgoingCallback(url, body or b"", MappingProxyType(sent_headers), method=method)
        )

    def wait_for_callbacks(self, timeout: float = 5.0) -> bool:
        """Block until every queued callback was attempted; False on timeout."""
        return self._sender is None or self._sender.wait_idle(timeout)


def _retry(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


class LoopbackEmulator(Emulator):
    """Answers every request with :attr:`response` and logs it in :attr:`requests`.

    For quick tests of HTTP behaviour, and as the receiving end of pushed callbacks.
    """

    name = "loopback"

    def __init__(self, *, response: EmulatorResponse | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.response = response or EmulatorResponse(200, "OK")

    def fallback(self, request: EmulatorRequest) -> EmulatorResponse:
        return self.response


class EmulatorFactory:
    """Starts emulators and stops every one of them on :meth:`close`."""

    def __init__(self) -> None:
        self._started: list[Emulator] = []

    def __call__(self, emulator_class: type[E], /, **kwargs: Any) -> E:
        """Construct ``emulator_class(**kwargs)``, start it and return it."""
        emulator = emulator_class(**kwargs)
        emulator.start()
        self._started.append(emulator)
        return emulator

    @property
    def started(self) -> tuple[Emulator, ...]:
        """Emulators started and not yet stopped by :meth:`close`."""
        return tuple(self._started)

    def close(self) -> None:
        """Stop every emulator, the last started first."""
        while self._started:
            self._started.pop().stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
