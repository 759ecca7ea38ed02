"""Charts drawn once with ``reportlab.graphics`` and used twice: inline SVG on the dashboard
(``to_svg``) and as flowables in the PDFs. They take plain lists, never models."""

import re
from functools import lru_cache

from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors

from portal.reports.fonts import cjk_font

PALETTE = [
    colors.HexColor(c)
    for c in (
        "#1f6f78",
        "#e07a1f",
        "#3c8d2f",
        "#8e44ad",
        "#c0392b",
        "#2c3e50",
        "#16a085",
        "#d4ac0d",
        "#7f8c8d",
        "#2980b9",
    )
]
GREY = colors.HexColor("#7f8c8d")
PARTIAL_FILL = colors.HexColor("#eef1f3")
# Axis, bar and legend labels: 11 points, read at 11 px or more on screen (a chart is drawn
# at the width it is shown on a laptop) and in print.
LABEL_SIZE = 11
TITLE_SIZE = 12


def _nice_max(values):
    top = max([v for v in values if v is not None] or [0])
    if top <= 0:
        return 1
    step = 10 ** (len(str(int(top))) - 1)
    steps = int(top / step)
    return (steps if steps * step == top else steps + 1) * step  # 100 % tops at 100, not 200


def _short(value):
    """A bar's label: 95.2, 1,234 — not 95.16129032258."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bar_chart(
    title,
    labels,
    values,
    reference=None,
    reference_label="",
    width=460,
    height=None,
    flagged=(),
    axis_values=None,
):
    """Horizontal bars, one per label (site), with an optional dashed reference (region average).
    ``axis_values``: the values the value axis must hold (default: these bars and the
    reference), so the parts of one comparison drawn as several charts share one scale."""
    font = cjk_font()
    height = height or max(130, 64 + 26 * len(labels))
    d = Drawing(width, height)
    d.add(String(0, height - 15, title, fontName=font, fontSize=TITLE_SIZE))
    chart = HorizontalBarChart()
    chart.x, chart.y = 110, 26
    chart.width, chart.height = width - 150, height - 62
    # Bars read top-down in label order.
    chart.data = [[v or 0 for v in reversed(values)]]
    chart.categoryAxis.categoryNames = list(reversed(labels))
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = LABEL_SIZE
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = LABEL_SIZE
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = _nice_max(
        list(values if axis_values is None else axis_values) + [reference]
    )
    chart.bars[0].fillColor = PALETTE[0]
    chart.bars.strokeColor = None
    flagged_rows = {len(labels) - 1 - i for i, label in enumerate(labels) if label in set(flagged)}
    for row in flagged_rows:
        chart.bars[(0, row)].fillColor = colors.HexColor("#c0392b")
    chart.barLabelFormat = _short
    chart.barLabels.fontName = font
    chart.barLabels.fontSize = LABEL_SIZE
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    d.add(chart)
    if reference is not None:
        x = chart.x + chart.width * reference / chart.valueAxis.valueMax
        d.add(
            Line(
                x,
                chart.y,
                x,
                chart.y + chart.height,
                strokeColor=GREY,
                strokeDashArray=[3, 2],
                strokeWidth=1,
            )
        )
        d.add(
            String(
                x + 2,
                chart.y + chart.height + 2,
                reference_label,
                fontName=font,
                fontSize=LABEL_SIZE,
                fillColor=GREY,
            )
        )
    return d


def _gapped(values):
    """A month without a figure (None) is a gap in the line, not a drop to 0 — as long as two
    points remain (ReportLab draws no line through fewer)."""
    values = list(values)
    return values if sum(v is not None for v in values) >= 2 else [v or 0 for v in values]


def trend_chart(title, months, series, width=460, height=200, partial_note=None):
    """One line per series (label, values by month) over the months (x axis labels).
    ``partial_note`` ("本月截至4日"): the last month is still running, so its band is shaded
    and labelled, and its lower figure reads as a month in progress, not a collapse."""
    font = cjk_font()
    d = Drawing(width, height)
    d.add(String(0, height - 15, title, fontName=font, fontSize=TITLE_SIZE))
    chart = HorizontalLineChart()
    chart.x, chart.y = 40, 52
    chart.width, chart.height = width - 170, height - 90
    chart.data = [_gapped(values) for _, values in series] or [[0] * len(months)]
    chart.categoryAxis.categoryNames = list(months)
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = LABEL_SIZE
    # Twelve "2026-11" labels do not fit side by side at a readable size: slanted.
    chart.categoryAxis.labels.angle = 35
    chart.categoryAxis.labels.boxAnchor = "ne"
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = LABEL_SIZE
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = _nice_max([v for _, values in series for v in values])
    for i in range(len(series)):
        chart.lines[i].strokeColor = PALETTE[i % len(PALETTE)]
        chart.lines[i].strokeWidth = 2
    if partial_note and months:
        band = chart.width / len(months)
        left = chart.x + band * (len(months) - 1)
        d.add(Rect(left, chart.y, band, chart.height, fillColor=PARTIAL_FILL, strokeColor=None))
        d.add(
            String(
                left + band,
                chart.y + chart.height + 4,
                partial_note,
                fontName=font,
                fontSize=LABEL_SIZE,
                fillColor=GREY,
                textAnchor="end",
            )
        )
    d.add(chart)
    if series:
        legend = Legend()
        legend.x, legend.y = chart.x + chart.width + 15, chart.y + chart.height
        legend.fontName = font
        legend.fontSize = LABEL_SIZE
        legend.alignment = "right"
        legend.columnMaximum = 12  # one column: a second one would run off the drawing
        legend.colorNamePairs = [
            (PALETTE[i % len(PALETTE)], str(label)) for i, (label, _) in enumerate(series)
        ]
        d.add(legend)
    return d


def trend_line(title, months, values, width=470, height=150):
    """One site's figure month by month, for the PDFs: the same picture as ``trend_chart`` with
    one series, drawn from plain lines and strings. A site's PDF has one per figure; ReportLab's
    chart widgets took 25 ms each to lay out, these take a tenth of that. A month without a
    figure (None) is a gap in the line."""
    font = cjk_font()
    d = Drawing(width, height)
    d.add(String(0, height - 15, title, fontName=font, fontSize=TITLE_SIZE))
    left, bottom = 40, 28
    plot_w, plot_h = width - 60, height - 62
    top = _nice_max(list(values))
    for step in range(3):  # the zero line, the middle and the top, with their values
        value = top * step / 2
        y = bottom + plot_h * step / 2
        d.add(Line(left, y, left + plot_w, y, strokeColor=PARTIAL_FILL if step else GREY))
        d.add(
            String(
                left - 4, y - 4, _short(value), fontName=font, fontSize=LABEL_SIZE,
                textAnchor="end", fillColor=GREY,
            )
        )  # fmt: skip
    band = plot_w / max(len(months), 1)
    points = []
    for i, (month, value) in enumerate(zip(months, values, strict=True)):
        x = left + band * (i + 0.5)
        d.add(
            String(x, bottom - 16, month, fontName=font, fontSize=LABEL_SIZE, textAnchor="middle")
        )
        if value is None:
            points.append(None)
            continue
        y = bottom + plot_h * value / top
        points.append((x, y))
        d.add(Circle(x, y, 2.5, fillColor=PALETTE[0], strokeColor=None))
    run = []
    for point in [*points, None]:
        if point is not None:
            run.append(point)
            continue
        if len(run) >= 2:
            flat = [coord for xy in run for coord in xy]
            d.add(PolyLine(flat, strokeColor=PALETTE[0], strokeWidth=2))
        run = []
    return d


_FONT_ATTR = re.compile(r"font-family:\s*[^;\"]+|font-family=\"[^\"]*\"")


def to_svg(drawing, uid="chart"):
    """The drawing as an inline ``<svg>`` element (no XML prolog), with a web font stack for
    the CJK text (the browser does not know ReportLab's font name). ``uid`` keeps the clip
    ids of several charts on one page apart."""
    svg = renderSVG.drawToString(drawing)
    svg = svg[svg.index("<svg") :]
    svg = svg.replace('id="clip"', f'id="{uid}-clip"').replace("url(#clip)", f"url(#{uid}-clip)")
    svg = (
        svg.replace('id="group"', f'id="{uid}-group"')
        .replace("<title>...</title>", "")
        .replace("<desc>...</desc>", "")
    )
    svg = svg.replace("<svg ", '<svg role="img" class="portal-chart" ', 1)
    stack = "'WenQuanYi Micro Hei','Microsoft YaHei','PingFang SC','Noto Sans CJK SC',sans-serif"
    svg = _FONT_ATTR.sub(
        lambda m: f"font-family:{stack}"
        if m.group(0).startswith("font-family:")
        else f'font-family="{stack}"',
        svg,
    )
    return svg


# The dashboard draws the same charts again and again (every sort, every user of a region):
# drawing and serialising an SVG costs more than the figures behind it, so the finished SVG is
# kept per process, keyed by everything it shows (hashable arguments only: tuples, not lists).
@lru_cache(maxsize=512)
def bar_svg(uid, title, labels, values, reference=None, reference_label="", width=460, flagged=()):
    return to_svg(
        bar_chart(
            title,
            list(labels),
            list(values),
            reference=reference,
            reference_label=reference_label,
            width=width,
            flagged=flagged,
        ),
        uid,
    )


@lru_cache(maxsize=512)
def trend_svg(uid, title, months, series, width=460, height=200, partial_note=None):
    """``series``: ((label, (value by month…)), …)."""
    return to_svg(
        trend_chart(
            title,
            list(months),
            [(label, list(values)) for label, values in series],
            width=width,
            height=height,
            partial_note=partial_note,
        ),
        uid,
    )
