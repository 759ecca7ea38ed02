"""Month-end PDFs built with ReportLab platypus from plain report data (``report_data``).

Every page carries the site (or region) and the period in its header and "page X / Y" in
its footer; tables repeat their header row when they split across pages; the CJK font is
embedded. ``invariant=1`` makes identical data give identical bytes (no timestamps/ids).
Fixed words are translated with the locale in force (the CLI forces Chinese).
"""

from io import BytesIO

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from xml.sax.saxutils import escape

from portal.reports import charts
from portal.reports.fonts import cjk_font, writing_document
from portal.services.report_data import outside_request_locale

INK = colors.HexColor("#1f3b4d")
ACCENT = colors.HexColor("#1f6f78")
FLAG = colors.HexColor("#fbe3e0")
ZEBRA = colors.HexColor("#f4f6f8")
COLUMNS_PER_TABLE = 6
# A region of more sites is compared in several charts: a chart of 24 bars (64 + 26 pt each)
# still fits on an A4 page, one of more would not be laid out at all.
BARS_PER_CHART = 24


def prepare():
    """What every PDF of a process shares, done once before the first (a worker of the
    archive): the embedded font registered."""
    cjk_font()


def _styles():
    font = cjk_font()
    base = ParagraphStyle(
        "body", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK", textColor=INK
    )
    return {
        "body": base,
        "small": ParagraphStyle(
            "small", parent=base, fontSize=8, leading=11, textColor=colors.HexColor("#55606b")
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
        "h1": ParagraphStyle("h1", parent=base, fontSize=24, leading=32, spaceAfter=10),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontSize=14,
            leading=20,
            spaceBefore=10,
            spaceAfter=6,
            textColor=ACCENT,
        ),
        "cover": ParagraphStyle("cover", parent=base, fontSize=14, leading=22),
    }


def _numbered_canvas(header, page_size):
    """A canvas class that knows the page count when it writes the footers."""
    font = cjk_font()

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("initialFontName", font)  # no stray non-embedded Helvetica
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._decorate(total)
                super().showPage()
            super().save()

        def _decorate(self, total):
            width, height = page_size
            self.saveState()
            self.setFont(font, 8.5)
            self.setFillColor(colors.HexColor("#55606b"))
            if self._pageNumber > 1:  # the cover has its own title
                self.drawString(18 * mm, height - 12 * mm, header)
                self.setStrokeColor(colors.HexColor("#d5dbe0"))
                self.line(18 * mm, height - 14 * mm, width - 18 * mm, height - 14 * mm)
            self.drawRightString(
                width - 18 * mm,
                10 * mm,
                _("Page %(page)s of %(pages)s", page=self._pageNumber, pages=total),
            )
            self.drawString(18 * mm, 10 * mm, _("Sales Office Portal"))
            self.restoreState()

    return NumberedCanvas


def _build(story, header, title, page_size=A4):
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=page_size,
        invariant=1,
        title=title,
        author=_("Sales Office Portal"),
        creator=_("Sales Office Portal"),
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=20 * mm,
        bottomMargin=18 * mm,
    )
    with writing_document():
        doc.build(story, canvasmaker=_numbered_canvas(header, page_size))
    return buffer.getvalue()


def _p(text, style):
    return Paragraph(escape(str(text)), style)


def _numeric_columns(rows):
    """Columns whose every value is a number or a formatted figure ("1,234", "+7", "–")."""

    def numeric(v):
        if isinstance(v, (int, float)):
            return True
        text = (
            str(v)
            .replace(",", "")
            .replace("+", "")
            .replace("-", "")
            .replace("–", "")
            .replace(".", "")
        )
        return text.isdigit() or str(v) == "–"

    width = max((len(r) for r in rows), default=0)
    return [c for c in range(width) if rows and all(numeric(r[c]) for r in rows if c < len(r))]


def table(headers, rows, styles, col_widths=None, flagged_rows=()):
    """A table whose header repeats on every page it spans; numbers right-aligned; flagged rows
    tinted."""
    font = cjk_font()
    data = [[_p(h, styles["cell"]) for h in headers]]
    data += [
        [_p(v, styles["cell"]) if isinstance(v, str) and len(v) > 18 else str(v) for v in row]
        for row in rows
    ]
    t = Table(data, colWidths=col_widths, repeatRows=1)
    commands = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3ecef")),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#c8d0d6")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    commands += [("ALIGN", (c, 1), (c, -1), "RIGHT") for c in _numeric_columns(rows)]
    for i in range(1, len(data)):
        if i - 1 in flagged_rows:
            commands.append(("BACKGROUND", (0, i), (-1, i), FLAG))
        elif i % 2 == 0:
            commands.append(("BACKGROUND", (0, i), (-1, i), ZEBRA))
    t.setStyle(TableStyle(commands))
    return t


def _cover(story, styles, title, subject, lines):
    story += [
        Spacer(1, 50 * mm),
        _p(title, styles["h1"]),
        _p(subject, styles["cover"]),
        Spacer(1, 6 * mm),
    ]
    story += [_p(line, styles["body"]) for line in lines]
    story.append(PageBreak())


def _appendix(story, styles, data):
    """指标说明: what each figure counts, as the dashboard says it."""
    story.append(PageBreak())
    story.append(_p(_("Definitions of the figures"), styles["h2"]))
    rows = [[d["label"], d["definition"]] for d in data.get("definitions", [])]
    story.append(
        table([_("Figure"), _("Definition")], rows, styles, col_widths=[50 * mm, 124 * mm])
    )


@outside_request_locale
def site_report_pdf(data):
    """The monthly PDF of one site (data from ``report_data.site_month``)."""
    styles = _styles()
    site, period = data["site"], data["period"]
    subject = f"{site['code']} {site['name']}"
    story = []
    _cover(
        story,
        styles,
        f"{data['title']} · {period['label']}",
        subject,
        [
            f"{_('Region')}: {site['region']}",
            f"{_('Address')}: {site['address']}",
            f"{_('Period')}: {period['start']} – {period['end']}",
            _("Times are on the site's own clock (%(zone)s).", zone=site["zone"]),
            _(
                "Figures are compared with %(month)s and with the average of the region's sites.",
                month=data["previous_period"]["label"],
            ),
        ],
    )
    story.append(_p(_("Key figures"), styles["h2"]))
    figures = data["figures"]
    rows = [
        [
            f["label"],
            f["unit"],
            f["text"]["value"],
            f["text"]["previous"],
            f["text"]["change"],
            f["text"]["region_average"],
        ]
        for f in figures
    ]
    story.append(
        table(
            [
                _("Figure"),
                _("Unit"),
                period["label"],
                data["previous_period"]["label"],
                _("Change"),
                _("Region average"),
            ],
            rows,
            styles,
            col_widths=[58 * mm, 18 * mm, 24 * mm, 24 * mm, 20 * mm, 30 * mm],
            flagged_rows={i for i, f in enumerate(figures) if f["flagged"]},
        )
    )
    if any(f["flagged"] for f in figures):
        story.append(
            _p(
                _("Tinted rows: more than %(pct)s%% worse than the region average.", pct=20),
                styles["small"],
            )
        )
    story.append(CondPageBreak(70 * mm))
    story.append(_p(_("Trend over the last months"), styles["h2"]))
    months = data["trend"]["months"]
    for series in data["trend"]["series"]:
        story.append(
            KeepTogether(
                [
                    charts.trend_line(series["label"], months, series["values"]),
                    Spacer(1, 4 * mm),
                ]
            )
        )
    for section in data["sections"]:
        story.append(CondPageBreak(40 * mm))
        story.append(_p(section["title"], styles["h2"]))
        if section["rows"]:
            story.append(table(section["headers"], section["rows"], styles))
        else:
            story.append(_p(_("Nothing recorded this month."), styles["body"]))
    _appendix(story, styles, data)
    return _build(
        story, f"{subject} · {period['label']}", f"{data['title']} {subject} {period['label']}"
    )


@outside_request_locale
def _site_cell(row):
    """The site's name in the regional table, with its standing when it is not counted."""
    name = f"{row['site']['code']} {row['site']['name']}"
    return name if row.get("counted", True) else f"{name} [{row['standing_label']}]"


def region_report_pdf(data):
    """The regional summary PDF comparing the sites (data from ``report_data.region_month``)."""
    styles = _styles()
    region, period = data["region"], data["period"]
    story = []
    _cover(
        story,
        styles,
        f"{data['title']} · {period['label']}",
        region["name"],
        [
            f"{_('Sites')}: {len(data['rows'])}",
            f"{_('Period')}: {period['start']} – {period['end']}",
        ],
    )
    columns = data["columns"]
    story.append(_p(_("Key figures by site"), styles["h2"]))
    for first in range(0, len(columns), COLUMNS_PER_TABLE):
        chunk = range(first, min(first + COLUMNS_PER_TABLE, len(columns)))
        headers = [_("Site")] + [f"{columns[i]['label']}（{columns[i]['unit']}）" for i in chunk]
        rows = [[_site_cell(r)] + [r["cells"][i]["text"] for i in chunk] for r in data["rows"]]
        rows.append([_("Region average")] + [data["averages"][i]["text"] for i in chunk])
        t = table(headers, rows, styles)
        flagged = [
            (1 + k, 1 + n)
            for n, r in enumerate(data["rows"])
            for k, i in enumerate(chunk)
            if r["cells"][i]["flagged"]
        ]
        t.setStyle(
            TableStyle(
                [("BACKGROUND", (c, r), (c, r), FLAG) for c, r in flagged]
                + [("LINEABOVE", (0, len(rows)), (-1, len(rows)), 0.8, ACCENT)]
            )
        )
        story += [t, Spacer(1, 5 * mm)]
    story.append(
        _p(
            _("Tinted cells: more than %(pct)s%% worse than the region average.", pct=20),
            styles["small"],
        )
    )
    if data.get("left_out"):
        story.append(
            _p(
                _("Not counted in the averages and the ranking:")
                + " "
                + "、".join(f"{r['site']}（{r['label']}）" for r in data["left_out"])
                + "。"
                + data["left_out_text"],
                styles["small"],
            )
        )
        for item in data["standing_definitions"].values():
            story.append(_p(f"[{item['label']}] {item['text']}", styles["small"]))
    story.append(_p(_("Ranking"), styles["h2"]))
    ranking = [
        [str(n), r["site"], "–" if r["score"] is None else f"{r['score']:.1f}"]
        for n, r in enumerate(data["ranking"], start=1)
    ]
    story.append(
        table(
            [_("Rank"), _("Site"), _("Average rank")],
            ranking,
            styles,
            col_widths=[20 * mm, 120 * mm, 30 * mm],
        )
    )
    story.append(PageBreak())
    story.append(_p(_("Comparison charts"), styles["h2"]))
    labels = [r["site"]["code"] + ("" if r.get("counted", True) else "*") for r in data["rows"]]
    parts = range(0, len(labels), BARS_PER_CHART)
    for i, column in enumerate(columns):
        values = [r["cells"][i]["value"] for r in data["rows"]]
        flagged = [r["site"]["code"] for r in data["rows"] if r["cells"][i]["flagged"]]
        title = f"{column['label']}（{column['unit']}）"
        for n, start in enumerate(parts, start=1):
            part = slice(start, start + BARS_PER_CHART)
            chart = charts.bar_chart(
                f"{title} {n}/{len(parts)}" if len(parts) > 1 else title,
                labels[part],
                values[part],
                reference=data["averages"][i]["value"],
                reference_label=_("Region average"),
                width=470,
                flagged=flagged,
                axis_values=values,
            )
            story.append(KeepTogether([chart, Spacer(1, 4 * mm)]))
    story.append(CondPageBreak(70 * mm))
    story.append(_p(_("Trend over the last months"), styles["h2"]))
    average = _("Region average")
    for series in data["trend"]["series"]:
        story.append(
            KeepTogether(
                [
                    charts.trend_line(
                        f"{series['label']} · {average}",
                        data["trend"]["months"],
                        series["values"],
                    ),
                    Spacer(1, 4 * mm),
                ]
            )
        )
    _appendix(story, styles, data)
    return _build(
        story,
        f"{region['name']} · {period['label']}",
        f"{data['title']} {region['name']} {period['label']}",
    )


__all__ = ["site_report_pdf", "region_report_pdf", "table", "landscape"]
