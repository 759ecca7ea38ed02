"""Spreadsheet import of a site's item register (物品清单), products and staff.

One layout per kind (``LAYOUTS``): Chinese column headers, what each column holds and which
values it takes; ``template(kind)`` writes it as an XLSX file with an example row and a sheet
of notes. An upload (XLSX or CSV in UTF-8, with or without BOM, or GBK/GB18030 as Excel in
China saves it) is read with openpyxl (read-only, cached values: formulas are never
evaluated) or the csv module, never parsed by hand.

``plan(kind, site, filename, data)`` reads and checks every row and decides, row by row, what
would happen (create, update, unchanged) without writing; ``apply(plan, user)`` writes a plan
with no problems, in the caller's transaction (the caller commits once: all or nothing).
Importing the same file again changes nothing: rows are matched to the site's records
(items by asset tag if given, else by name and location; products by name; staff by name,
and by phone when several share a name). An empty optional cell leaves the stored value as it
is (a new record gets the default). Every row written gets its audit event from the session
listener (``portal.services.audit``), plus one "import" event with the counts.
"""

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import force_locale
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from portal import clock
from portal.errors import DomainError
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Item, Product, StaffMember, User
from portal.models.consumables import PRODUCT_KIND_LABELS, PRODUCT_KINDS
from portal.models.inventory import CONDITION_LABELS, CONDITIONS, ITEM_CATEGORIES
from portal.models.inventory import ITEM_CATEGORY_LABELS
from portal.models.org import STAFF_KIND_LABELS, STAFF_KINDS
from portal.services import audit, bounds, scope
from portal.services import stock
from portal.services.inventory import MAX_QUANTITY as MAX_EXPECTED

KINDS = ("items", "products", "staff")
KIND_LABELS = {"items": _l("Item register"), "products": _l("Products"), "staff": _l("Staff")}
ROLES = frozenset({"admin", "supervisor"})

MAX_BYTES = 2 * 1024 * 1024  # the upload itself
MAX_UNPACKED = 40 * 1024 * 1024  # everything inside an XLSX (a zip): no zip bombs
MAX_ROWS = 2000  # data rows, the header not counted
MAX_COLUMNS = 30
MAX_NOTES = 1000
EXTENSIONS = (".xlsx", ".csv")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZH = "zh_Hans_CN"

OPENING_STOCK_REASON = _l("Opening stock (spreadsheet import)")


class Problem(ValueError):
    """What is wrong with one cell (or a whole row when ``column`` is None)."""


# ---------------------------------------------------------------- cell readers


def _text(value):
    """A cell as trimmed text ("" when empty): whole numbers without ".0" (phone numbers and
    asset tags typed as numbers), dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def text_of(max_length):
    def parse(value):
        text = _text(value)
        if len(text) > max_length:
            raise Problem(_l("At most %(n)s characters.", n=max_length))
        return text or None

    return parse


def whole_number(low, high):
    def parse(value):
        if _text(value) == "":
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        n = bounds.whole_number(value) if not isinstance(value, float) else None
        if n is None and isinstance(value, str):
            text = value.strip()
            if text.endswith(".0") or text.endswith(".00"):  # "3.0" from a CSV saved by Excel
                n = bounds.whole_number(text.split(".", 1)[0])
        if n is None or not low <= n <= high:
            raise Problem(_l("Enter a whole number from %(low)s to %(high)s.", low=low, high=high))
        return n

    return parse


def _words(labels, code):
    """The words a code may be written as: the code, its label in Chinese and in the user's
    language (case and spaces do not matter)."""
    words = {code, str(labels[code])}
    with force_locale(ZH):
        words.add(str(labels[code]))
    return {w.strip().lower() for w in words}


def one_of(codes, labels):
    def parse(value):
        text = _text(value).lower()
        if not text:
            return None
        for code in codes:
            if text in _words(labels, code):
                return code
        raise Problem(
            _l("Write one of: %(choices)s.", choices="、".join(str(labels[c]) for c in codes))
        )

    return parse


# ---------------------------------------------------------------- layouts


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Chinese header of the template (the file's own language)
    parse: object
    note: object
    required: bool = False
    example: object = ""
    aliases: tuple = ()


@dataclass(frozen=True)
class Layout:
    kind: str
    sheet: str
    columns: tuple
    filename: str

    def column(self, key):
        return next(c for c in self.columns if c.key == key)


def _choices(codes, labels):
    return lambda: "、".join(str(labels[c]) for c in codes)


ITEMS = Layout(
    "items",
    "物品清单",
    (
        Column(
            "name",
            "名称",
            text_of(100),
            _l("The item as the clerks call it."),
            required=True,
            example="真皮沙发",
            aliases=("物品名称", "name"),
        ),
        Column(
            "category",
            "类别",
            one_of(ITEM_CATEGORIES, ITEM_CATEGORY_LABELS),
            _l("One of: %(choices)s. Empty: other."),
            example="家具",
            aliases=("category",),
        ),
        Column(
            "location",
            "位置",
            text_of(100),
            _l("Where it stands (room, area)."),
            example="样板房 A 户型客厅",
            aliases=("location",),
        ),
        Column(
            "expected_quantity",
            "应有数量",
            whole_number(0, MAX_EXPECTED),
            _l("A whole number from 0 to %(max)s. Empty: 1."),
            example=1,
            aliases=("预期数量", "数量", "expected_quantity"),
        ),
        Column(
            "asset_tag",
            "资产编号",
            text_of(50),
            _l("The number on the label, if the item has one; it identifies the item."),
            example="SZ-FUR-0001",
            aliases=("asset_tag",),
        ),
        Column(
            "condition",
            "状态",
            one_of(CONDITIONS, CONDITION_LABELS),
            _l("One of: %(choices)s. Empty: OK."),
            example="完好",
            aliases=("condition",),
        ),
    ),
    "item-register.xlsx",
)

PRODUCTS = Layout(
    "products",
    "饮料点心",
    (
        Column(
            "name",
            "名称",
            text_of(100),
            _l("The product's name; it identifies the product at the site."),
            required=True,
            example="农夫山泉 550ml",
            aliases=("商品名称", "name"),
        ),
        Column(
            "kind",
            "类别",
            one_of(PRODUCT_KINDS, PRODUCT_KIND_LABELS),
            _l("One of: %(choices)s."),
            required=True,
            example="饮料",
            aliases=("kind",),
        ),
        Column(
            "unit",
            "单位",
            text_of(20),
            _l("The unit it is counted in: 瓶, 罐, 包, 盒… Empty: 瓶."),
            example="瓶",
            aliases=("unit",),
        ),
        Column(
            "reorder_level",
            "补货线",
            whole_number(0, bounds.COUNTED.high),
            _l("Restock when the stock falls to this number: 0 to %(max)s. Empty: 0."),
            example=24,
            aliases=("reorder_level",),
        ),
        Column(
            "opening_stock",
            "期初库存",
            whole_number(0, bounds.STOCK_QUANTITY.high),
            _l(
                "What is on the shelf now, 0 to %(max)s; recorded as the opening entry of the "
                "stock ledger when the product is created (ignored for a product that exists)."
            ),
            example=48,
            aliases=("opening_stock",),
        ),
    ),
    "products.xlsx",
)

STAFF = Layout(
    "staff",
    "员工",
    (
        Column(
            "name",
            "姓名",
            text_of(100),
            _l("The person's name as on the roster."),
            required=True,
            example="王阿姨",
            aliases=("名称", "name"),
        ),
        Column(
            "kind",
            "岗位",
            one_of(STAFF_KINDS, STAFF_KIND_LABELS),
            _l("One of: %(choices)s."),
            required=True,
            example="保洁工",
            aliases=("类别", "kind"),
        ),
        Column(
            "phone",
            "电话",
            text_of(30),
            _l("Tells two people of the same name apart."),
            example="13800138000",
            aliases=("手机", "phone"),
        ),
        Column(
            "notes",
            "备注",
            text_of(MAX_NOTES),
            _l("Anything the site should know."),
            example="周一至周五上午",
            aliases=("notes",),
        ),
        Column(
            "username",
            "登录用户名",
            text_of(64),
            _l(
                "The user name of the person's existing login, to link it; logins are created "
                "on the user form. Empty: no login."
            ),
            aliases=("用户名", "username"),
        ),
    ),
    "staff.xlsx",
)

LAYOUTS = {layout.kind: layout for layout in (ITEMS, PRODUCTS, STAFF)}
NOTE_CHOICES = {
    ("items", "category"): _choices(ITEM_CATEGORIES, ITEM_CATEGORY_LABELS),
    ("items", "condition"): _choices(CONDITIONS, CONDITION_LABELS),
    ("products", "kind"): _choices(PRODUCT_KINDS, PRODUCT_KIND_LABELS),
    ("staff", "kind"): _choices(STAFF_KINDS, STAFF_KIND_LABELS),
}
NOTE_MAX = {
    ("items", "expected_quantity"): MAX_EXPECTED,
    ("products", "reorder_level"): bounds.COUNTED.high,
    ("products", "opening_stock"): bounds.STOCK_QUANTITY.high,
}


def layout_of(kind):
    layout = LAYOUTS.get(kind)
    if layout is None:
        raise DomainError(_l("Choose what to import."), "kind")
    return layout


def column_note(layout, column):
    """What a column holds, in the user's language."""
    note = column.note
    key = (layout.kind, column.key)
    if key in NOTE_CHOICES:
        return str(note) % {"choices": NOTE_CHOICES[key]()}
    if key in NOTE_MAX:
        return str(note) % {"max": NOTE_MAX[key]}
    return str(note)


def example_row(layout):
    return [column.example for column in layout.columns]


# ---------------------------------------------------------------- the template


def template(kind):
    """The XLSX template of ``kind``: the header row, an example row (skipped on import while
    left as it is), and a sheet "说明" explaining each column and its values."""
    layout = layout_of(kind)
    wb = Workbook()
    ws = wb.active
    ws.title = layout.sheet
    bold, grey = Font(bold=True), Font(italic=True, color="808080")
    fill = PatternFill("solid", fgColor="DDEBF7")
    for i, column in enumerate(layout.columns, start=1):
        cell = ws.cell(row=1, column=i, value=column.header)
        cell.font, cell.fill = bold, fill
        cell.comment = Comment(column_note(layout, column), "portal")
        example = ws.cell(row=2, column=i, value=column.example)
        example.font = grey
        if isinstance(column.example, str):
            example.number_format = "@"  # text: asset tags and phone numbers stay as typed
        ws.column_dimensions[get_column_letter(i)].width = max(14, 4 * len(column.header) + 6)
    ws.freeze_panes = "A2"
    notes = wb.create_sheet("说明")
    notes.append([str(_l("Column")), str(_l("Required")), str(_l("What to write")), "示例"])
    for cell in notes[1]:
        cell.font, cell.fill = bold, fill
    for column in layout.columns:
        notes.append(
            [
                column.header,
                str(_l("Yes")) if column.required else "",
                column_note(layout, column),
                column.example,
            ]
        )
    for text in (
        _l("Row 2 of the first sheet is an example: it is skipped while left as it is."),
        _l("One row per record, at most %(n)s rows; the first row keeps the headers.", n=MAX_ROWS),
        _l(
            "Nothing is imported unless every row is right; importing the same file again "
            "changes nothing, a changed row updates the record."
        ),
        _l("An empty optional cell leaves the stored value as it is."),
        _l("Save as .xlsx, or as CSV in UTF-8 or GBK. Formulas are not calculated."),
    ):
        notes.append([str(text)])
    for letter, width in (("A", 16), ("B", 10), ("C", 70), ("D", 22)):
        notes.column_dimensions[letter].width = width
    for row in notes.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- reading a file


def _refuse(message):
    raise DomainError(message, "file")


def _is_xlsx(data):
    """A zip holding a workbook, small enough once unpacked."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        return False
    if unpacked > MAX_UNPACKED:
        _refuse(_l("The spreadsheet is too large once unpacked."))
    return True


def _xlsx_rows(data):
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file
        _refuse(_l("The file is not a readable XLSX spreadsheet."))
    try:
        ws = wb.worksheets[0]
        for values in ws.iter_rows(max_col=MAX_COLUMNS, values_only=True):
            yield list(values)
    except Exception:
        _refuse(_l("The file is not a readable XLSX spreadsheet."))
    finally:
        wb.close()


def _decode(data):
    if b"\x00" in data:
        _refuse(_l("The file is not a spreadsheet (.xlsx) or a CSV text file."))
    for encoding in ("utf-8-sig", "gb18030"):  # GB18030 reads every GBK file
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    _refuse(_l("The CSV file is neither UTF-8 nor GBK text: save it again as CSV (UTF-8)."))


def _csv_rows(data):
    text = _decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        for values in csv.reader(io.StringIO(text, newline=""), dialect):
            yield values[:MAX_COLUMNS]
    except csv.Error:
        _refuse(_l("The CSV file cannot be read: check its quotes."))


def read_rows(filename, data):
    """[(line, [cell values])] of the file's first sheet, the header row first; empty rows
    left out. DomainError (field "file") when the file cannot be taken."""
    name = (filename or "").strip().lower()
    if not data:
        _refuse(_l("Choose a file to import."))
    if len(data) > MAX_BYTES:
        _refuse(_l("The file is larger than %(n)s MB.", n=MAX_BYTES // (1024 * 1024)))
    if not name.endswith(EXTENSIONS):
        _refuse(_l("Only .xlsx and .csv files can be imported."))
    if name.endswith(".xlsx"):
        if not _is_xlsx(data):
            _refuse(_l("The file is not a readable XLSX spreadsheet."))
        source = _xlsx_rows(data)
    else:
        if data[:4] == b"PK\x03\x04" or data[:4] == b"\xd0\xcf\x11\xe0":
            _refuse(_l("The file is a workbook, not CSV text: save it as .xlsx or as CSV."))
        source = _csv_rows(data)
    rows = []
    for line, values in enumerate(source, start=1):
        if all(_text(v) == "" for v in values):
            continue
        rows.append((line, values))
        if len(rows) > MAX_ROWS + 1:
            _refuse(_l("The file has more than %(n)s rows: split it.", n=MAX_ROWS))
    if not rows:
        _refuse(_l("The file is empty."))
    return rows


# ---------------------------------------------------------------- the plan


@dataclass
class RowPlan:
    line: int
    values: dict
    action: str = "create"  # create | update | unchanged | skip (the template's example)
    record: object = None
    changes: dict = field(default_factory=dict)


@dataclass
class Plan:
    kind: str
    site: object
    filename: str
    rows: list = field(default_factory=list)
    problems: list = field(default_factory=list)  # (line, header or None, message)
    skipped_example: bool = False

    @property
    def ok(self):
        return not self.problems

    def count(self, action):
        return sum(1 for row in self.rows if row.action == action)

    @property
    def counts(self):
        return {a: self.count(a) for a in ("create", "update", "unchanged")}


def _headers(layout, header_values, plan):
    """{column index: Column} from the header row; problems for unknown, repeated or missing
    columns."""
    line, values = header_values
    known = {}
    for column in layout.columns:
        for word in (column.header, *column.aliases):
            known[word.lower()] = column
    found, seen = {}, {}
    for index, value in enumerate(values):
        header = _text(value).rstrip("*＊").strip()
        if not header:
            continue
        column = known.get(header.lower())
        if column is None:
            plan.problems.append((line, header, _l("Unknown column: see the template's notes.")))
        elif column.key in seen:
            plan.problems.append((line, header, _l("This column appears twice.")))
        else:
            found[index], seen[column.key] = column, header
    for column in layout.columns:
        if column.required and column.key not in seen:
            plan.problems.append((line, column.header, _l("This column is missing.")))
    return found, seen


def plan(kind, site, filename, data):
    """Read and check the whole file; nothing is written. The plan's ``problems`` list every
    problem found (line, column header, message)."""
    layout = layout_of(kind)
    result = Plan(kind, site, filename or "")
    rows = read_rows(filename, data)
    columns, headers = _headers(layout, rows[0], result)
    if result.problems:
        return result
    example = [_text(v) for v in example_row(layout)]
    for line, values in rows[1:]:
        row = RowPlan(line, {})
        cells = {}
        for index, column in columns.items():
            cells[column.key] = values[index] if index < len(values) else None
        if [_text(cells.get(c.key)) for c in layout.columns] == example:
            result.skipped_example = True
            continue
        for column in layout.columns:
            if column.key not in cells:
                continue
            try:
                value = column.parse(cells[column.key])
            except Problem as problem:
                result.problems.append((line, headers[column.key], problem.args[0]))
                continue
            if value is None and column.required:
                result.problems.append((line, headers[column.key], _l("This cell is required.")))
                continue
            if value is not None:
                row.values[column.key] = value
        result.rows.append(row)
    if len(result.rows) > MAX_ROWS:
        _refuse(_l("The file has more than %(n)s rows: split it.", n=MAX_ROWS))
    if not result.rows and not result.problems:
        result.problems.append((rows[0][0], None, _l("The file has no rows to import.")))
    if result.problems:
        return result
    MATCHERS[kind](result, headers)
    return result


def _header(headers, layout, key):
    return headers.get(key, layout.column(key).header)


def _compare(row, record, fields):
    """Set ``row.action``/``changes`` against ``record`` for the fields given in the row."""
    row.record = record
    if record is None:
        row.action = "create"
        return
    row.changes = {
        f: row.values[f] for f in fields if f in row.values and getattr(record, f) != row.values[f]
    }
    row.action = "update" if row.changes else "unchanged"


def _once(plan_, headers, layout, row, key, column, first_seen):
    """Problem when ``key`` (a record or what identifies one) was already taken by an earlier
    line of the file."""
    if key in first_seen:
        message = _l("Same record as line %(line)s.", line=first_seen[key])
        plan_.problems.append((row.line, _header(headers, layout, column), message))
        return False
    first_seen[key] = row.line
    return True


def _match_items(plan_, headers):
    site = plan_.site
    items = db.session.scalars(select(Item).where(Item.site_id == site.id)).all()
    by_tag, by_place = {}, {}
    for item in items:
        if item.asset_tag:
            by_tag.setdefault(item.asset_tag, []).append(item)
        else:
            by_place.setdefault((item.name, item.location or None), []).append(item)
    keys, records = {}, {}
    for row in plan_.rows:
        tag = row.values.get("asset_tag")
        place = (row.values["name"], row.values.get("location"))
        column = "asset_tag" if tag else "name"
        key = ("tag", tag) if tag else ("place", place)
        if not _once(plan_, headers, ITEMS, row, key, column, keys):
            continue
        found = by_tag.get(tag, []) if tag else []
        if tag and len(found) > 1:
            plan_.problems.append(
                (
                    row.line,
                    _header(headers, ITEMS, "asset_tag"),
                    _l("Several items of the site carry this asset tag: correct them first."),
                )
            )
            continue
        if not found:
            found = by_place.get(place, [])
        record = found[0] if found else None
        if record is not None and not _once(plan_, headers, ITEMS, row, record.id, column, records):
            continue
        _compare(
            row,
            record,
            ("name", "category", "location", "expected_quantity", "asset_tag", "condition"),
        )


def _match_products(plan_, headers):
    site = plan_.site
    stmt = scope.including_deleted(select(Product).where(Product.site_id == site.id))
    products = {p.name: p for p in db.session.scalars(stmt)}
    names = {}
    for row in plan_.rows:
        name = row.values["name"]
        if not _once(plan_, headers, PRODUCTS, row, name, "name", names):
            continue
        record = products.get(name)
        if record is not None and record.deleted_at is not None:
            plan_.problems.append(
                (
                    row.line,
                    _header(headers, PRODUCTS, "name"),
                    _l("A product of this name is in the recycle bin: restore it there first."),
                )
            )
            continue
        _compare(row, record, ("kind", "unit", "reorder_level"))


def _match_staff(plan_, headers):
    site = plan_.site
    people = db.session.scalars(select(StaffMember).where(StaffMember.site_id == site.id)).all()
    by_name = {}
    for person in people:
        by_name.setdefault(person.name, []).append(person)
    wanted = {row.values["username"] for row in plan_.rows if "username" in row.values}
    users = {}
    if wanted:
        # Through the scope: a login one may not see does not exist for this import.
        stmt = select(User).where(User.username.in_(sorted(wanted)))
        users = {u.username: u for u in db.session.scalars(stmt)}
    keys, records, logins = {}, {}, {}
    for row in plan_.rows:
        name, phone = row.values["name"], row.values.get("phone")
        if not _once(plan_, headers, STAFF, row, (name, phone), "name", keys):
            continue
        found = by_name.get(name, [])
        if len(found) > 1:
            found = [p for p in found if phone and p.phone == phone]
            if not found and not phone:
                plan_.problems.append(
                    (
                        row.line,
                        _header(headers, STAFF, "phone"),
                        _l("Several people of the site have this name: give the phone number."),
                    )
                )
                continue
        record = found[0] if len(found) == 1 else None
        if record is not None and not _once(plan_, headers, STAFF, row, record.id, "name", records):
            continue
        username = row.values.pop("username", None)
        if username is not None:
            user = users.get(username)
            column = _header(headers, STAFF, "username")
            if user is None:
                plan_.problems.append(
                    (
                        row.line,
                        column,
                        _l(
                            "There is no login named %(name)s: logins are created on the user "
                            "form.",
                            name=username,
                        ),
                    )
                )
                continue
            if not _once(plan_, headers, STAFF, row, user.id, "username", logins):
                continue
            other = next((p for p in people if p.user_id == user.id and p is not record), None)
            if other is not None:
                plan_.problems.append(
                    (
                        row.line,
                        column,
                        _l(
                            "This login already belongs to %(name)s at this site.",
                            name=other.name,
                        ),
                    )
                )
                continue
            row.values["user_id"] = user.id
        _compare(row, record, ("kind", "phone", "notes", "user_id"))


MATCHERS = {"items": _match_items, "products": _match_products, "staff": _match_staff}


# ---------------------------------------------------------------- writing


def check_refused(plan_):
    if not plan_.ok:
        raise DomainError(_l("The file has problems: nothing was imported."), "file")


def apply(plan_, user=None):
    """Write a plan without problems in the current transaction (the caller commits once)."""
    check_refused(plan_)
    site = plan_.site
    for row in plan_.rows:
        if row.action == "unchanged":
            continue
        if row.action == "update":
            for key, value in row.changes.items():
                setattr(row.record, key, value)
            continue
        WRITERS[plan_.kind](site, row, user)
    db.session.flush()
    counts = plan_.counts
    if counts["create"] or counts["update"]:
        audit.record(
            "import",
            site,
            summary=str(
                _l(
                    "%(what)s from %(file)s: %(created)s created, %(updated)s updated, "
                    "%(unchanged)s unchanged",
                    what=KIND_LABELS[plan_.kind],
                    file=plan_.filename[:80],
                    created=counts["create"],
                    updated=counts["update"],
                    unchanged=counts["unchanged"],
                )
            ),
            after={"kind": plan_.kind, "file": plan_.filename[:200], **counts},
        )
    return counts


def _new_item(site, row, user):
    values = row.values
    item = Item(
        site_id=site.id,
        name=values["name"],
        category=values.get("category", "other"),
        location=values.get("location"),
        expected_quantity=values.get("expected_quantity", 1),
        asset_tag=values.get("asset_tag"),
        condition=values.get("condition", "ok"),
        active=True,
    )
    db.session.add(item)
    row.record = item


def _new_product(site, row, user):
    values = row.values
    product = Product(
        site_id=site.id,
        name=values["name"],
        kind=values["kind"],
        unit=values.get("unit", "瓶"),
        reorder_level=values.get("reorder_level", 0),
        active=True,
    )
    db.session.add(product)
    db.session.flush()  # its balance row is made on insert: the opening stock moves it
    row.record = product
    opening = values.get("opening_stock", 0)
    if opening:
        stock.restock(
            site,
            product,
            opening,
            user=user,
            reason=str(OPENING_STOCK_REASON),
            day=clock.local_day(site),
        )


def _new_person(site, row, user):
    values = row.values
    person = StaffMember(
        site_id=site.id,
        name=values["name"],
        kind=values["kind"],
        phone=values.get("phone"),
        notes=values.get("notes"),
        user_id=values.get("user_id"),
        active=True,
    )
    db.session.add(person)
    row.record = person


WRITERS = {"items": _new_item, "products": _new_product, "staff": _new_person}
