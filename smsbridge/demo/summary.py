"""The demo's summary: what each provider did, read back from the outbox.

Everything but the numbers refused before sending comes from the outbox, the same
record an application would consult: per provider the messages it took, how many of
them it took over from a failing provider, what it refused and why, the parts and cost,
and the final statuses its delivery reports brought.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs

from smsbridge.demo.run import DemoRun
from smsbridge.encoding import UCS2, segment
from smsbridge.errors import ErrorInfo, Scope
from smsbridge.outbox import ItemState, OutboxStore
from smsbridge.status import Status
from smsbridge.text_table import render_table

__all__ = ["BEFORE_SENDING", "DemoSummary", "ProviderSummary", "render_text", "summarise"]

BEFORE_SENDING = "before sending"
"""The row of recipients no provider saw: their numbers were refused by normalisation."""

_REFUSED = (Status.REJECTED, Status.INVALID_NUMBER)


@attrs.define(kw_only=True)
class ProviderSummary:
    """One provider's share of the campaign.

    Args:
        name: The provider's name.
        sent: Messages it accepted.
        failed_over: Of those, messages first attempted with another provider.
        failed_attempts: Attempts it answered with an error (e.g. during an outage).
        rejected: Refusal reason to how many messages it refused for it.
        parts: SMS parts of the messages it accepted.
        cost: What its account was charged, per unit (``credits``, a currency).
        final: Status to how many of its accepted messages ended there.
    """

    name: str
    sent: int = 0
    failed_over: int = 0
    failed_attempts: int = 0
    rejected: Counter[str] = attrs.field(factory=Counter)
    parts: int = 0
    cost: dict[str, Decimal] = attrs.field(factory=dict)
    final: Counter[str] = attrs.field(factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "sent": self.sent,
            "failed_over": self.failed_over,
            "failed_attempts": self.failed_attempts,
            "rejected": dict(sorted(self.rejected.items())),
            "parts": self.parts,
            "cost": {unit: str(amount) for unit, amount in sorted(self.cost.items())},
            "final": dict(sorted(self.final.items())),
        }


@attrs.define(kw_only=True)
class DemoSummary:
    """The whole campaign's outcome.

    Args:
        recipients: Recipients in the campaign.
        languages: Language codes of its reminders.
        ucs2: Messages sent that needed UCS-2.
        invalid: Reason to how many numbers were refused before sending.
        providers: Provider name to its summary, primary first.
        unsettled: Messages still waiting in the outbox (none after a normal run).
        outage_requests: Requests the primary answered with HTTP 500.
        reports_pushed: Delivery reports pushed to the receiver.
        reports_polled: Status queries answered by polled providers.
        outbox: Where the outbox file lives.
        seconds: How long the run took.
        huawei: The Huawei part (templated campaign and scheduled task), as data.
    """

    recipients: int
    languages: tuple[str, ...]
    ucs2: int = 0
    invalid: Counter[str] = attrs.field(factory=Counter)
    providers: dict[str, ProviderSummary] = attrs.field(factory=dict)
    unsettled: int = 0
    outage_requests: int = 0
    reports_pushed: int = 0
    reports_polled: int = 0
    outbox: str = ""
    seconds: float = 0.0
    huawei: dict[str, Any] | None = None

    @property
    def accounted(self) -> int:
        """Recipients whose outcome the summary names: sent, refused, or unsettled."""
        per_provider = sum(p.sent + sum(p.rejected.values()) for p in self.providers.values())
        return per_provider + sum(self.invalid.values()) + self.unsettled

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (what ``smsbridge demo --json`` prints)."""
        return {
            "recipients": self.recipients,
            "accounted": self.accounted,
            "languages": list(self.languages),
            "ucs2": self.ucs2,
            "invalid": dict(sorted(self.invalid.items())),
            "providers": {name: p.as_dict() for name, p in self.providers.items()},
            "unsettled": self.unsettled,
            "outage_requests": self.outage_requests,
            "reports": {"pushed": self.reports_pushed, "polled": self.reports_polled},
            "outbox": self.outbox,
            "seconds": round(self.seconds, 2),
            "huawei": self.huawei,
        }


def _reason(error: ErrorInfo | None) -> str:
    if error is None:
        return "no reason given"
    # Normalisation errors quote the number first ("'+999 1' is not a valid ...: why");
    # grouping needs only the why.
    return error.text.rsplit(": ", 1)[-1] if error.code == "invalid-number" else error.text


def summarise(run: DemoRun, store: OutboxStore, providers: Iterable[str]) -> DemoSummary:
    """Build the summary of a finished run from its results and its outbox.

    Args:
        run: The finished run.
        store: The run's outbox, open.
        providers: Provider names in order of preference.

    Returns:
        The summary.
    """
    summary = DemoSummary(
        recipients=run.campaign.recipients,
        languages=tuple(code for code, _ in run.campaign),
        outage_requests=run.outage_requests,
        reports_pushed=run.reports_pushed,
        reports_polled=run.reports_polled,
        outbox=str(run.outbox),
        seconds=run.seconds,
        huawei=_huawei(run),
    )
    names = tuple(providers)
    apart = frozenset(run.huawei.batches) if run.huawei is not None else frozenset()
    for name in names:
        spent = run.spend.get(name)
        cost = {} if spent is None else {spent.unit: spent.amount}
        summary.providers[name] = ProviderSummary(name=name, cost=cost)
    for result in run.results:
        if result.provider is None and result.status in _REFUSED:
            summary.invalid[_reason(result.error)] += 1
    for item in store.iter_items():
        if item.batch in apart:
            continue  # the Huawei part is summarised on its own
        history = store.history(item.reference)
        attempts = () if history is None else history.attempts
        for attempt in attempts:
            error = attempt.error
            # Provider-scope errors only: a refused number is counted under "rejected".
            if error is not None and error.scope is Scope.PROVIDER and attempt.provider in names:
                summary.providers[attempt.provider].failed_attempts += 1
        if segment(item.body).encoding == UCS2:
            summary.ucs2 += 1
        provider = summary.providers.get(item.provider or "")
        if provider is None or item.state is not ItemState.DONE or item.status is None:
            summary.unsettled += 1
            continue
        if item.status in _REFUSED:
            provider.rejected[_reason(item.last_error)] += 1
            continue
        provider.sent += 1
        if {a.provider for a in attempts} - {provider.name}:
            provider.failed_over += 1
        provider.parts += item.parts or 0
        provider.final[item.status.value] += 1
    return summary


def _huawei(run: DemoRun) -> dict[str, Any] | None:
    part = run.huawei
    if part is None:
        return None
    accepted = sum(1 for r in part.results if r.message_id is not None)
    return {
        "template_id": part.template_id,
        "recipients": len(part.results),
        "accepted": accepted,
        "requests": part.requests,
        "reports": part.reports,
        "task": [{"moment": moment, "what": what} for moment, what in part.steps],
    }


def _huawei_lines(part: dict[str, Any]) -> list[str]:
    reports = ", ".join(f"{n} {status}" for status, n in part["reports"].items())
    lines = [
        f"Huawei:   {part['recipients']} templated reminders (template {part['template_id']}, "
        f"per-recipient values) in {part['requests']} request(s); "
        f"{part['accepted']} accepted; status reports: {reports}",
        "Scheduled task (Group SMS Assistant life cycle)",
    ]
    lines += [f"  {step['moment']:<15} {step['what']}" for step in part["task"]]
    return lines


def _count(value: int) -> str:
    return f"{value:,}"


def render_text(summary: DemoSummary) -> str:
    """The summary as the demo prints it: a few lines and three small tables.

    Args:
        summary: The summary.

    Returns:
        The text, ending with a newline.
    """
    names = list(summary.providers)
    invalid = sum(summary.invalid.values())
    lines = [
        f"Campaign: {_count(summary.recipients)} appointment reminders in "
        f"{len(summary.languages)} languages ({' '.join(summary.languages)}); "
        f"{_count(invalid)} invalid numbers; {_count(summary.ucs2)} messages need UCS-2",
        f"Outage:   {names[0]} answered HTTP 500 to {summary.outage_requests} requests "
        "partway through; the breaker opened and traffic failed over",
        "",
    ]
    rows = []
    for p in summary.providers.values():
        cost = ", ".join(f"{amount} {unit}" for unit, amount in sorted(p.cost.items()))
        rejected = sum(p.rejected.values())
        rows.append([p.name, p.sent, p.failed_over, p.failed_attempts, rejected, p.parts, cost])
    rows.append([BEFORE_SENDING, "-", "-", "-", invalid, "-", "-"])
    headers = ("provider", "sent", "failed over", "failed attempts", "rejected", "parts", "cost")
    lines.append(render_table(headers, rows))
    reasons = [[BEFORE_SENDING, reason, n] for reason, n in sorted(summary.invalid.items())]
    for p in summary.providers.values():
        reasons += [[p.name, reason, n] for reason, n in sorted(p.rejected.items())]
    if reasons:
        lines.append("Rejected, and why")
        lines.append(render_table(("by", "reason", "messages"), reasons))
    statuses = sorted({s for p in summary.providers.values() for s in p.final})
    final_rows = [
        [status, *(summary.providers[n].final.get(status, 0) for n in names)] for status in statuses
    ]
    lines.append(
        f"Final statuses ({_count(summary.reports_pushed)} reports pushed, "
        f"{_count(summary.reports_polled)} polled)"
    )
    lines.append(render_table(("status", *names), final_rows))
    if summary.huawei is not None:
        lines += _huawei_lines(summary.huawei)
    if summary.unsettled:
        lines.append(f"Still waiting in the outbox: {_count(summary.unsettled)}")
    lines.append(
        f"Accounted for: {_count(summary.accounted)} of {_count(summary.recipients)} recipients"
        f" in {summary.seconds:.1f} s"
    )
    lines.append(f"Outbox: {summary.outbox}")
    return "\n".join(lines) + "\n"
