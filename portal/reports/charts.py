"""Charts drawn once with ``reportlab.graphics`` and used twice: inline SVG on the dashboard
(``to_svg``) and as flowables in the PDFs. They take plain lists, never models."""

import re
from functools import lru_cache

from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Line, String
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
    title, labels, values, reference=None, reference_label="", width=460, height=None, flagged=()
):
    """Horizontal bars, one per label (site), with an optional dashed reference (region average)."""
    font = cjk_font()
    height = height or max(120, 60 + 22 * len(labels))
    d = Drawing(width, height)
    d.add(String(0, height - 14, title, fontName=font, fontSize=11))
    chart = HorizontalBarChart()
    chart.x, chart.y = 110, 24
    chart.width, chart.height = width - 140, height - 54
    # Bars read top-down in label order.
    chart.data = [[v or 0 for v in reversed(values)]]
    chart.categoryAxis.categoryNames = list(reversed(labels))
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 8
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = _nice_max(list(values) + [reference])
    chart.bars[0].fillColor = PALETTE[0]
    chart.bars.strokeColor = None
    flagged_rows = {len(labels) - 1 - i for i, label in enumerate(labels) if label in set(flagged)}
    for row in flagged_rows:
        chart.bars[(0, row)].fillColor = colors.HexColor("#c0392b")
    chart.barLabelFormat = _short
    chart.barLabels.fontName = font
    chart.barLabels.fontSize = 7
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
                fontSize=7,
                fillColor=GREY,
            )
        )
    return d


def _gapped(values):
    """A month without a figure (None) is a gap in the line, not a drop to 0 — as long as two
    points remain (ReportLab draws no line through fewer)."""
    values = list(values)
    return values if sum(v is not None for v in values) >= 2 else [v or 0 for v in values]


def trend_chart(title, months, series, width=460, height=200):
    """One line per series (label, values by month) over the months (x axis labels)."""
    font = cjk_font()
    d = Drawing(width, height)
    d.add(String(0, height - 14, title, fontName=font, fontSize=11))
    chart = HorizontalLineChart()
    chart.x, chart.y = 40, 40
    chart.width, chart.height = width - 170, height - 70
    chart.data = [_gapped(values) for _, values in series] or [[0] * len(months)]
    chart.categoryAxis.categoryNames = list(months)
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = _nice_max([v for _, values in series for v in values])
    for i in range(len(series)):
        chart.lines[i].strokeColor = PALETTE[i % len(PALETTE)]
        chart.lines[i].strokeWidth = 2
    d.add(chart)
    if series:
        legend = Legend()
        legend.x, legend.y = chart.x + chart.width + 15, chart.y + chart.height
        legend.fontName = font
        legend.fontSize = 8
        legend.alignment = "right"
        legend.colorNamePairs = [
            (PALETTE[i % len(PALETTE)], str(label)) for i, (label, _) in enumerate(series)
        ]
        d.add(legend)
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
def trend_svg(uid, title, months, series, width=460, height=200):
    """``series``: ((label, (value by month…)), …)."""
    return to_svg(
        trend_chart(
            title,
            list(months),
            [(label, list(values)) for label, values in series],
            width=width,
            height=height,
        ),
        uid,
    )
