"""Benchmark: what checking provider options costs per row, with no I/O.

Run ``python bench/bench_options.py [--rows N]``. Rows of distinct texts (the worst
case: settings are checked once per run of equal messages, so distinct texts check every
row) are planned into BulkSMS ``send_batch`` requests and given Clickatell request keys,
once without options and once with per-row ``extra`` options (checked against each
document) and a raw parameter. Printed: rows per second of each and the ratio of the
checked run to the plain one, measured in the same run (best of 3).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import smsbridge
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_clickatell import ClickatellProvider


def _rows(count: int, options: smsbridge.SendOptions) -> list[smsbridge.Message]:
    return [
        smsbridge.Message(f"+4477009{i % 100_000:05d}", f"Order {i} ships today", options=options)
        for i in range(count)
    ]


def _best(run: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    bulksms = BulkSmsProvider.from_options(
        base_url="http://127.0.0.1:9/eapi", username="u", password="p", stop_dup_start=1
    )
    clickatell = ClickatellProvider.from_options(
        base_url="http://127.0.0.1:9", api_id="1", user="u", password="p"
    )
    plain = _rows(args.rows, smsbridge.SendOptions())
    checked = _rows(
        args.rows,
        smsbridge.SendOptions(
            extra={
                "routing_group": 2,
                "source_id": "acct-42",
                "msg_class": 2,
                "clickatell.queue": 1,
                "bulksms.want_report": True,
            },
            raw={"bulksms": {"new_flag": "1"}},
        ),
    )

    def plan(rows: list[smsbridge.Message]) -> Callable[[], object]:
        def run() -> object:
            for _ in bulksms.plan_messages(rows):
                pass
            return [clickatell.request_key(row) for row in rows]

        return run

    base = _best(plan(plain))
    cost = _best(plan(checked))
    print(f"rows planned (BulkSMS chunks + Clickatell keys): {args.rows:,}; best of 3")
    print(f"without options:   {args.rows / base:12,.0f} rows/s  ({base:.2f} s)")
    print(f"options checked:   {args.rows / cost:12,.0f} rows/s  ({cost:.2f} s)")
    print(f"ratio checked/plain: {cost / base:.2f}x")
    bulksms.close()
    clickatell.close()


if __name__ == "__main__":
    main()
