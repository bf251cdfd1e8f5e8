"""Planning Huawei requests: template mapping, per-recipient checks, windows, groups.

Pure functions (no I/O) between the smsbridge model and :mod:`.protocol`:

* :func:`plan_message` / :func:`plan_batch` map a Message or Batch onto an approved
  template id and positional parameters, or refuse it (``InvalidMessageError`` naming the
  field) — free text is never silently turned into something else;
* :func:`prepare` checks one recipient (variables, parts) before anything is sent;
* :func:`windows` cuts a stream of recipients into request-sized windows (at most 500
  numbers and, for batchSendDiffSms, a body under 64 KB), holding one window at a time;
* :func:`split` groups a window's recipients by identical parameter tuples: one group is
  a batchSendSms request, several a batchSendDiffSms request.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from smsbridge import (
    Batch,
    InvalidMessageError,
    Message,
    SendOptions,
    SendResult,
    Status,
    Template,
    TemplateError,
)
from smsbridge.sdk import provider_extras, raw_params

from .protocol import MAX_BODY_BYTES, MAX_NUMBERS, Group, group_size
from .templates import (
    DEFAULT,
    MAX_VARIABLES,
    attribute_for_name,
    parts_for,
    region_of,
    validate_params,
)

__all__ = [
    "EXTRA_PARAMS",
    "EXTRA_TEMPLATE_ID",
    "Item",
    "Plan",
    "plan_batch",
    "plan_message",
    "prepare",
    "split",
    "windows",
]

PROVIDER = "huawei"
EXTRA_TEMPLATE_ID = "huawei_template_id"
"""``SendOptions.extra`` key: the approved template id for a free-text Message/Batch."""
EXTRA_PARAMS = "huawei_template_params"
"""``SendOptions.extra`` key: that template's values, in order (a sequence of str)."""
# Leave room in the 64 KB diff-send body for from/statusCallback/extend and the wrapper.
_BODY_BUDGET = MAX_BODY_BYTES - 2048


@attrs.frozen
class Plan:
    """How a Message or Batch maps onto one approved template.

    Args:
        template_id: The approved template id.
        names: Variable names for errors (``${1}``... when the values are positional).
        attributes: Each variable's attribute (length/character rule).
        counted: What the recipient reads: the smsbridge Template or the body text.
        fixed_params: The values when every recipient gets the same (Message, body Batch).
    """

    template_id: str
    names: tuple[str, ...]
    attributes: tuple[str, ...]
    counted: Template | str
    fixed_params: tuple[str, ...] | None = None


@attrs.frozen
class Item:
    """A recipient checked and ready to send."""

    number: str
    reference: str | None
    params: tuple[str, ...]
    parts: int


def _attributes_for(
    template_id: str, count: int, names: Sequence[str], configured: Mapping[str, Sequence[str]]
) -> tuple[str, ...]:
    if template_id in configured:
        attributes = tuple(a.upper() for a in configured[template_id])
        if len(attributes) != count:
            raise InvalidMessageError(
                f"variable_attributes[{template_id!r}] lists {len(attributes)} attribute(s) "
                f"but the template has {count} variable(s)",
                field="variable_attributes",
                value=len(attributes),
                provider=PROVIDER,
            )
        return attributes
    if names:
        return tuple(attribute_for_name(name) for name in names)
    return (DEFAULT,) * count


def _from_extra(
    body: str, options: SendOptions, templates: Mapping[str, str], configured: Mapping[str, Any]
) -> Plan:
    extra = options.extra
    template_id = extra.get(EXTRA_TEMPLATE_ID) or templates.get(body)
    if not template_id:
        raise InvalidMessageError(
            "Huawei sends only approved templates: give the template id in "
            f"options.extra[{EXTRA_TEMPLATE_ID!r}] (values in "
            f"options.extra[{EXTRA_PARAMS!r}]), map this text in the provider's "
            "`templates` option, or send a Template with provider_ids['huawei']",
            field=EXTRA_TEMPLATE_ID,
            value=None,
            provider=PROVIDER,
        )
    if not isinstance(template_id, str) or not 1 <= len(template_id) <= 32:
        raise InvalidMessageError(
            "a Huawei template id is 1-32 characters",
            field=EXTRA_TEMPLATE_ID,
            value=template_id,
            provider=PROVIDER,
        )
    raw = extra.get(EXTRA_PARAMS, ())
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
        raise InvalidMessageError(
            f"options.extra[{EXTRA_PARAMS!r}] must be a sequence of values",
            field=EXTRA_PARAMS,
            value=type(raw).__name__,
            provider=PROVIDER,
        )
    params = tuple(str(value) for value in raw)
    names = tuple(f"${{{index}}}" for index in range(1, len(params) + 1))
    attributes = _attributes_for(template_id, len(params), (), configured)
    return Plan(template_id, names, attributes, body, params)


def plan_message(
    message: Message, *, templates: Mapping[str, str], configured: Mapping[str, Any]
) -> Plan:
    """Map a Message onto an approved template (its own Template, or a mapped text).

    Raises:
        InvalidMessageError: No template id is given for it (``field`` names the option).
    """
    template = message.template
    if template is not None and template.provider_ids.get(PROVIDER):
        # Rendered from an approved template: send the template and its values.
        plan = _from_template(template, configured)
        missing = [name for name in template.variables if name not in message.variables]
        if missing:
            raise InvalidMessageError(
                f"template variable {missing[0]!r} has no value",
                field="variables",
                value=missing[0],
                provider=PROVIDER,
            )
        values = tuple(str(message.variables[name]) for name in template.variables)
        return attrs.evolve(plan, fixed_params=values)
    return _from_extra(message.body, message.options, templates, configured)


def plan_batch(
    batch: Batch, *, templates: Mapping[str, str], configured: Mapping[str, Any]
) -> Plan:
    """Map a Batch onto a template.

    Raises:
        InvalidMessageError: A body batch without a template id, a Template without
            ``provider_ids['huawei']``, or more than 20 variables.
    """
    if batch.template is None:
        assert batch.body is not None
        return _from_extra(batch.body, batch.options, templates, configured)
    return _from_template(batch.template, configured)


def _from_template(template: Template, configured: Mapping[str, Any]) -> Plan:
    template_id = template.provider_ids.get(PROVIDER)
    if not template_id:
        raise InvalidMessageError(
            "Huawei sends only approved templates: set Template.provider_ids['huawei'] "
            "to the approved template id",
            field="template.provider_ids",
            value=dict(template.provider_ids),
            provider=PROVIDER,
        )
    if len(template.variables) > MAX_VARIABLES:
        raise InvalidMessageError(
            f"a Huawei template has at most {MAX_VARIABLES} variables",
            field="template",
            value=len(template.variables),
            provider=PROVIDER,
        )
    attributes = _attributes_for(
        template_id, len(template.variables), template.variables, configured
    )
    return Plan(template_id, template.variables, attributes, template)


def _refused(number: str, reference: str | None, exc: InvalidMessageError) -> SendResult:
    return SendResult(
        number,
        Status.REJECTED,
        provider=PROVIDER,
        reference=reference,
        error=exc.info(),
        attempts=0,
    )


#: Form fields and JSON keys the provider writes itself: a raw parameter may not replace them.
RAW_RESERVED = frozenset(
    {"from", "to", "templateId", "templateParas", "signature", "statusCallback", "extend"}
    | {"smsContent", EXTRA_TEMPLATE_ID, EXTRA_PARAMS}
)


def check_options(options: SendOptions) -> tuple[tuple[str, str], ...]:
    """Refuse options Huawei does not know; return the raw parameters to send.

    Raises:
        InvalidMessageError: An ``extra`` name other than the template id and values
            (``field="extra.<name>"``), or a raw parameter the provider sets itself.
    """
    provider_extras(options, provider=PROVIDER, known=(EXTRA_TEMPLATE_ID, EXTRA_PARAMS))
    for key in options.extra:
        if isinstance(key, str) and key.startswith(f"{PROVIDER}."):
            # Huawei's names are its own already; the planner reads them unscoped only.
            raise InvalidMessageError(
                f"write {key.partition('.')[2]!r} without the '{PROVIDER}.' scope: "
                "Huawei's option names belong to Huawei already",
                field=f"extra.{key}",
                value=key,
                provider=PROVIDER,
            )
    return tuple(raw_params(options, provider=PROVIDER, reserved=RAW_RESERVED))


def prepare(
    plan: Plan,
    number: str,
    reference: str | None,
    variables: Mapping[str, Any],
    *,
    options: SendOptions,
    signature: str | None,
) -> Item | SendResult:
    """Check one recipient before sending.

    Returns:
        An :class:`Item` ready to go, or a REJECTED :class:`~smsbridge.SendResult` whose
        error names the variable (missing, too long, forbidden character) or
        ``max_parts``.
    """
    try:
        check_options(options)
        params: tuple[str, ...]
        if plan.fixed_params is not None:
            params = plan.fixed_params
        else:
            values: list[str] = []
            for name in plan.names:
                value = variables.get(name)
                if value is None:
                    raise TemplateError(
                        f"template variable {name!r} is missing for {number}",
                        variable=name,
                        recipient=number,
                        value=name,
                    )
                values.append(str(value))
            params = tuple(values)
        validate_params(plan.names, plan.attributes, params, recipient=number)
        region = region_of(number)
        counted_params: Sequence[str] | Mapping[str, Any]
        counted_params = (
            () if isinstance(plan.counted, str) else dict(zip(plan.names, params, strict=True))
        )
        try:
            parts = parts_for(
                plan.counted, counted_params, signature, region, encoding=options.encoding
            )
        except ValueError as exc:
            raise InvalidMessageError(str(exc), field="encoding", value=options.encoding) from None
        if options.max_parts is not None and parts > options.max_parts:
            raise InvalidMessageError(
                f"the message needs {parts} parts, more than max_parts={options.max_parts}",
                field="max_parts",
                value=parts,
            )
    except InvalidMessageError as exc:
        exc.provider = exc.provider or PROVIDER
        return _refused(number, reference, exc)
    return Item(number, reference, tuple(params), parts)


def _item_bytes(item: Item, signature: str | None) -> int:
    # A new group costs its whole JSON (signature included: every group repeats it); a
    # number joining one costs itself, quoted.
    group = Group((item.number,), "x" * 32, item.params, signature)
    return group_size(group.as_json())


def windows(
    entries: Iterable[Item | SendResult],
    *,
    size: int = MAX_NUMBERS,
    signature: str | None = None,
) -> Iterator[list[Item | SendResult]]:
    """Cut a stream into windows of at most ``size`` sendable items whose diff-send body
    stays within 64 KB. Refused recipients ride along in order; only one window is held.

    Args:
        entries: Checked recipients and refusals, in order.
        size: Most sendable items per window (at most 500).
        signature: The signature every group carries, counted in the body's size.
    """
    size = max(1, min(size, MAX_NUMBERS))
    window: list[Item | SendResult] = []
    count, budget, seen = 0, 0, set[tuple[str, ...]]()
    for entry in entries:
        if isinstance(entry, Item):
            cost = len(json.dumps(entry.number)) + 1
            if entry.params not in seen:
                cost += _item_bytes(entry, signature)
            if count and (count >= size or budget + cost > _BODY_BUDGET):
                yield window
                window, count, budget, seen = [], 0, 0, set()
                cost = len(json.dumps(entry.number)) + 1 + _item_bytes(entry, signature)
            seen.add(entry.params)
            count += 1
            budget += cost
        window.append(entry)
    if window:
        yield window


def split(items: Sequence[Item], template_id: str, signature: str | None) -> list[Group]:
    """Group a window's items by identical parameter tuples, first-seen order."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for item in items:
        groups.setdefault(item.params, []).append(item.number)
    return [
        Group(tuple(numbers), template_id, params, signature) for params, numbers in groups.items()
    ]
