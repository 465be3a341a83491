"""«Biểu đồ»: the spec's charts of yearly rates (block of the whole on a figures sheet) and a
bar chart of each listing's counts; they update when the figures change."""
from __future__ import annotations

from qcdc_xl.form.report_spec import ALL, FIXED_SHEETS
from .cells import nice_step

_FONT = {"size": 12, "name": "Times New Roman"}


def write_charts(book, ws) -> None:
    ws.merge_range(0, 0, 0, 10, "BIỂU ĐỒ", book.st("title"))
    ws.merge_range(1, 0, 1, 10, _note(book), book.st("note"))
    anchor = 3
    for spec in book.spec.charts:
        chart = _rate_chart(book, spec)
        if chart is not None:
            ws.insert_chart(anchor, 0, chart, {"x_offset": 10, "y_offset": 5})
            anchor += 17
    for listing, where, top, n_options in book.listing_counts:
        ws.insert_chart(anchor, 0, _counts_chart(book, listing, where, top, n_options),
                        {"x_offset": 10, "y_offset": 5})
        anchor += 17
    ws.set_column(0, 10, 9)
    from .cells import page
    page(ws, FIXED_SHEETS["charts"], landscape=False)


def _note(book) -> str:
    sources = []
    if book.spec.figures:
        sources.append(f"«{book.spec.figures[0].name}» (nhóm {book.spec.titles.get(ALL, ALL)})")
    sources += [f"«{listing.name}»" for listing, *_ in book.listing_counts]
    return (f"Số liệu lấy từ trang {' và '.join(sources)}; biểu đồ tự cập nhật khi số liệu "
            f"thay đổi.") if sources else "Biểu đồ tự cập nhật khi số liệu thay đổi."


def _rate_chart(book, spec):
    rows = [(name, book.figure_rows[base]) for name, base in spec.series if base in book.figure_rows]
    rows = [(name, sheet, row) for name, (sheet, row) in rows if sheet in book.series_cols]
    if not rows:
        return None
    chart = book.wb.add_chart({"type": spec.kind})
    for name, sheet, row in rows:
        header, first, last = book.series_cols[sheet]
        series = {"name": name, "categories": [sheet, header, first, header, last],
                  "values": [sheet, row, first, row, last]}
        if spec.kind == "line":
            series["marker"] = {"type": "circle", "size": 6}
        chart.add_series(series)
    chart.set_title({"name": spec.title, "name_font": _FONT})
    chart.set_y_axis({"num_format": "0%", "min": 0, "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 680, "height": 270})
    return chart


def _counts_chart(book, listing, where: tuple, top: int, n_options: int):
    first, last, label_col, total_col = where
    chart = book.wb.add_chart({"type": "bar"})
    chart.add_series({"name": listing.chart_series,
                      "categories": [listing.name, first, label_col, last, label_col],
                      "values": [listing.name, first, total_col, last, total_col],
                      "data_labels": {"value": True}})
    chart.set_title({"name": listing.chart, "name_font": _FONT})
    chart.set_x_axis({"num_format": "0", "min": 0, "major_unit": nice_step(top)})
    chart.set_y_axis({"reverse": True, "interval_unit": 1, "num_font": {"size": 9}})
    chart.set_legend({"none": True})
    chart.set_size({"width": 680, "height": 60 + 24 * n_options})
    return chart
