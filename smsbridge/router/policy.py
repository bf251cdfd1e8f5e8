"""Routing policies: in which order providers are tried for a message.

A policy only orders candidates; the router skips providers whose breaker is open or that
already refused the message, and moves down the list on provider-scope failures.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import attrs

from smsbridge.model import Message
from smsbridge.provider import Provider

__all__ = ["LeastCost", "Policy", "Priority", "Weighted"]


class Policy(Protocol):
    """Orders the providers to try for one message."""

    def order(self, message: Message, providers: Sequence[Provider]) -> list[Provider]:
        """Candidates, most preferred first."""
        ...


@attrs.frozen
class Priority:
    """The configured order, always."""

    def order(self, message: Message, providers: Sequence[Provider]) -> list[Provider]:
        return list(providers)


@attrs.define
class Weighted:
    """A random first choice in proportion to weights; the rest follow by weight.

    Args:
        weights: Provider name → positive weight; unnamed providers weigh 1.
        rand: Source of randomness (seed it for reproducible tests).
    """

    weights: Mapping[str, float] = attrs.field(factory=dict)
    rand: Callable[[], float] = random.random

    def order(self, message: Message, providers: Sequence[Provider]) -> list[Provider]:
        remaining = list(providers)
        ordered: list[Provider] = []
        while len(remaining) > 1:
            weights = [max(self.weights.get(p.name, 1.0), 0.0) for p in remaining]
            total = sum(weights)
            if total <= 0:
                ordered.extend(remaining)
                break
            pick = self.rand() * total
            for index, weight in enumerate(weights):
                pick -= weight
                if pick < 0 or index == len(weights) - 1:
                    ordered.append(remaining.pop(index))
                    break
        return ordered + remaining


class PriceSource(Protocol):
    """Prices a message per provider (the pricing module implements it)."""

    def price(self, provider: Provider, message: Message) -> float | None:
        """The price of ``message`` through ``provider``; ``None`` if not routable."""
        ...


@attrs.frozen
class LeastCost:
    """Cheapest provider first; ties keep the configured priority; unpriced go last.

    Args:
        prices: Where prices come from (see :mod:`smsbridge.pricing` when it lands).
        include_unpriced: Try providers with no known price after the priced ones.
    """

    prices: PriceSource
    include_unpriced: bool = True

    def order(self, message: Message, providers: Sequence[Provider]) -> list[Provider]:
        priced: list[tuple[float, int, Provider]] = []
        unpriced: list[Provider] = []
        for rank, provider in enumerate(providers):
            price = self.prices.price(provider, message)
            if price is None:
                unpriced.append(provider)
            else:
                priced.append((price, rank, provider))
        priced.sort(key=lambda row: (row[0], row[1]))
        ordered = [row[2] for row in priced]
        return ordered + unpriced if self.include_unpriced else ordered
