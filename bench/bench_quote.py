"""Benchmark: quote a 1,000,000-recipient batch across 3 providers and 20 countries.

Run ``python bench/bench_quote.py [--recipients N] [--template]``. The batch source is a
generator, so the recipients never exist all at once; the price table is generated in
memory (prefix rows for mobile ranges, country rows and a default per provider, in EUR
and credits). Printed: recipients per second, time per recipient, and the process's peak
RSS, which should stay flat whatever ``--recipients`` is (streaming, counters only).

Most of the time goes to normalising each number with ``phonenumbers``, as the bridge
does before sending; matching a price is a few dict lookups per provider.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from smsbridge import (
    Batch,
    Capabilities,
    Provider,
    ProviderOptions,
    Recipient,
    Template,
)
from smsbridge.pricing import CreditRates, PriceEntry, PriceTable, quote

# (region, calling code, start of a mobile range, digits that follow it)
COUNTRIES = [
    ("GB", "44", "7700", 6),
    ("FR", "33", "612", 6),
    ("DE", "49", "1512", 7),
    ("ES", "34", "612", 6),
    ("IT", "39", "312", 7),
    ("NL", "31", "612", 6),
    ("BE", "32", "470", 6),
    ("PT", "351", "912", 6),
    ("IE", "353", "851", 6),
    ("SE", "46", "701", 6),
    ("NO", "47", "412", 5),
    ("DK", "45", "201", 5),
    ("FI", "358", "401", 6),
    ("PL", "48", "512", 6),
    ("AT", "43", "664", 7),
    ("CH", "41", "781", 6),
    ("US", "1", "212555", 4),
    ("CA", "1", "416555", 4),
    ("AU", "61", "412", 6),
    ("ZA", "27", "821", 6),
]
UNITS = {"alpha": "EUR", "beta": "credits", "gamma": "EUR"}
NAMES = ["Anna", "Luc", "Jürgen", "Sofía", "Mark", "Zoë", "Ivan", "Mei", "Ola", "Chloé"]


class Alpha(Provider):
    name = "alpha"
    capabilities = Capabilities(max_parts=4)


class Beta(Provider):
    name = "beta"
    capabilities = Capabilities()


class Gamma(Provider):
    name = "gamma"
    capabilities = Capabilities(unicode=False)


def price_table() -> PriceTable:
    """Per provider: a prefix row per mobile range, a country row each, and a default."""
    entries: list[PriceEntry] = []
    for index, (provider, unit) in enumerate(UNITS.items()):
        scale = Decimal(30) if unit == "credits" else Decimal(1)
        for n, (region, code, start, _) in enumerate(COUNTRIES):
            base = Decimal(30 + (n * 7 + index * 13) % 50) / 1000 * scale
            entries.append(PriceEntry(provider, base, unit=unit, country=region))
            if n % 2 == index % 2:
                entries.append(PriceEntry(provider, base * 2, unit=unit, prefix=code + start))
        entries.append(PriceEntry(provider, Decimal("0.2") * scale, unit=unit, country="*"))
    return PriceTable(entries)


def recipients(count: int) -> Iterator[Recipient]:
    for i in range(count):
        _, code, start, width = COUNTRIES[i % len(COUNTRIES)]
        number = f"+{code}{start}{(i // len(COUNTRIES)) % 10**width:0{width}d}"
        yield Recipient(number, {"name": NAMES[i % len(NAMES)], "code": i % 10_000})


def show_progress(done: int) -> None:
    print(f"\r{done:,} recipients quoted", end="", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument(
        "--template",
        action="store_true",
        help="render a template per recipient (segmentation per distinct text)",
    )
    args = parser.parse_args()
    count: int = args.recipients
    options = ProviderOptions(base_url="http://127.0.0.1:9")
    providers = [Alpha(options), Beta(options), Gamma(options)]
    table = price_table()
    if args.template:
        batch = Batch(
            lambda: recipients(count),
            template=Template("Hi {name}, your code is {code}. It’s valid for 10 minutes."),
        )
    else:
        batch = Batch(lambda: recipients(count), body="Your appointment is tomorrow at 10:00.")
    start = time.perf_counter()
    result = quote(
        batch,
        providers,
        table=table,
        rates=CreditRates({"beta": ("0.0012", "EUR")}),
        currency="EUR",
        progress=show_progress if sys.stderr.isatty() else None,
        progress_every=100_000,
    )
    elapsed = time.perf_counter() - start
    if sys.stderr.isatty():
        print(file=sys.stderr)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"recipients:      {result.recipients:,} ({len(COUNTRIES)} countries, 3 providers)")
    print(f"time:            {elapsed:.1f} s ({elapsed / max(1, count) * 1e6:.1f} µs/recipient)")
    print(f"throughput:      {count / elapsed:,.0f} recipients/s")
    print(f"peak RSS:        {peak_kib / 1024:.0f} MiB")
    for item in result.providers:
        print(f"  {item.provider:6} {item.total} over {item.recipients:,} recipients")
    print(f"cheapest:        {result.cheapest()}")


if __name__ == "__main__":
    main()
