"""Tests of smsbridge.pricing: shared in-process providers and a sample table.

The providers here never open a connection: table quoting involves no HTTP, and the
provider-API path is exercised through a ``quote`` method that answers from memory.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from smsbridge import Capabilities, Cost, Message, Provider, ProviderOptions, segment
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_huawei import HuaweiProvider

__all__ = [
    "SAMPLE_CSV",
    "Alpha",
    "Beta",
    "BulkSmsBilling",
    "Gamma",
    "HuaweiBilling",
    "Quoting",
    "make",
]

P = TypeVar("P", bound=Provider)

SAMPLE_CSV = """\
provider,country,prefix,network,price,unit
alpha,GB,,,0.040,EUR
alpha,,447,UK mobile,0.035,EUR
alpha,FR,,,0.060,EUR
alpha,*,,,0.100,EUR
beta,,44,,1.2,credits
beta,FR,,,1.0,credits
gamma,GB,,,0.030,GBP
"""


class Alpha(Provider):
    """Priced in EUR, at most three parts per message."""

    name: ClassVar[str] = "alpha"
    capabilities: ClassVar[Capabilities] = Capabilities(max_parts=3)


class Beta(Provider):
    """Priced in credits, no part limit."""

    name: ClassVar[str] = "beta"
    capabilities: ClassVar[Capabilities] = Capabilities()


class Gamma(Provider):
    """Priced in GBP, GSM-7 only."""

    name: ClassVar[str] = "gamma"
    capabilities: ClassVar[Capabilities] = Capabilities(unicode=False)


class Quoting(Provider):
    """Answers quote() from memory: 0.05 EUR a part per recipient; records each call."""

    name: ClassVar[str] = "quoting"
    capabilities: ClassVar[Capabilities] = Capabilities(quote=True)

    def __init__(self, options: ProviderOptions) -> None:
        super().__init__(options)
        self.calls: list[Message] = []

    def quote(self, message: Message) -> Cost:
        self.calls.append(message)
        parts = segment(message.body).part_count
        return Cost("0.05", "EUR") * (parts * len(message.to))


def make(cls: type[P]) -> P:
    """An instance of a test provider (the options are never used to connect)."""
    return cls(ProviderOptions(base_url="http://127.0.0.1:9"))


# The real providers carry the ``billable_parts`` hook; the names stay for the tests.
HuaweiBilling = HuaweiProvider
BulkSmsBilling = BulkSmsProvider
