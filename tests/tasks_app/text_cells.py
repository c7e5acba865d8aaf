"""What the tests of text in workbooks share (issue 16): texts a person may type that
Excel or LibreOffice would take for a formula, and the check that a workbook the product
wrote holds them as text (tests/tasks_app/test_spreadsheet_text.py,
tests/reports/test_excel.py)."""

import io

from openpyxl import load_workbook

# A task title, an agency's result or difficulty, typed like this by a person.
FORMULA_LIKE = (
    '=HYPERLINK("http://example.com/x","Bấm vào đây")',
    "+1",
    "-2",
    "@SUM(A1)",
)


def text_cells(content: bytes) -> dict[str, list[tuple[str, str]]]:
    """Every cell of the workbook holding one of FORMULA_LIKE, {text: [(address, type)]};
    fails if any cell of the workbook is a formula (the product writes none)."""
    workbook = load_workbook(io.BytesIO(content))
    found: dict[str, list[tuple[str, str]]] = {}
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                where = f"{sheet.title}!{cell.coordinate}"
                assert cell.data_type != "f", f"{where} is a formula: {cell.value!r}"
                if cell.value in FORMULA_LIKE:
                    found.setdefault(cell.value, []).append((where, cell.data_type))
    return found


def assert_kept_as_text(content: bytes, texts=FORMULA_LIKE) -> None:
    """Each of `texts` is in the workbook, every time as a text cell holding it exactly."""
    found = text_cells(content)
    for text in texts:
        assert found.get(text), f"{text!r} is not in the workbook"
        assert {kind for _where, kind in found[text]} == {"s"}, found[text]
