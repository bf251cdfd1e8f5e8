"""The progress bar and table helpers, in process (no terminal needed)."""

from __future__ import annotations

import io

from smsbridge.cli.output import render_table
from smsbridge.cli.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_counts_rate_and_eta() -> None:
    clock = Clock()
    stream = io.StringIO()
    progress = Progress(10, label="sending", stream=stream, enabled=True, clock=clock)
    clock.now += 2.0
    progress.advance("accepted", 4)
    line = progress.render()
    assert "4/10" in line and "2.0/s" in line and "ETA 00:03" in line and "accepted=4" in line
    assert stream.getvalue().startswith("\rsending [#########")


def test_progress_redraws_at_most_ten_times_a_second() -> None:
    clock = Clock()
    stream = io.StringIO()
    progress = Progress(None, stream=stream, enabled=True, clock=clock)
    for _ in range(100):
        progress.advance()
    clock.now += 0.2
    progress.advance()
    assert stream.getvalue().count("\r") == 2
    progress.close()
    assert stream.getvalue().endswith("101 505.0/s\n")


def test_progress_is_off_when_not_a_terminal() -> None:
    stream = io.StringIO()
    with Progress(5, stream=stream) as progress:
        progress.advance("x")
        progress.clear()
    assert stream.getvalue() == ""
    assert progress.counts == {"x": 1}


def test_render_table_aligns_and_marks_missing_cells() -> None:
    table = render_table(("a", "long header"), [["xyz", None], [1, "v"]])
    assert table == "a    long header\n---  -----------\nxyz  -\n1    v\n"
