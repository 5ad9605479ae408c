"""Charts as data: pure functions that turn numbers into SVG geometry and a text equivalent.

templates/_chart.html draws any Chart: rectangles, lines and text, then the same numbers as a
table. Nothing here touches Django or the database, so the geometry is tested directly.

Horizontal positions are percentages of the chart's width and vertical ones are pixels: the SVG
has no viewBox, so it stretches to its container's width while text keeps its size (a viewBox
would shrink the labels to a few pixels on a phone and blow them up on a desktop). Offsets that
must be in pixels beside a percentage position go in a text's `dx`.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Horizontal bars: the label column, then the bars, then room for the value.
LABEL_PERCENT = 36.0
BAR_PERCENT = 50.0
ROW_HEIGHT = 26
BAR_HEIGHT = 18
LABEL_CHARS = 18

# Columns: a strip for the top tick's label, the plot, a strip for the category labels.
PLOT_TOP = 18
PLOT_HEIGHT = 150
AXIS_HEIGHT = 22
COLUMN_GAP_PERCENT = 0.15  # of one column's slot, on each side
MAX_CATEGORY_LABELS = 5  # "26 Nov" five times fits a phone's width
TICKS = 4


@dataclass(frozen=True)
class Rect:
    x: float  # percent
    y: float  # px
    width: float  # percent
    height: float  # px
    css: str
    tooltip: str


@dataclass(frozen=True)
class Line:
    x1: float  # percent
    y1: float  # px
    x2: float  # percent
    y2: float  # px
    css: str = "chart-grid"


@dataclass(frozen=True)
class Text:
    x: float  # percent
    y: float  # px (baseline)
    text: str
    anchor: str = "start"  # start, middle, end
    dx: float = 0  # px
    css: str = "chart-label"


@dataclass(frozen=True)
class Series:
    name: str
    css: str
    values: Sequence[int]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str  # the gist in one or two sentences: the SVG's <desc>
    height: int
    rects: tuple[Rect, ...]
    lines: tuple[Line, ...]
    texts: tuple[Text, ...]
    legend: tuple[tuple[str, str], ...]  # (series name, css class); empty for one series
    columns: tuple[str, ...]  # the data table's header
    rows: tuple[tuple[str, ...], ...]  # the data table: the text equivalent, every number

    @property
    def is_empty(self) -> bool:
        return not self.rects


def number(value: int) -> str:
    return f"{value:,}"


def shorten(text: str, limit: int = LABEL_CHARS) -> str:
    """The label as drawn; the full one is in the tooltip and the table."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def nice_ceiling(value: float) -> int:
    """The smallest 1, 2 or 5 × 10^k (k ≥ 0) at least `value`: a round top for an axis."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return int(step * magnitude)
    raise AssertionError("unreachable")  # pragma: no cover


def ticks(top: int, count: int = TICKS) -> list[int]:
    """Evenly spaced whole-number gridlines from 0 to top (fewer when top is small)."""
    steps = count if top % count == 0 else (2 if top % 2 == 0 else 1)
    steps = min(steps, top)
    return [top * i // steps for i in range(steps + 1)]


def _plural(count: int, noun: str) -> str:
    return f"{number(count)} {noun}{'' if count == 1 else 's'}"


def _empty(chart_id: str, title: str, what: str, columns: tuple[str, ...]) -> Chart:
    return Chart(
        id=chart_id,
        title=title,
        description=f"No {what} to show.",
        height=0,
        rects=(),
        lines=(),
        texts=(),
        legend=(),
        columns=columns,
        rows=(),
    )


def horizontal_bars(
    chart_id: str,
    title: str,
    items: Sequence[tuple[str, int]],
    *,
    label_name: str,
    what: str = "contacts",
) -> Chart:
    """One bar per (label, value) in the order given; bars scale to the largest value."""
    items = [(str(label), int(value)) for label, value in items]
    top = max((value for _, value in items), default=0)
    columns = (label_name, what.capitalize())
    if not top:
        return _empty(chart_id, title, what, columns)
    rects, texts = [], []
    for index, (label, value) in enumerate(items):
        y = index * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2
        baseline = y + BAR_HEIGHT / 2 + 4.5
        width = BAR_PERCENT * value / top
        texts.append(Text(x=0, y=baseline, text=shorten(label)))
        if value:
            rects.append(
                Rect(
                    x=LABEL_PERCENT,
                    y=y,
                    width=round(width, 3),
                    height=BAR_HEIGHT,
                    css="chart-bar",
                    tooltip=f"{label}: {number(value)}",
                )
            )
        texts.append(Text(x=round(LABEL_PERCENT + width, 3), y=baseline, text=number(value), dx=4))
    biggest, most = max(items, key=lambda item: item[1])
    return Chart(
        id=chart_id,
        title=title,
        description=f"{_plural(len(items), 'bar')}; the largest: {biggest}, {number(most)} {what}.",
        height=len(items) * ROW_HEIGHT,
        rects=tuple(rects),
        lines=(),
        texts=tuple(texts),
        legend=(),
        columns=columns,
        rows=tuple((label, number(value)) for label, value in items),
    )


def stacked_columns(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    category_name: str,
    what: str = "messages",
) -> Chart:
    """One column per category, each series stacked on the previous one (first at the bottom),
    under gridlines at round numbers. Every category gets its slot, so gaps show as gaps; only
    some category labels are drawn when there are many (the table has them all)."""
    count = len(categories)
    for one in series:
        if len(one.values) != count:
            raise ValueError(f"Series {one.name!r} has {len(one.values)} values for {count}.")
    totals = [sum(one.values[index] for one in series) for index in range(count)]
    grand_total = sum(totals)
    multi = len(series) > 1
    header = (category_name, *(one.name for one in series), *(("Total",) if multi else ()))
    rows = tuple(
        (
            str(category),
            *(number(one.values[index]) for one in series),
            *((number(totals[index]),) if multi else ()),
        )
        for index, category in enumerate(categories)
    )
    if not grand_total:
        return _empty(chart_id, title, what, header)

    top = nice_ceiling(max(totals))
    bottom = PLOT_TOP + PLOT_HEIGHT
    slot = 100.0 / count
    gap = slot * COLUMN_GAP_PERCENT

    def y_of(value: float) -> float:
        return bottom - PLOT_HEIGHT * value / top

    lines, texts, rects = [], [], []
    for tick in ticks(top):
        y = round(y_of(tick), 3)
        lines.append(
            Line(x1=0, y1=y, x2=100, y2=y, css="chart-axis" if tick == 0 else "chart-grid")
        )
        if tick:
            texts.append(Text(x=0, y=y - 3, text=number(tick), css="chart-tick"))
    for index, category in enumerate(categories):
        base = 0
        for one in series:
            value = one.values[index]
            if value:
                rects.append(
                    Rect(
                        x=round(index * slot + gap, 3),
                        y=round(y_of(base + value), 3),
                        width=round(slot - 2 * gap, 3),
                        height=round(PLOT_HEIGHT * value / top, 3),
                        css=one.css,
                        tooltip=f"{category}: {number(value)}" + (f" {one.name}" if multi else ""),
                    )
                )
            base += value
    every = max(1, math.ceil(count / MAX_CATEGORY_LABELS))
    # Label the last category (the most recent day or year) and every `every`-th before it;
    # the labels at either edge are aligned inwards so that the SVG does not clip them.
    for index in range(count - 1, -1, -every):
        if index == count - 1:
            x, anchor = 100.0, "end"
        elif index == 0:
            x, anchor = 0.0, "start"
        else:
            x, anchor = round(index * slot + slot / 2, 3), "middle"
        texts.append(
            Text(x=x, y=bottom + 15, text=str(categories[index]), anchor=anchor, css="chart-tick")
        )
    busiest = max(range(count), key=lambda index: (totals[index], index))
    description = (
        f"{number(grand_total)} {what} over {_plural(count, category_name.lower())}, from "
        f"{categories[0]} to {categories[-1]}; the most, {number(totals[busiest])}, in "
        f"{categories[busiest]}."
    )
    if multi:
        parts = ", ".join(
            f"{one.name} {number(sum(one.values))}" for one in series if sum(one.values)
        )
        description += f" By status: {parts}."
    return Chart(
        id=chart_id,
        title=title,
        description=description,
        height=bottom + AXIS_HEIGHT,
        rects=tuple(rects),
        lines=tuple(lines),
        texts=tuple(texts),
        legend=tuple((one.name, one.css) for one in series) if multi else (),
        columns=header,
        rows=rows,
    )
