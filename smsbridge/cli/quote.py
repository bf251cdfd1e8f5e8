"""``smsbridge quote RECIPIENTS.csv``: what a send would cost, per provider, before sending.

The file needs a header row with a ``to`` column; the text is ``--body``, ``--template``
(``{column}`` placeholders) or a ``body`` column. Providers come from the configuration
every command reads (``--config``, else ``$SMSBRIDGE_CONFIG``, else ./smsbridge.toml: the
configured ones, with their prices, region and store), narrowed or extended by
``--providers`` (registered names); prices from ``--prices``. Nothing is sent and no
request is made unless ``--use-api`` asks providers that can quote to do so. The file
is read once, lazily, so a million-line file is quoted in bounded memory, with a
progress bar on a terminal.

``--actual`` compares instead the estimate with what providers reported they charged,
for the messages in the outbox (``--store``), and lists those billed although they
failed.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from smsbridge.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from smsbridge.cli.output import render_table, write_json
from smsbridge.cli.progress import Progress
from smsbridge.cli.segments import language_list
from smsbridge.cli.stores import open_existing_store
from smsbridge.config import find_config, load_config
from smsbridge.errors import ConfigurationError, InvalidMessageError
from smsbridge.inputs import DEFAULT_ENCODING, BadRow, CsvRows, InputFileError, count_rows
from smsbridge.model import Batch, Recipient, SendOptions, Template
from smsbridge.observe.logs import log_rejected_input
from smsbridge.plugins import default_plugin_manager
from smsbridge.pricing import (
    CreditRates,
    PriceTable,
    Quote,
    SpendReport,
    compare_spend,
    quote,
    write_chart,
)
from smsbridge.provider import Provider, ProviderOptions

__all__ = ["Settings", "parse_rates", "register", "write_quote"]

_EVERY = 1000
_CSV_FIELDS = (
    "provider",
    "country",
    "recipients",
    "parts",
    "price_per_part",
    "total",
    "unit",
    "source",
)
_SUMMARY = ("provider", "recipients", "unroutable", "parts", "total", "unit", "source")
_BREAKDOWN = ("provider", "country", "recipients", "parts/msg", "price/part", "total", "unit")


class Settings:
    """Providers, prices and region gathered from the options and ``--config``."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.providers: list[Provider] = []
        self.prices: Path | None = Path(args.prices) if args.prices else None
        self.region: str | None = args.region
        names = [n.strip() for n in (args.providers or "").split(",") if n.strip()]
        registry = default_plugin_manager().registry
        # The same file every command reads: --config, $SMSBRIDGE_CONFIG, ./smsbridge.toml.
        found = find_config(args.config)
        if found is None:
            self.providers = [_build(registry.get(name), args.use_api) for name in names]
            return
        config = load_config(found)
        built = config.build_providers()
        keep = [p for p in built if not names or p.name in names]
        for provider in built:
            if provider not in keep:
                provider.close()
        self.providers = keep
        # A name the file does not configure is compared with its default options.
        configured = {p.name for p in built}
        for name in names:
            if name not in configured:
                self.providers.append(_build(registry.get(name), args.use_api))
        self.prices = self.prices or config.prices
        self.region = self.region or config.region

    def table(self) -> PriceTable:
        """The price table (an empty one when only provider APIs are asked)."""
        return PriceTable.from_csv(self.prices) if self.prices else PriceTable(())

    def close(self) -> None:
        """Close every provider built."""
        for provider in self.providers:
            provider.close()


def _build(cls: type[Provider], use_api: bool) -> Provider:
    """The provider with default options; without credentials, a stand-in for pricing.

    A table quote needs only the provider's name and capabilities, so a provider whose
    options need credentials is still compared: through a stand-in that cannot send.
    """
    try:
        return cls.from_options()
    except ConfigurationError:
        if use_api:
            raise
    offline: type[Provider] = type(
        f"{cls.__name__}Offline",
        (Provider,),
        {"name": cls.name, "capabilities": cls.capabilities, "__doc__": "Priced offline."},
    )
    return offline(ProviderOptions(base_url="http://127.0.0.1:9"))


def parse_rates(values: list[str]) -> CreditRates:
    rates: dict[str, tuple[str, str]] = {}
    for value in values:
        name, _, rate = value.partition("=")
        amount, _, unit = rate.partition(":")
        if not name or not amount or not unit:
            raise ConfigurationError(f"--rate wants NAME=AMOUNT:CURRENCY, not {value!r}")
        rates[name.strip()] = (amount.strip(), unit.strip())
    return CreditRates(rates)


def _recipients(path: Path, encoding: str) -> Iterator[Recipient]:
    """The lines of the file as recipients, read lazily; bad lines reported and skipped."""
    with CsvRows(path, encoding=encoding) as reader:
        header = reader.header
        for row in reader.rows(header.index("to")):
            if isinstance(row, BadRow):
                print(f"{path}:{row.line}: {row.reason}", file=sys.stderr)
                log_rejected_input(str(path), row.line, row.reason)
                continue
            values = dict(zip(header, row.values, strict=True))
            number = values.pop("to").strip()
            values.pop("reference", None)
            yield Recipient(number, values)


def _read_header(path: Path, encoding: str) -> tuple[str, ...]:
    with CsvRows(path, encoding=encoding) as reader:
        return reader.header


def _batch(args: argparse.Namespace, path: Path, header: tuple[str, ...]) -> Batch:
    if "to" not in header:
        raise InvalidMessageError(f"{path}:1: no 'to' column in the header", field="to")
    options = SendOptions(transliterate=args.transliterate, national_languages=args.national)
    encoding = args.encoding
    if args.body is not None:
        return Batch(lambda: _recipients(path, encoding), body=args.body, options=options)
    template = Template(args.template if args.template is not None else "{body}")
    if args.template is None and "body" not in header:
        raise InvalidMessageError("give --body, --template, or a 'body' column", field="body")
    missing = [v for v in template.variables if v not in header]
    if missing:
        raise InvalidMessageError(
            f"template variable {missing[0]!r} is not a column of {path}", field="template"
        )
    return Batch(lambda: _recipients(path, encoding), template=template, options=options)


def _print_table(result: Quote, out: TextIO) -> None:
    summary = []
    for item in result.providers:
        total = item.total
        sources = "+".join(sorted({row.source for row in item.rows})) or "-"
        summary.append(
            [
                item.provider,
                f"{item.recipients:,}",
                f"{item.unroutable_count:,}",
                f"{item.parts:,}",
                "-" if total is None else total.amount,
                "-" if total is None else total.unit,
                sources,
            ]
        )
    out.write(render_table(_SUMMARY, summary))
    rows = [
        (
            r.provider,
            r.country or "?",
            f"{r.recipients:,}",
            r.parts,
            r.price_per_part,
            r.total,
            r.unit,
        )
        for item in result.providers
        for r in item.rows
    ]
    if rows:
        out.write("\n" + render_table(_BREAKDOWN, rows))
    groups = [
        [g["provider"], g["reason"], f"{g['count']:,}", g["detail"]]
        for g in result.unroutable_rows()
    ]
    if groups:
        out.write("\nunroutable\n" + render_table(("provider", "reason", "count", "why"), groups))
    for note in result.notes:
        out.write(f"note: {note}\n")
    if result.hint is not None:
        out.write("\n" + result.hint.explain() + "\n")
    out.write(f"\ncheapest: {result.cheapest() or '-'} ({result.recipients:,} recipients)\n")


def write_quote(result: Quote, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        write_json(out, result.as_dict())
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=_CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(result.rows())
    else:
        _print_table(result, out)


def _cmd_quote(args: argparse.Namespace, out: TextIO) -> int:
    if args.actual:
        return _cmd_actual(args, out)
    if args.file is None:
        print("smsbridge quote: give RECIPIENTS.csv (or --actual)", file=sys.stderr)
        return EXIT_USAGE
    path = Path(args.file)
    try:
        header = _read_header(path, args.encoding)
        batch = _batch(args, path, header)
    except InputFileError as exc:
        print(f"smsbridge quote: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InvalidMessageError as exc:
        print(f"smsbridge quote: {exc}", file=sys.stderr)
        return EXIT_USAGE
    settings = Settings(args)
    try:
        if not settings.providers:
            raise ConfigurationError("no providers: give --providers NAME,... or --config")
        table = settings.table()
        progress = Progress(label="quoting", enabled=False if args.quiet else None)
        if progress.enabled:
            progress.total = count_rows(
                path, encoding=args.encoding, number_column=header.index("to")
            )

        def advance(done: int) -> None:
            progress.advance(n=done - progress.done)

        with progress:
            result = quote(
                batch,
                settings.providers,
                table=table,
                rates=parse_rates(args.rate),
                currency=args.currency,
                region=settings.region,
                use_provider_api=args.use_api,
                progress=advance,
                progress_every=_EVERY,
            )
    finally:
        settings.close()
    write_quote(result, args.format, out)
    if args.chart:
        write_chart(result, args.chart)
        if not args.quiet:
            print(f"chart written to {args.chart}", file=sys.stderr)
    return EXIT_OK if result.cheapest() is not None else EXIT_FAILED


def _cmd_actual(args: argparse.Namespace, out: TextIO) -> int:
    settings = Settings(args)
    try:
        if settings.prices is None:
            raise ConfigurationError("--actual needs --prices (or prices in --config)")
        table = settings.table()
        store = open_existing_store(args)
        try:
            report = compare_spend(
                store.iter_items(batch=args.batch),
                table=table,
                providers=settings.providers,
                rates=parse_rates(args.rate),
                region=settings.region,
            )
        finally:
            store.close()
    finally:
        settings.close()
    _write_spend(report, args.format, out)
    return EXIT_FAILED if report.billed_failures else EXIT_OK


def _write_spend(report: SpendReport, fmt: str, out: TextIO) -> None:
    rows = list(report.rows())
    failures = [
        {
            "reference": f.reference,
            "recipient": f.recipient,
            "provider": f.provider,
            "status": f.status.value,
            "cost": str(f.cost.amount),
            "unit": f.cost.unit,
            "message_id": f.message_id,
        }
        for f in report.billed_failures
    ]
    if fmt == "json":
        write_json(out, {"providers": rows, "billed_failures": failures})
        return
    if fmt == "csv":
        fields = list(rows[0]) if rows else ["provider"]
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return
    headers = ("provider", "unit", "estimated", "actual", "difference", "items", "reported")
    out.write(render_table(headers, ([r[h] for h in headers] for r in rows)))
    if failures:
        out.write(f"\nbilled although failed: {len(failures)}\n")
        keys = ("reference", "recipient", "provider", "status", "cost", "unit")
        out.write(render_table(keys, ([f[k] for k in keys] for f in failures)))


def register(sub: Any) -> None:
    """Add the ``quote`` command."""
    cmd = sub.add_parser(
        "quote", help="price a send per provider before sending (or compare actual spend)"
    )
    cmd.add_argument(
        "file", nargs="?", metavar="RECIPIENTS.csv", help="CSV with a header and a 'to' column"
    )
    text = cmd.add_mutually_exclusive_group()
    text.add_argument("--body", default=None, metavar="TEXT", help="the same text for everyone")
    text.add_argument(
        "--template", default=None, metavar="TEXT", help="text with {column} placeholders"
    )
    cmd.add_argument(
        "--encoding",
        default=DEFAULT_ENCODING,
        help="the file's encoding (default utf-8-sig; a UTF-16/32 byte-order mark wins)",
    )
    cmd.add_argument("--providers", default=None, metavar="NAME,...", help="providers to compare")
    cmd.add_argument("--prices", default=None, metavar="FILE.csv", help="the price table")
    cmd.add_argument(
        "--config",
        default=None,
        metavar="PATH",
        help="take providers, prices, region and store from it "
        "(default: $SMSBRIDGE_CONFIG, then ./smsbridge.toml)",
    )
    cmd.add_argument("--region", default=None, help="default region for national numbers")
    cmd.add_argument("--currency", default=None, help="compare totals in this currency")
    cmd.add_argument(
        "--rate",
        action="append",
        default=[],
        metavar="NAME=AMOUNT:CURRENCY",
        help="value one credit of a provider, e.g. bulksms=0.035:EUR (repeatable)",
    )
    cmd.add_argument(
        "--transliterate", action="store_true", help="price the text as sent transliterated"
    )
    cmd.add_argument(
        "--national",
        type=language_list,
        default=(),
        metavar="CODES",
        help="national language tables the routes apply, comma-separated (tr,es)",
    )
    cmd.add_argument(
        "--use-api", action="store_true", help="ask providers that can quote (makes requests)"
    )
    cmd.add_argument("--format", choices=("table", "csv", "json"), default="table")
    cmd.add_argument("--chart", default=None, metavar="FILE.svg", help="also draw an SVG chart")
    cmd.add_argument(
        "--actual", action="store_true", help="estimated against actual spend in the outbox"
    )
    cmd.add_argument("--store", default=None, metavar="PATH|URL", help="the outbox (--actual)")
    cmd.add_argument("--batch", default=None, metavar="REF", help="only this batch (--actual)")
    cmd.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    cmd.set_defaults(func=_cmd_quote)
