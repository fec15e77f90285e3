"""The tick timeline: inline SVG drawn on the server, one bar per tick, coloured by status.

A bar's height grows with the runs the tick made (a skipped tick is a short grey stub), and
each bar links to the tick's row in the table below it and carries the tick's id and status
(``data-tick-id``, ``data-status``).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from tocsin.model.ticks import Tick

WIDTH = 800
HEIGHT = 80
_CLASS = {"SUCCESS": "ok", "SKIPPED": "skip", "FAILURE": "bad", "STARTED": "busy"}


def timeline_svg(ticks: Sequence[Tick], *, item_url: str = "") -> str:
    """SVG of ``ticks`` (oldest first); an empty string when there are none."""
    if not ticks:
        return '<p class="muted">No ticks yet.</p>'
    start = ticks[0].timestamp.timestamp()
    end = ticks[-1].timestamp.timestamp()
    span = (end - start) or 1.0
    most = max((len(t.run_ids) for t in ticks), default=0) or 1
    bars = [_bar(tick, start, span, most) for tick in ticks]
    first, last = escape(ticks[0].timestamp.isoformat()), escape(ticks[-1].timestamp.isoformat())
    return (
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {HEIGHT + 16}" role="img" '
        f'aria-label="Ticks from {first} to {last}">'
        + "".join(bars)
        + f'<text x="0" y="{HEIGHT + 14}" class="axis">{first}</text>'
        + f'<text x="{WIDTH}" y="{HEIGHT + 14}" class="axis" text-anchor="end">{last}</text>'
        + "</svg>"
    )


def _bar(tick: Tick, start: float, span: float, most: int) -> str:
    x = 4 + (WIDTH - 12) * (tick.timestamp.timestamp() - start) / span
    runs = len(tick.run_ids)
    height = 12 if runs == 0 else 20 + (HEIGHT - 20) * runs / most
    css = _CLASS.get(tick.status.value, "")
    label = f"{tick.timestamp.isoformat()} {tick.status.value}, {runs} run(s)"
    if tick.skip_reason:
        label += f": {tick.skip_reason}"
    return (
        f'<a href="#tick-{tick.tick_id}"><rect x="{x:.1f}" y="{HEIGHT - height:.1f}" '
        f'width="4" height="{height:.1f}" class="{css}" data-runs="{runs}" '
        f'data-tick-id="{tick.tick_id}" data-status="{tick.status.value}">'
        f"<title>{escape(label)}</title></rect></a>"
    )
