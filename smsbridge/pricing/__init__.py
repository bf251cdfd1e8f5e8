"""Cost comparison: price tables, quotes, billed parts, least-cost prices, actual spend.

Quick start::

    from smsbridge.pricing import CreditRates, PriceTable, TablePrices, quote

    table = PriceTable.from_csv("prices.csv")
    result = quote(batch, providers, table=table, currency="EUR",
                   rates=CreditRates({"bulksms": ("0.035", "EUR")}))
    print(result.cheapest())

    router_policy = LeastCost(TablePrices(table))  # cheapest provider first when sending

See ``docs/pricing.md`` for the price-table format and the rules of a quote.
"""

from __future__ import annotations

from .actual import BilledFailure, ProviderSpend, SpendReport, charge_reports, compare_spend
from .chart import quote_chart, write_chart
from .hints import ProviderSaving, Substitution, SubstitutionHint, substitution
from .locate import locate
from .parts import BillableParts, parts_for
from .quote import bridge_quote, quote
from .quote_values import PROVIDER_API, TABLE, ProviderQuote, Quote, QuoteRow, Unroutable
from .rates import CREDITS, CreditRates
from .routing import TablePrices
from .table import COLUMNS, PriceEntry, PriceProblem, PriceTable, PriceTableError

__all__ = [
    "COLUMNS",
    "CREDITS",
    "PROVIDER_API",
    "TABLE",
    "BillableParts",
    "BilledFailure",
    "CreditRates",
    "PriceEntry",
    "PriceProblem",
    "PriceTable",
    "PriceTableError",
    "ProviderQuote",
    "ProviderSaving",
    "ProviderSpend",
    "Quote",
    "QuoteRow",
    "SpendReport",
    "Substitution",
    "SubstitutionHint",
    "TablePrices",
    "Unroutable",
    "bridge_quote",
    "charge_reports",
    "compare_spend",
    "locate",
    "parts_for",
    "quote",
    "quote_chart",
    "substitution",
    "write_chart",
]
