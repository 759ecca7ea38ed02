"""Sheets of QR labels for a site: one label per item and per cleaning area.

Each label carries a QR code (segno) of the absolute URL of its scan page (``/scan/item/<id>``,
``/scan/area/<id>``, built by the caller: ``portal.views.scan``), and next to it, in the
embedded CJK font (``portal.reports.fonts``), what it is (区域 / 设备 / 物品 and the site code),
its name, its asset tag (an area, or an item without a tag, gets a stable code such as
``SZ01-A12``) and its location. The name shrinks and wraps to stay inside the label.

Label stock is a named layout (``LAYOUTS``); ``DEFAULT_LAYOUT`` is A4 3×8 of 70×37 mm (Avery
3475, Herma 4453, the common "24 per sheet" stock). Every layout keeps ``padding_mm`` of white
inside each label, so a sheet that feeds a little off, or a printer that cannot print to the
edge, never cuts the QR code or the text. ``outline=True`` draws cut lines for plain paper.
"""

import math
import re
from dataclasses import dataclass
from io import BytesIO

import segno
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import CleaningArea, Item
from portal.models.cleaning import area_name
from portal.reports.fonts import cjk_font, writing_document

# Item categories that are equipment: they have power or moving parts and are what breaks.
EQUIPMENT_CATEGORIES = frozenset({"audio_video", "appliance", "lamp"})
KIND_LABELS = {"area": _l("Area"), "equipment": _l("Equipment"), "item": _l("Item")}

INK = colors.HexColor("#111111")
MUTED = colors.HexColor("#555555")
GUIDE = colors.HexColor("#bbbbbb")
LEADING = 1.22  # line height / font size
QR_MASK = 0


@dataclass(frozen=True)
class LabelLayout:
    """A sheet of equal labels in a grid, centred on the page (as label stock is cut)."""

    key: str
    title: object
    columns: int
    rows: int
    width_mm: float
    height_mm: float
    gap_x_mm: float = 0.0
    gap_y_mm: float = 0.0
    padding_mm: float = 4.0
    page: tuple = A4

    @property
    def per_page(self):
        return self.columns * self.rows

    def box(self, position):
        """(x, y, width, height) in points of label ``position`` (0 = top left, row by row)."""
        w, h = self.width_mm * mm, self.height_mm * mm
        gx, gy = self.gap_x_mm * mm, self.gap_y_mm * mm
        left = (self.page[0] - (self.columns * w + (self.columns - 1) * gx)) / 2
        top = (self.page[1] + (self.rows * h + (self.rows - 1) * gy)) / 2
        row, column = divmod(position, self.columns)
        return left + column * (w + gx), top - (row + 1) * h - row * gy, w, h


LAYOUTS = {
    layout.key: layout
    for layout in (
        LabelLayout("a4-3x8", _l("A4, 3 × 8 labels of 70 × 37 mm (Avery 3475)"), 3, 8, 70, 37),
        LabelLayout(
            "a4-3x7",
            _l("A4, 3 × 7 labels of 63.5 × 38.1 mm (Avery L7160)"),
            3,
            7,
            63.5,
            38.1,
            gap_x_mm=2.5,
        ),
        LabelLayout(
            "a4-4x10",
            _l("A4, 4 × 10 labels of 45.7 × 25.4 mm (Avery L7654)"),
            4,
            10,
            45.7,
            25.4,
            gap_x_mm=2.6,
            padding_mm=2.5,
        ),
    )
}
DEFAULT_LAYOUT = "a4-3x8"


@dataclass(frozen=True)
class Label:
    url: str
    name: str
    tag: str
    kind: str  # "area" | "equipment" | "item"
    place: str = ""
    site_code: str = ""


def item_kind(item):
    return "equipment" if item.category in EQUIPMENT_CATEGORIES else "item"


def site_labels(site, url_of):
    """The labels of a site: its active cleaning areas, then its active items (equipment
    first), read through the caller's scope. ``url_of(kind, id)`` gives the absolute scan URL
    (kind "area" or "item")."""
    areas = db.session.scalars(
        select(CleaningArea)
        .where(CleaningArea.site_id == site.id, CleaningArea.active.is_(True))
        .order_by(CleaningArea.position, CleaningArea.id)
    ).all()
    items = db.session.scalars(
        select(Item)
        .where(Item.site_id == site.id, Item.active.is_(True))
        .order_by(Item.category, Item.location, Item.name, Item.id)
    ).all()
    items.sort(key=lambda i: item_kind(i) != "equipment")  # stable: keeps the order above
    labels = [
        Label(
            url_of("area", area.id),
            area_name(area.name),
            f"{site.code}-A{area.id}",
            "area",
            site_code=site.code,
        )
        for area in areas
    ]
    labels += [
        Label(
            url_of("item", item.id),
            item.name,
            item.asset_tag or f"{site.code}-I{item.id}",
            item_kind(item),
            item.location or "",
            site.code,
        )
        for item in items
    ]
    return labels


def render(labels, layout=None, title="", outline=False, empty_text=""):
    """The PDF (bytes) of ``labels`` on sheets of ``layout`` (a key of ``LAYOUTS``)."""
    layout = LAYOUTS[layout or DEFAULT_LAYOUT]
    font = cjk_font()
    out = BytesIO()
    canvas = Canvas(out, pagesize=layout.page, invariant=1, initialFontName=font)
    canvas.setTitle(title)
    canvas.setCreator("Sales Office Portal")
    pages = max(1, math.ceil(len(labels) / layout.per_page))
    for page in range(pages):
        chunk = labels[page * layout.per_page : (page + 1) * layout.per_page]
        for position in range(layout.per_page):
            box = layout.box(position)
            if outline:
                canvas.setStrokeColor(GUIDE)
                canvas.setLineWidth(0.3)
                canvas.setDash(2, 2)
                canvas.rect(*box, stroke=1, fill=0)
                canvas.setDash()
            if position < len(chunk):
                _draw_label(canvas, chunk[position], box, layout.padding_mm * mm, font)
        if not labels and empty_text:
            canvas.setFont(font, 14)
            canvas.setFillColor(MUTED)
            canvas.drawCentredString(layout.page[0] / 2, layout.page[1] / 2, empty_text)
        canvas.showPage()
    with writing_document():
        canvas.save()
    return out.getvalue()


def _draw_label(canvas, label, box, pad, font):
    x, y, w, h = box
    side = h - 2 * pad  # the QR code is a square as tall as the label allows
    _draw_qr(canvas, label.url, x + pad, y + pad, side)
    text_x = x + pad + side + 2.5 * mm
    text_w = x + w - pad - text_x
    _draw_text(canvas, label, text_x, y + pad, text_w, side, font)


def _draw_qr(canvas, url, x, y, side):
    """The code as vector squares (sharp at any printer resolution), one module of quiet zone
    inside ``side``; the label's padding around it completes the quiet zone.

    The mask is fixed (``QR_MASK``): any mask is valid QR, and choosing the "best" one in pure
    Python costs ~35 ms a code (1.5 s for a 40-label sheet) for no reading benefit found here
    (tests/test_qr_labels.py decodes every code of every layout)."""
    qr = segno.make(url, error="m", micro=False, mask=QR_MASK)
    matrix = qr.matrix
    n = len(matrix)
    canvas.saveState()
    canvas.translate(x, y)
    canvas.scale(side / (n + 2), side / (n + 2))  # one unit = one module: integer coordinates
    canvas.setFillColor(colors.black)
    runs = []
    for r, row in enumerate(matrix):
        bottom = n - r  # row 0 at the top, below one module of quiet zone
        c = 0
        while c < n:  # one rectangle per run of dark modules
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                runs.append(f"{1 + start} {bottom} {c - start} 1 re")
            else:
                c += 1
    # Integer rectangles written as PDF operators: ReportLab's own rect() formats each
    # number in pure Python, a third of the sheet's time.
    canvas.addLiteral("\n".join(runs) + "\nf")
    canvas.restoreState()


# A piece of a name never split across lines: a Latin word or number, or one character, with
# the opening punctuation before it and the closing punctuation after it (a line never starts
# with "）" nor ends with "（").
_PIECE = re.compile(
    r"[（(【「『“]*(?:[A-Za-z0-9][A-Za-z0-9.\-/]*|\s|.)[）)】」』”，。、；：！？,.;:!?]*"
)


def _wrap(text, font, size, width, canvas):
    """Lines of ``text`` no wider than ``width``, broken between pieces (Chinese has no spaces:
    any two characters; a piece alone too wide for a line is broken by character)."""
    lines, line = [], ""
    for piece in _PIECE.findall(text):
        if canvas.stringWidth(line + piece, font, size) <= width:
            line += piece
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = piece.lstrip()
        while canvas.stringWidth(line, font, size) > width and len(line) > 1:
            cut = len(line) - 1
            while cut > 1 and canvas.stringWidth(line[:cut], font, size) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _fit(text, font, size, width, canvas):
    """``text`` cut with an ellipsis to fit one line of ``width``."""
    if canvas.stringWidth(text, font, size) <= width:
        return text
    while text and canvas.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _draw_text(canvas, label, x, bottom, width, height, font):
    """Top down: kind and site (small, grey), the name (as large as fits), the tag; the
    location sits at the bottom, level with the foot of the QR code."""
    small = max(5.5, min(7.5, height / 11))  # 7.5 pt on 37 mm labels, less on 25 mm ones
    tag_size = small + 1.5
    head = f"{KIND_LABELS[label.kind]} · {label.site_code}" if label.site_code else ""
    head = _fit(str(head), font, small, width, canvas)
    # The tag is an identifier: smaller type rather than a cut, down to 5 pt.
    while tag_size > 5 and canvas.stringWidth(label.tag, font, tag_size) > width:
        tag_size -= 0.5
    tag = _fit(label.tag, font, tag_size, width, canvas)
    place = _fit(label.place, font, small, width, canvas) if label.place else ""
    fixed = (small + tag_size + (small if place else 0)) * LEADING
    # The largest name size (14 pt down to 6) whose lines fit in the height left, 3 lines at
    # most, preferring one that leaves no single character alone on the last line.
    fitting = []
    for size in (14, 13, 12, 11, 10, 9, 8, 7, 6):
        lines = _wrap(label.name, font, size, width, canvas)
        if len(lines) <= 3 and fixed + len(lines) * size * LEADING <= height:
            fitting.append((size, lines))
    tidy = [(s, ls) for s, ls in fitting if len(ls) == 1 or len(ls[-1].strip()) > 1]
    if fitting:
        size, lines = (tidy or fitting)[0]
    else:
        room = max(1, min(3, int((height - fixed) // (size * LEADING))))
        if len(lines) > room:
            rest = "".join(lines[room - 1 :])
            lines = lines[: room - 1] + [_fit(rest, font, size, width, canvas)]
    rows = [(head, small, MUTED)] + [(line, size, INK) for line in lines] + [(tag, tag_size, INK)]
    cursor = bottom + height
    for text, font_size, colour in rows:
        cursor -= font_size * LEADING
        canvas.setFillColor(colour)
        canvas.setFont(font, font_size)
        canvas.drawString(x, cursor + font_size * 0.25, text)
    if place:
        canvas.setFillColor(MUTED)
        canvas.setFont(font, small)
        canvas.drawString(x, bottom + small * 0.25, place)
