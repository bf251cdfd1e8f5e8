"""Compare what a campaign would cost with each provider, before sending anything.

Usage::

    python examples/cost_comparison.py [RECIPIENTS.csv] [--csv OUT.csv] [--json OUT.json]

The CSV needs a ``to`` column and a ``name`` column for the template; without a file,
a small sample list is written to a temporary folder and used. Each provider is asked
for its own price (Clickatell ``routeCoverage``, BulkSMS ``quote_sms``), here from its
loopback emulator, and credits are valued in euros with the rates below, so that the
totals can be compared. The comparison prints as a table and, on request, is exported
as CSV rows (one per provider, destination and part count) or as JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import smsbridge
from smsbridge.pricing import CreditRates, Quote, quote
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

TEMPLATE = smsbridge.Template("Hi {name}, your parcel arrives tomorrow between 9:00 and 12:00.")
# What one credit costs with each account: from the invoices, not from the provider.
RATES = CreditRates({"clickatell": ("0.045", "EUR"), "bulksms": ("0.038", "EUR")})
SAMPLE = [
    ("to", "name"),
    ("+447700900123", "Olivia"),
    ("07700 900456", "George"),
    ("+33612345678", "Zoé"),  # é is GSM-7: one part
    ("+4915123456789", "Jürgen"),
    ("+8613123456789", "王伟"),  # needs UCS-2
    ("not a number", "Nobody"),
]


def write_sample(path: Path) -> Path:
    """Write the sample recipient list to ``path`` and return it."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(SAMPLE)
    return path


def compare(recipients: Path, providers: Sequence[smsbridge.Provider]) -> Quote:
    """Quote the template to every recipient of ``recipients`` with each provider.

    Args:
        recipients: The CSV file.
        providers: The candidates.

    Returns:
        The quote, in euros.
    """
    batch = smsbridge.Batch.from_csv(recipients, template=TEMPLATE)
    return quote(
        batch, providers, table=None, rates=RATES, currency="EUR", region="GB",
        use_provider_api=True,
    )  # fmt: skip


def report(result: Quote) -> str:
    """The comparison as text: a line per provider, the cheapest, what cannot be sent."""
    lines = [f"{'provider':<12}{'recipients':>11}{'parts':>7}{'total':>16}"]
    for item in result.providers:
        total = "-" if item.total is None else f"{item.total.amount:.2f} {item.total.unit}"
        lines.append(f"{item.provider:<12}{item.recipients:>11}{item.parts:>7}{total:>16}")
    lines.append(f"cheapest: {result.cheapest()}")
    for row in result.unroutable_rows():
        lines.append(f"not sendable by {row['provider']}: {row['count']} ({row['reason']})")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, start the emulators, quote, print and export."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("recipients", nargs="?", type=Path, help="CSV with 'to' and 'name'")
    parser.add_argument("--csv", type=Path, help="export the breakdown as CSV")
    parser.add_argument("--json", type=Path, help="export the whole quote as JSON")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory() as folder,
        ClickatellEmulator() as clickatell_emulator,
        BulkSmsEmulator() as bulksms_emulator,
        ClickatellProvider.from_options(
            **ClickatellProvider.emulator_options(clickatell_emulator)
        ) as clickatell,
        BulkSmsProvider.from_options(
            **BulkSmsProvider.emulator_options(bulksms_emulator)
        ) as bulksms,
    ):
        source = args.recipients or write_sample(Path(folder) / "recipients.csv")
        result = compare(source, [clickatell, bulksms])
    sys.stdout.write(report(result))
    if args.csv is not None:
        rows = list(result.rows())
        with args.csv.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["provider"])
            writer.writeheader()
            writer.writerows(rows)
    if args.json is not None:
        args.json.write_text(json.dumps(result.as_dict(), indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
