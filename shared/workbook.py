"""Excel workbooks, the way township offices keep their ledgers today: a title row, a bold
header row, one row per record, wrapped text, frozen headers and a filter.

And imports (issue 19): templates with an instructions sheet and drop-downs; uploads read
safely (.xlsx by its content, read-only, no formulas, hidden sheets, merged headers, huge
files; CSV in UTF-8 or GB18030/GBK); rows checked with errors as (sheet, row, column, reason
in Chinese); results written back with an error column."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi.responses import Response
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from shared.errors import InvalidInput


def workbook(
    *,
    sheet: str,
    title: str,
    columns: Sequence[tuple[str, int]],
    rows: Sequence[Sequence[Any]],
) -> bytes:
    """`columns` are (header, width); each row holds one value per column."""
    book = Workbook()
    page = book.active
    assert page is not None
    page.title = sheet
    page.append([title])
    page["A1"].font = Font(bold=True, size=14)
    page.append([header for header, _ in columns])
    for cell in page[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in rows:
        page.append([_excel(value) for value in row])
    for index, (_, width) in enumerate(columns, start=1):
        page.column_dimensions[get_column_letter(index)].width = width
    for line in page.iter_rows(min_row=3):
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    page.freeze_panes = "A3"
    page.auto_filter.ref = f"A2:{get_column_letter(len(columns))}{len(rows) + 2}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _excel(value: Any) -> Any:
    if isinstance(value, datetime):  # Excel has no time zones: local wall-clock time
        return value.replace(tzinfo=None)
    return value


# --- imports: templates in, checked rows out ------------------------------------------------

MAX_UPLOAD_BYTES = 12_000_000  # as GONGKAI_MAX_UPLOAD_BYTES; a roster of 30,000 members: 1.5 MB
MAX_ROWS = 100_000  # per sheet
MAX_UNZIPPED_BYTES = 400_000_000  # against a zip bomb
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    """A column of an import's sheet: its Chinese header, the allowed values (a drop-down in
    the template), whether it must be filled, its width and a note for the instructions."""

    header: str
    required: bool = True
    choices: tuple[str, ...] = ()
    width: int = 16
    note: str = ""


@dataclass(frozen=True)
class Sheet:
    name: str
    columns: tuple[Column, ...]
    example: tuple[str, ...] = ()  # one example row, shown on the instructions sheet


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row: its sheet, its row number as Excel shows it, the column's
    header and the reason, in Chinese."""

    sheet: str
    row: int
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "reason": self.reason}


@dataclass(frozen=True)
class Row:
    sheet: str
    number: int  # as Excel numbers it (the header is row 1)
    values: dict[str, str]  # header -> text, stripped ("" when empty)


class FileRefused(InvalidInput):
    """The file as a whole cannot be read: wrong type, too large, a formula, a hidden sheet,
    a merged header, missing headers. Nothing is appended."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, field="file")


class RowRefused(InvalidInput):
    """An owning command refused one row (found while running the file's commands)."""

    def __init__(self, error: RowError) -> None:
        super().__init__(
            f"第 {error.row} 行 {error.column}：{error.reason}",
            errors=[error.as_dict()],
        )
        self.error = error


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_upload(data: bytes, sheets: Sequence[Sheet]) -> dict[str, list[Row]]:
    """The rows of each of `sheets` in an uploaded .xlsx (by its content, not its name), or
    of the one sheet a CSV holds (UTF-8, or GB18030/GBK as Chinese Excel saves it). Refuses
    (FileRefused) what cannot be read safely; rows are checked by `check_rows`."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise FileRefused(f"文件过大：上限为 {MAX_UPLOAD_BYTES // 1_000_000} MB")
    if not data.strip():
        raise FileRefused("文件为空")
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, sheets)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused("这是旧版 Excel（.xls）文件：请在 Excel 中另存为 .xlsx 后再上传")
    for magic, kind in ((b"%PDF", "PDF"), (b"\x89PNG", "图片"), (b"\xff\xd8\xff", "图片")):
        if data.startswith(magic):
            raise FileRefused(f"这是{kind}文件，不是表格：请上传模板填写后的 .xlsx 或 .csv 文件")
    return _read_csv(data, sheets)


def _text(data: bytes) -> str:
    if b"\x00" in data:
        raise FileRefused("无法识别的文件类型：请上传 .xlsx 或 .csv 文件")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise FileRefused("CSV 文件的编码无法识别：请用 UTF-8 或 GBK/GB18030 保存") from None


def _read_csv(data: bytes, sheets: Sequence[Sheet]) -> dict[str, list[Row]]:
    """A CSV holds one table: that of the sheet whose headers it has (the first sheet's
    when it has none's)."""
    lines = list(csv.reader(io.StringIO(_text(data), newline="")))
    if len(lines) > MAX_ROWS + 1:
        raise FileRefused(f"行数过多：每张表最多 {MAX_ROWS} 行")
    for line in lines:
        for value in line:
            if value.startswith("="):
                raise FileRefused("文件中含有公式：请只填写数值，不要使用公式")
    header = {v.strip() for v in next((line for line in lines if any(line)), [])}
    sheet = next(
        (s for s in sheets if all(c.header in header for c in s.columns if c.required)),
        sheets[0],
    )
    return {sheet.name: _rows(sheet, [list(line) for line in lines])}


def _read_xlsx(data: bytes, sheets: Sequence[Sheet]) -> dict[str, list[Row]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        unzipped = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise FileRefused("文件已损坏或不是 .xlsx 文件") from None
    if "xl/workbook.xml" not in names:
        raise FileRefused("这不是 Excel 工作簿（.xlsx）：请上传模板填写后的文件")
    if unzipped > MAX_UNZIPPED_BYTES:
        raise FileRefused("文件解压后过大，无法读取")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # any damage to the file is the same answer
        raise FileRefused("文件已损坏，无法读取：请用 Excel 重新保存为 .xlsx") from None
    try:
        out: dict[str, list[Row]] = {}
        for sheet in sheets:
            if sheet.name not in book.sheetnames:
                raise FileRefused(f"缺少工作表“{sheet.name}”：请使用本系统下载的模板")
            page = book[sheet.name]
            if getattr(page, "sheet_state", "visible") != "visible":
                raise FileRefused(f"工作表“{sheet.name}”被隐藏：请取消隐藏后再上传")
            path = getattr(page, "_worksheet_path", None)
            if path and _merged_header(archive.read(path.lstrip("/"))):
                raise FileRefused(f"工作表“{sheet.name}”的表头有合并单元格：请取消合并")
            lines: list[list[str]] = []
            for number, cells in enumerate(page.iter_rows(), start=1):
                if number > MAX_ROWS + 1:
                    raise FileRefused(f"行数过多：每张表最多 {MAX_ROWS} 行")
                line = []
                for cell in cells:
                    if getattr(cell, "data_type", None) == "f":
                        where = getattr(cell, "coordinate", f"第 {number} 行")
                        raise FileRefused(
                            f"工作表“{sheet.name}”的 {where} 是公式：请复制后“粘贴为数值”"
                        )
                    line.append(_cell_text(cell.value))
                lines.append(line)
            out[sheet.name] = _rows(sheet, lines)
        for name in book.sheetnames:
            if name not in out and book[name].sheet_state != "visible":
                raise FileRefused(f"工作簿中有隐藏的工作表“{name}”：请删除或取消隐藏")
        return out
    finally:
        book.close()


MERGE = re.compile(rb'<mergeCell ref="[A-Z]+(\d+):[A-Z]+(\d+)"')


def _merged_header(xml: bytes) -> bool:
    return any(int(first) <= 1 for first, _ in MERGE.findall(xml))


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    return str(value).strip()


def _rows(sheet: Sheet, lines: list[list[str]]) -> list[Row]:
    while lines and not any(v.strip() for v in lines[0]):
        lines = lines[1:]  # blank lines above the header
    if not lines:
        raise FileRefused(f"工作表“{sheet.name}”没有表头")
    header = [v.strip() for v in lines[0]]
    missing = [c.header for c in sheet.columns if c.header not in header]
    if missing:
        raise FileRefused(
            f"工作表“{sheet.name}”缺少列：{'、'.join(missing)}（请使用本系统下载的模板）"
        )
    where = {c.header: header.index(c.header) for c in sheet.columns}
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not any(v.strip() for v in line):
            continue  # blank rows are skipped
        values = {h: (line[i].strip() if i < len(line) else "") for h, i in where.items()}
        rows.append(Row(sheet.name, number, values))
    return rows


def check_rows(sheet: Sheet, rows: Sequence[Row]) -> list[RowError]:
    """Each row's required cells filled and its values among the allowed ones."""
    errors = []
    for row in rows:
        for column in sheet.columns:
            value = row.values[column.header]
            if column.required and not value:
                errors.append(RowError(sheet.name, row.number, column.header, "必填项为空"))
            elif value and column.choices and value not in column.choices:
                allowed = "、".join(column.choices)
                errors.append(
                    RowError(sheet.name, row.number, column.header, f"只能填写：{allowed}")
                )
            elif len(value) > 200:
                errors.append(RowError(sheet.name, row.number, column.header, "超过 200 字"))
    return errors


def template(*, title: str, instructions: Sequence[str], sheets: Sequence[Sheet]) -> bytes:
    """An import's template: an instructions sheet (in Chinese, with an example row of each
    sheet), then one sheet per table with Chinese headers, required ones marked, and a
    drop-down list on each column with allowed values."""
    book = Workbook()
    guide = book.active
    assert guide is not None
    guide.title = "填写说明"
    guide.append([title])
    guide["A1"].font = Font(bold=True, size=14)
    for line in instructions:
        guide.append([line])
    for sheet in sheets:
        guide.append([])
        guide.append([f"工作表“{sheet.name}”各列："])
        guide.cell(guide.max_row, 1).font = Font(bold=True)
        for column in sheet.columns:
            need = "必填" if column.required else "选填"
            allowed = f"；可选：{'、'.join(column.choices)}" if column.choices else ""
            guide.append([f"· {column.header}（{need}）{column.note}{allowed}"])
        if sheet.example:
            guide.append(["示例（请勿复制本行到数据表）："])
            guide.append([c.header for c in sheet.columns])
            guide.append(list(sheet.example))
    guide.column_dimensions["A"].width = 90
    for sheet in sheets:
        page = book.create_sheet(sheet.name)
        page.append([c.header for c in sheet.columns])
        for index, column in enumerate(sheet.columns, start=1):
            cell = page.cell(1, index)
            cell.font = Font(bold=True, color="C00000" if column.required else "000000")
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
            letter = get_column_letter(index)
            page.column_dimensions[letter].width = column.width
            page.column_dimensions[letter].number_format = "@"  # text: ids keep their zeros
            if column.choices:
                rule = DataValidation(
                    type="list",
                    formula1='"' + ",".join(column.choices) + '"',
                    allow_blank=not column.required,
                    showErrorMessage=True,
                    errorTitle="取值不在列表中",
                    error=f"请从下拉列表中选择：{'、'.join(column.choices)}",
                )
                rule.add(f"{letter}2:{letter}{MAX_ROWS}")
                page.add_data_validation(rule)
        page.freeze_panes = "A2"
    return _saved(book)


def prefilled(blank: bytes, rows: dict[str, Sequence[Sequence[Any]]]) -> bytes:
    """The template `blank` with rows filled in (the current roster, to edit and import)."""
    book = load_workbook(io.BytesIO(blank))
    for name, lines in rows.items():
        page = book[name]
        for line in lines:
            page.append([_excel(v) for v in line])
    return _saved(book)


def result_workbook(
    sheets: Sequence[Sheet], rows: dict[str, list[Row]], errors: Sequence[RowError]
) -> bytes:
    """The rows as uploaded, each with an error column (empty: the row was fine)."""
    by_row: dict[tuple[str, int], list[str]] = {}
    for e in errors:
        by_row.setdefault((e.sheet, e.row), []).append(f"{e.column}：{e.reason}")
    book = Workbook(write_only=True)
    for sheet in sheets:
        page = book.create_sheet(sheet.name)
        page.append(["行号", *(c.header for c in sheet.columns), "错误"])
        for row in rows.get(sheet.name, []):
            problems = "；".join(by_row.get((sheet.name, row.number), []))
            page.append([row.number, *(row.values[c.header] for c in sheet.columns), problems])
        whole = [f"{e.column}：{e.reason}" for e in errors if e.sheet == sheet.name and not e.row]
        for line in whole:
            page.append(["", *("" for _ in sheet.columns), line])
    return _saved(book)


def _saved(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_download(data: bytes, filename: str) -> Response:
    """A workbook answered as a download (every service's and the console's Excel)."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(data, media_type=XLSX_TYPE, headers=headers)
