"""Sending drafts one request at a time while the next one is being built.

Building a ``send_batch`` request (iterating the batch, encoding a megabyte of form body)
costs about as much CPU as the gateway takes to answer one. The answer is awaited on a
thread, which releases the GIL while it waits, so the caller builds the next request in
the meantime; requests themselves stay strictly one after the other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from smsbridge import SendResult

from .chunks import Draft

__all__ = ["pipelined"]


class _Request:
    """One request running on its own thread, so the caller can build the next meanwhile.

    The thread spends its time waiting on the socket, which releases the GIL; the
    caller's CPU work (iterating the batch, encoding) proceeds in parallel with the
    gateway's.
    """

    def __init__(self, send: Callable[[Draft], list[SendResult]], draft: Draft) -> None:
        self._send = send
        self._draft = draft
        self._results: list[SendResult] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="smsbridge-bulksms-send")
        self._thread.start()

    def _run(self) -> None:
        try:
            self._results = self._send(self._draft)
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def wait(self) -> None:
        """Block until the request has finished, however it ended."""
        self._thread.join()

    def result(self) -> list[SendResult]:
        """The request's results, once it finished; its exception if it raised."""
        self._thread.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return self._results


def pipelined(
    plan: Iterator[Draft | SendResult], send: Callable[[Draft], list[SendResult]]
) -> Iterator[SendResult]:
    """Send drafts one at a time, building each next draft while the previous is in flight.

    What is sent, in what order, and what the consumer sees are those of the plain loop
    (send a draft, yield its results, plan the next): a request starts only after the
    consumer has taken every result before it, so at most one is ever in flight and
    none is in flight while this generator is suspended. Only planning moves earlier --
    results refused while planning ahead, and an error raised by it, are held back until
    the results of the request in flight have been yielded.
    """
    request: _Request | None = None
    try:
        while True:
            refused: list[SendResult] = []
            draft: Draft | None = None
            failure: Exception | None = None
            try:
                for item in plan:
                    if isinstance(item, SendResult):
                        refused.append(item)
                    else:
                        draft = item
                        break
            except Exception as exc:  # re-raised below, in sequential order
                failure = exc
            if request is not None:
                done, request = request, None
                yield from done.result()
            yield from refused
            if failure is not None:
                raise failure
            if draft is None:
                return
            request = _Request(send, draft)
    finally:
        if request is not None:
            # Only reached when planning was interrupted (KeyboardInterrupt...): never
            # leave a request running on the shared connection behind the caller's back.
            request.wait()
