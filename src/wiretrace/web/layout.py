"""Geometry for the pages: highlighted segments of a text, a family tree, a timeline, a bar chart.

Pure functions of plain values, so they can be tested without a store or a server. The
templates turn the results into HTML and SVG; all text goes through Jinja's escaping there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Segment(Generic[T]):
    """A stretch of text and the marks (e.g. passages) covering all of it."""

    start: int
    end: int
    text: str
    marks: tuple[T, ...]


def segments(text: str, spans: Sequence[tuple[int, int, T]]) -> list[Segment[T]]:
    """Cut ``text`` at every span boundary; each piece lists the spans covering it.

    Spans may overlap and are clipped to the text; empty ones are ignored.
    """
    n = len(text)
    clipped = [(max(0, s), min(n, e), mark) for s, e, mark in spans]
    clipped = [(s, e, mark) for s, e, mark in clipped if s < e]
    cuts = sorted({0, n, *(s for s, _, _ in clipped), *(e for _, e, _ in clipped)})
    pieces = []
    for start, end in zip(cuts, cuts[1:]):
        covering = tuple(mark for s, e, mark in clipped if s <= start and end <= e)
        pieces.append(Segment(start, end, text[start:end], covering))
    return pieces


# --- family tree --------------------------------------------------------------------------


@dataclass
class TreeNode:
    id: str
    depth: int
    x: float = 0.0
    y: float = 0.0


@dataclass
class TreeEdge:
    parent: str
    child: str
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass
class TreeLayout:
    nodes: list[TreeNode]
    edges: list[TreeEdge]
    width: float
    height: float


def tree_layout(
    members: Sequence[tuple[str, str | None]],
    column: float = 190.0,
    row: float = 30.0,
    margin: float = 20.0,
) -> TreeLayout:
    """Lay out parent -> child links left to right: depth is the column, leaves take rows.

    ``members`` are ``(id, parent id)`` in the order children should appear (e.g. by time).
    A parent outside ``members`` makes the member a root; a cycle is broken where it is met.
    """
    ids = [member for member, _ in members]
    known = set(ids)
    children: dict[str, list[str]] = {member: [] for member in ids}
    roots = []
    for member, parent in members:
        if parent in known and parent != member:
            children[parent].append(member)
        else:
            roots.append(member)
    depth: dict[str, int] = {}
    order: list[str] = []
    tree_children: dict[str, list[str]] = {}
    for start in roots + ids:  # ids again: members on a cycle have no root above them
        if start in depth:
            continue
        stack = [(start, 0, None)]
        while stack:
            node, level, parent = stack.pop()
            if node in depth:
                continue
            depth[node] = level
            order.append(node)
            tree_children[node] = []
            if parent is not None:
                tree_children[parent].append(node)
            stack.extend((child, level + 1, node) for child in reversed(children[node]))
    y: dict[str, float] = {}
    next_row = 0
    for node in order:  # preorder meets leaves top to bottom
        if not tree_children[node]:
            y[node] = margin + row * next_row + row / 2
            next_row += 1
    for node in reversed(order):  # children before their parents
        kids = tree_children[node]
        if kids:
            y[node] = (y[kids[0]] + y[kids[-1]]) / 2
    nodes = [TreeNode(n, depth[n], margin + column * depth[n] + 8, y[n]) for n in order]
    by_id = {node.id: node for node in nodes}
    edges = [
        TreeEdge(parent, child, by_id[parent].x, by_id[parent].y, by_id[child].x, by_id[child].y)
        for parent in order
        for child in tree_children[parent]
    ]
    width = margin * 2 + column * (max(depth.values(), default=0) + 1)
    return TreeLayout(nodes, edges, width, margin * 2 + row * max(next_row, 1))


# --- timeline -----------------------------------------------------------------------------


@dataclass
class TimelinePoint:
    id: str
    x: float
    y: float
    when: datetime


@dataclass
class Tick:
    x: float
    label: str


@dataclass
class Timeline:
    points: list[TimelinePoint]
    edges: list[tuple[TimelinePoint, TimelinePoint]]
    ticks: list[Tick]
    width: float
    height: float
    undated: list[str] = field(default_factory=list)


def timeline_layout(
    members: Sequence[tuple[str, str | None, datetime | None]],
    width: float = 900.0,
    row: float = 24.0,
    left: float = 60.0,
    right: float = 280.0,
) -> Timeline:
    """One row per dated member in time order, x by publication time; parent -> child edges."""
    dated = sorted((m for m in members if m[2] is not None), key=lambda m: (m[2], m[0]))
    undated = [member for member, _, when in members if when is None]
    top = 30.0
    if not dated:
        return Timeline([], [], [], width, top, undated)
    first, last = dated[0][2], dated[-1][2]
    span = (last - first).total_seconds()
    plot = width - left - right

    def x_of(when: datetime) -> float:
        return left + (plot * (when - first).total_seconds() / span if span else plot / 2)

    points = [
        TimelinePoint(member, x_of(when), top + row * i + row / 2, when)
        for i, (member, _, when) in enumerate(dated)
    ]
    by_id = {point.id: point for point in points}
    edges = [
        (by_id[parent], by_id[member])
        for member, parent, _ in dated
        if parent in by_id and parent != member
    ]
    ticks = [Tick(x_of(when), _time_label(when, span)) for when in _tick_times(first, last)]
    return Timeline(points, edges, ticks, width, top + row * len(points) + 10, undated)


def _tick_times(first: datetime, last: datetime, count: int = 4) -> list[datetime]:
    if first == last:
        return [first]
    step = (last - first) / count
    return [first + step * i for i in range(count + 1)]


def _time_label(when: datetime, span_seconds: float) -> str:
    if span_seconds < 2 * 86400:
        return when.strftime("%d %b %H:%M")
    return when.strftime("%Y-%m-%d")


# --- bar chart ----------------------------------------------------------------------------


@dataclass
class Bar:
    label: str
    x: float
    width: float
    lower_y: float  # top of the lower bar (originals)
    lower_height: float
    upper_y: float  # top of the upper bar (copies), stacked on the lower one
    upper_height: float
    lower: int
    upper: int
    labelled: bool


@dataclass
class BarChart:
    bars: list[Bar]
    ticks: list[tuple[float, int]]  # (y, value) on the vertical axis
    width: float
    height: float
    baseline: float
    left: float


def stacked_bars(
    periods: Sequence[tuple[date, int, int]],
    width: float = 860.0,
    height: float = 240.0,
    left: float = 50.0,
    bottom: float = 40.0,
    top: float = 10.0,
    max_labels: int = 12,
) -> BarChart:
    """Stacked bars (lower, upper) per period, scaled to the largest total."""
    plot_width = width - left - 10
    plot_height = height - top - bottom
    biggest = max((lower + upper for _, lower, upper in periods), default=0) or 1
    slot = plot_width / max(len(periods), 1)
    bar_width = max(1.0, min(40.0, slot * 0.8))
    every = max(1, -(-len(periods) // max_labels))
    baseline = top + plot_height
    bars = []
    for i, (when, lower, upper) in enumerate(periods):
        lower_h = plot_height * lower / biggest
        upper_h = plot_height * upper / biggest
        bars.append(
            Bar(
                label=when.isoformat(),
                x=left + slot * i + (slot - bar_width) / 2,
                width=bar_width,
                lower_y=baseline - lower_h,
                lower_height=lower_h,
                upper_y=baseline - lower_h - upper_h,
                upper_height=upper_h,
                lower=lower,
                upper=upper,
                labelled=i % every == 0,
            )
        )
    ticks = [(baseline - plot_height * v / biggest, v) for v in sorted({0, biggest // 2, biggest})]
    return BarChart(bars, ticks, width, height, baseline, left)
