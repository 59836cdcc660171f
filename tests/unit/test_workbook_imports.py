"""Reading uploaded workbooks safely (shared/workbook.py): by content, not name; formulas,
hidden sheets, merged headers, wrong types and huge files refused with a reason in Chinese;
CSV in GB18030 as well as UTF-8; rows checked into (sheet, row, column, reason)."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from shared.workbook import (
    MAX_UPLOAD_BYTES,
    Column,
    FileRefused,
    Sheet,
    check_rows,
    read_upload,
    result_workbook,
    template,
)

PEOPLE = Sheet(
    "党员",
    (Column("姓名"), Column("班子成员", required=False, choices=("是", "否"))),
    example=("张建国", "是"),
)


def book(rows: list[list[object]], *, title: str = "党员") -> Workbook:
    wb = Workbook()
    page = wb.active
    assert page is not None
    page.title = title
    for row in rows:
        page.append(row)
    return wb


def saved(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_rows_are_read_and_checked_with_excel_row_numbers() -> None:
    data = saved(book([["姓名", "班子成员"], ["张建国", "是"], [None, None], ["", "也许"]]))
    rows = read_upload(data, [PEOPLE])["党员"]
    assert [(r.number, r.values) for r in rows] == [
        (2, {"姓名": "张建国", "班子成员": "是"}),
        (4, {"姓名": "", "班子成员": "也许"}),
    ]
    errors = check_rows(PEOPLE, rows)
    assert [(e.row, e.column) for e in errors] == [(4, "姓名"), (4, "班子成员")]
    assert errors[0].reason == "必填项为空"
    assert "是、否" in errors[1].reason


def test_csv_in_gb18030_reads_as_utf8_does() -> None:
    text = "姓名,班子成员\r\n李秀英,否\r\n"
    for data in (text.encode("gb18030"), text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode()):
        rows = read_upload(data, [PEOPLE])["党员"]
        assert rows[0].values == {"姓名": "李秀英", "班子成员": "否"}


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"%PDF-1.7 ...", "PDF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ".xls"),
        (b"PK\x03\x04 not really a zip", "损坏"),
        (b"\x00\x01\x02", "无法识别"),
        (b"", "为空"),
        (b"a" * (MAX_UPLOAD_BYTES + 1), "过大"),
        ("姓名,班子成员\n=1+1,是\n".encode(), "公式"),
        ("名字\n张三\n".encode(), "缺少列：姓名"),
    ],
)
def test_what_cannot_be_read_is_refused_with_a_reason(data: bytes, said: str) -> None:
    with pytest.raises(FileRefused) as refused:
        read_upload(data, [PEOPLE])
    assert said in str(refused.value)
    assert refused.value.status == 422


def test_formulas_hidden_sheets_and_merged_headers_are_refused() -> None:
    with_formula = book([["姓名", "班子成员"], ["=A1", "是"]])
    hidden = book([["姓名", "班子成员"]])
    hidden.create_sheet("秘密").sheet_state = "hidden"
    merged = book([["姓名", "班子成员"]])
    merged["党员"].merge_cells("A1:B1")
    wrong_sheet = book([["姓名", "班子成员"]], title="Sheet1")
    for wb, said in (
        (with_formula, "公式"),
        (hidden, "隐藏"),
        (merged, "合并单元格"),
        (wrong_sheet, "缺少工作表"),
    ):
        with pytest.raises(FileRefused, match=said):
            read_upload(saved(wb), [PEOPLE])


def test_a_template_has_instructions_headers_and_drop_downs() -> None:
    wb = load_workbook(io.BytesIO(template(title="名册", instructions=["说明"], sheets=[PEOPLE])))
    assert wb.sheetnames == ["填写说明", "党员"]
    assert [c.value for c in wb["党员"][1]] == ["姓名", "班子成员"]
    rules = wb["党员"].data_validations.dataValidation
    assert [r.formula1 for r in rules] == ['"是,否"']
    guide = [row[0] for row in wb["填写说明"].iter_rows(values_only=True)]
    assert "张建国" in guide  # the example row
    # the blank template reads back as no rows
    assert read_upload(saved(wb), [PEOPLE]) == {"党员": []}


def test_the_result_workbook_has_an_error_column() -> None:
    rows = read_upload("姓名,班子成员\n张三,是\n,否\n".encode(), [PEOPLE])
    errors = check_rows(PEOPLE, rows["党员"])
    wb = load_workbook(io.BytesIO(result_workbook([PEOPLE], rows, errors)))
    assert list(wb["党员"].iter_rows(values_only=True)) == [
        ("行号", "姓名", "班子成员", "错误"),
        (2, "张三", "是", None),
        (3, None, "否", "姓名：必填项为空"),
    ]
