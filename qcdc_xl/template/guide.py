"""Every Vietnamese text a template shows people: the "Hướng dẫn" sheet, the short hints beside
the cells, the pop-up messages of data validation and the wording of the check status.

Kept apart from the writer so the wording can be reviewed in one place. Excel limits on
pop-ups (title 32, message 255 characters) are checked here, naming the spec line.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from qcdc_xl.form.spec import Column, Field, Form, SpecError

INPUT_TITLE_MAX, INPUT_MESSAGE_MAX = 32, 255
CHECK_SHEET_HINT = "Kiểm tra"


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _num(value) -> str:
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    return str(value)


# ---------------------------------------------------------------- hints beside the cells


def hint(field: Field) -> str:
    """The short grey hint in the column right of a value."""
    if field.is_identity:
        return "Điền sẵn, không sửa"
    if field.type == "rate":
        return "Tự động tính (%)"
    if field.type == "sum":
        return "Tự động cộng"
    if field.type == "count":
        return "Tự động đếm"
    if field.only_if is not None:
        return f"Chỉ điền khi chọn «{field.only_if.equals}» ở dòng trên"
    return _type_hint(field.type, field.min, field.max)


def _type_hint(ftype: str, lo, hi) -> str:
    if ftype == "int":
        return f"Số nguyên từ {_num(lo)} đến {_num(hi)}" if lo is not None and hi is not None else "Số nguyên"
    return {"money": "Đồng", "date": "Ngày/tháng/năm", "yesno": "Chọn Có / Không",
            "list": "Chọn trong danh sách", "text": ""}.get(ftype, "")


# ---------------------------------------------------------------- data validation pop-ups


@dataclass(frozen=True)
class Prompt:
    input_title: str
    input_message: str
    error_title: str
    error_message: str


_INPUT_TITLES = {"int": "Nhập số nguyên", "money": "Nhập số tiền (đồng)", "date": "Nhập ngày",
                 "yesno": "Chọn Có hoặc Không", "list": "Chọn trong danh sách", "text": "Nhập chữ"}
_ERROR_TITLE = "Giá trị không hợp lệ"


def _range_text(ftype: str, lo, hi) -> str:
    if ftype in ("int", "money"):
        unit = "số nguyên" if ftype == "int" else "số"
        lo = 0 if lo is None else lo
        if hi is not None:
            return f"{unit} từ {_num(lo)} đến {_num(hi)}"
        return f"{unit} từ {_num(lo)} trở lên"
    if ftype == "date":
        return f"ngày từ {_num(lo)} đến {_num(hi)}"
    return ""


def _rule_text(ftype: str, lo, hi, max_len: int) -> tuple:
    """(what to type, what the error says) for one type."""
    if ftype == "int":
        return (f"Gõ {_range_text(ftype, lo, hi)}, chỉ gõ chữ số. Không có thì ghi 0.",
                f"Ô này chỉ nhận {_range_text(ftype, lo, hi)}.")
    if ftype == "money":
        return (f"Gõ {_range_text(ftype, lo, hi)}, chỉ gõ chữ số (không gõ dấu chấm, chữ \"đồng\").",
                f"Ô này chỉ nhận {_range_text(ftype, lo, hi)} (đồng).")
    if ftype == "date":
        return ("Gõ ngày dạng ngày/tháng/năm, ví dụ 12/05/2018.",
                f"Ô này chỉ nhận {_range_text(ftype, lo, hi)}, dạng ngày/tháng/năm.")
    if ftype in ("yesno", "list"):
        return ("Bấm mũi tên ▼ bên phải ô để chọn; không gõ tay.",
                "Hãy chọn một giá trị trong danh sách (bấm mũi tên ▼ bên phải ô).")
    return (f"Tối đa {max_len} ký tự.", f"Nội dung dài quá {max_len} ký tự; hãy rút gọn.")


def field_prompt(form: Form, field: Field, max_len: int = 255) -> Prompt:
    """The pop-ups of one input field (a yearly field names its year)."""
    lo, hi = field.min, field.max
    if field.type == "date" and (lo is None or hi is None):
        lo, hi = lo or form.window[0], hi or form.window[1]
    what, error = _rule_text(field.type, lo, hi, max_len)
    parts = [f"{field.column_label[:1].upper()}{field.column_label[1:]}." if field.column_label else "",
             field.help or "",
             field.pattern_hint and f"Ghi {field.pattern_hint}." or "", what]
    if field.only_if is not None:
        parts.append(f"Để trống nếu không chọn «{field.only_if.equals}».")
    return _checked(form, field.id, field.line, Prompt(
        _INPUT_TITLES[field.type], " ".join(p for p in parts if p), _ERROR_TITLE, error))


def column_prompt(form: Form, table_name: str, column: Column, max_len: int = 1000) -> Prompt:
    what, error = _rule_text(column.type, column.min, column.max, max_len)
    required = "Bắt buộc khi dòng có nội dung." if column.required else ""
    parts = [f"{column.header}.", column.help and f"{column.help}." or "", what, required]
    return _checked(form, f"{table_name}.{column.id}", column.line, Prompt(
        _INPUT_TITLES[column.type], " ".join(p for p in parts if p), _ERROR_TITLE, error))


def _checked(form: Form, what: str, line: int, prompt: Prompt) -> Prompt:
    """Excel silently drops (or refuses) longer pop-ups: refuse the spec instead, by line."""
    prompt = Prompt(*(nfc(t) for t in (prompt.input_title, prompt.input_message,
                                         prompt.error_title, prompt.error_message)))
    for text, limit, kind in ((prompt.input_title, INPUT_TITLE_MAX, "tiêu đề gợi ý"),
                              (prompt.error_title, INPUT_TITLE_MAX, "tiêu đề báo lỗi"),
                              (prompt.input_message, INPUT_MESSAGE_MAX, "lời gợi ý"),
                              (prompt.error_message, INPUT_MESSAGE_MAX, "lời báo lỗi")):
        if len(text.encode("utf-16-le")) // 2 > limit:
            raise SpecError(form.path or "biểu mẫu", line,
                            f"'{what}': {kind} của ô dài {len(text)} ký tự, quá giới hạn {limit} "
                            f"ký tự của Excel; hãy rút gọn 'help' hoặc 'pattern_hint'.")
    return prompt


# ---------------------------------------------------------------- check status wording

OK_TEXT = "✔ Đã đủ, hợp lệ"
OVERALL_OK_TEXT = "✔ Biểu mẫu đã đủ và hợp lệ: có thể gửi"
WARN_TEXT = ("⚠ Cần xem lại ", " số liệu")
OVERALL_WARN_TEXT = ("⚠ Đã đủ; còn ", " số liệu cần xem lại (nếu đúng thì có thể gửi)")
BAD_PREFIX, OVERALL_BAD_PREFIX = "✘ ", "✘ Chưa gửi được: "
# (count key, text before the number, text after it); order = order shown
_PARTS = (("missing", "Thiếu ", " ô bắt buộc"), ("not_empty", "", " ô phải để trống"),
          ("errors", "", " số liệu mâu thuẫn"), ("warnings", "", " số liệu cần xem lại"))


def _wording(overall: bool):
    if overall:
        return OVERALL_OK_TEXT, OVERALL_WARN_TEXT, OVERALL_BAD_PREFIX
    return OK_TEXT, WARN_TEXT, BAD_PREFIX


def status_text(counts: dict, overall: bool = False) -> str:
    """What the status formula shows for these counts (missing, not_empty, errors, warnings)."""
    ok, warn, bad = _wording(overall)
    if counts["missing"] + counts["not_empty"] + counts["errors"] == 0:
        return ok if counts["warnings"] == 0 else f"{warn[0]}{counts['warnings']}{warn[1]}"
    return bad + "; ".join(f"{a}{counts[k]}{b}" for k, a, b in _PARTS if counts[k] > 0)


def status_formula(refs: dict, overall: bool = False) -> str:
    """The Excel twin of :func:`status_text`; ``refs`` maps each count key to a cell."""
    ok, warn, bad = _wording(overall)
    m, x, e, w = (refs[k] for k in ("missing", "not_empty", "errors", "warnings"))
    parts = "&".join(f'IF({refs[k]}>0,"; {a}"&{refs[k]}&"{b}","")' for k, a, b in _PARTS)
    return (f'=IF({m}+{x}+{e}=0,IF({w}=0,"{ok}","{warn[0]}"&{w}&"{warn[1]}"),'
            f'"{bad}"&MID({parts},3,1000))')


# ---------------------------------------------------------------- the "Hướng dẫn" sheet


@dataclass(frozen=True)
class GuideLine:
    style: str  # title | subtitle | heading | text | bullet | legend | status | blank
    text: str = ""
    swatch: str = ""  # legend: the format name of the colour sample
    sample: str = ""  # legend: text inside the colour sample


def guide_lines(form: Form, unit, layout, filename: str) -> list:
    """The "Hướng dẫn" sheet, top to bottom, for one unit (texts derive from the spec)."""
    lines = [GuideLine("title", "HƯỚNG DẪN ĐIỀN BIỂU MẪU"),
             GuideLine("subtitle", form.name),
             GuideLine("subtitle", f"Đơn vị: {unit.ten_don_vi} (mã {unit.ma_don_vi})"),
             GuideLine("blank"),
             GuideLine("status", "Tình trạng biểu mẫu (tự cập nhật):"),
             GuideLine("blank")]
    for make in (_part_sheets, _part_colours, _part_filling, _part_lists, _part_donts, _part_send):
        lines += make(form, unit, layout, filename)
        lines.append(GuideLine("blank"))
    return [GuideLine(g.style, nfc(g.text), g.swatch, nfc(g.sample)) for g in lines]


_CODE = r"\S*\d\S*"  # a document code or a number: 120-KL/TW, 14-CT/TU, 2017-2022


def sentence_case(text: str) -> str:
    """"DANH MỤC CÁC VĂN BẢN …" → "Danh mục các văn bản …" (a title quoted inside a sentence).

    Document codes keep their case, and a document named by its number keeps its capital:
    "KẾT LUẬN SỐ 120-KL/TW" → "Kết luận số 120-KL/TW"."""
    if not text.isupper():
        return text
    codes = {m.start(): m.group(0) for m in re.finditer(_CODE, text)}
    out = text[:1] + text[1:].lower()
    for start, code in codes.items():
        out = out[:start] + code + out[start + len(code):]
    return re.sub(r"(^|\s)(\w)(\w*\s+\w+\s+số\s+" + _CODE + ")",
                  lambda m: m.group(1) + m.group(2).upper() + m.group(3), out)


def _sheet_topic(sheet) -> str:
    """What a sheet holds, in sentence case: "PHỤ LỤC 2: VỀ SỐ LIỆU" → "Số liệu"."""
    text = sheet.heading or sheet.title
    text = re.sub(r"^PHỤ LỤC\s*\d+\s*[:.–—-]?\s*(VỀ\s+)?", "", text, flags=re.IGNORECASE) or text
    return sentence_case(text)


def _part_sheets(form, unit, layout, filename):
    kind = form.type_label(unit.loai_hinh)
    out = [GuideLine("heading", "1. Biểu mẫu gồm các trang"),
           GuideLine("text", f"Biểu mẫu này dành riêng cho đơn vị nêu trên, thuộc loại hình "
                             f"{unit.loai_hinh}: {kind[:1].lower()}{kind[1:]}. Biểu mẫu chỉ gồm các "
                             f"mục áp dụng cho loại hình này; số thứ tự các mục giữ nguyên như đề "
                             f"cương nên có thể không liền nhau.")]
    for s in layout.sheets:
        titles = [b.section.title for b in s.blocks if b.section.title]
        detail = (f", gồm các mục: {'; '.join(titles)}" if titles and not _holds_identity(form, s)
                  else "")
        out.append(GuideLine("bullet", f"Trang «{s.name}» — {_sheet_topic(s.sheet)}{detail}."))
    out.append(GuideLine("bullet", f"Trang «{CHECK_SHEET_HINT}» — tình trạng từng mục: thiếu gì, "
                                   f"số liệu nào mâu thuẫn."))
    return out


def _holds_identity(form, sheet_layout) -> bool:
    """The sheet with the prefilled identity (its sections are not listed one by one)."""
    return any(form.fields[fid].is_identity for b in sheet_layout.blocks for r in b.rows
               for fid, _ in r.cells)


def _part_colours(form, unit, layout, filename):
    return [
        GuideLine("heading", "2. Ý nghĩa màu sắc"),
        GuideLine("legend", "Ô nhập liệu: điền hoặc chọn số liệu của đơn vị vào đây.", "swatch_input"),
        GuideLine("legend", "Thông tin đơn vị đã điền sẵn; đã khóa, không sửa.", "swatch_identity"),
        GuideLine("legend", "Ô tự động tính (tỷ lệ, tổng, số dòng); đã khóa.", "swatch_formula"),
        GuideLine("legend", "Ô bắt buộc còn trống hoặc số liệu mâu thuẫn (hết màu khi đã sửa đúng).",
                  "swatch_missing"),
        GuideLine("legend", "Mục đã đủ và hợp lệ.", "swatch_ok", "✔"),
        GuideLine("legend", "Mục còn thiếu hoặc có số liệu mâu thuẫn: phải sửa trước khi gửi.",
                  "swatch_bad", "✘"),
        GuideLine("legend", "Mục có số liệu bất thường: xem lại; nếu đúng thì giữ nguyên.",
                  "swatch_warn", "⚠"),
        GuideLine("text", "Dấu * sau tên chỉ tiêu: bắt buộc phải điền (không có thì ghi 0)."),
    ] + _partly_required_line(layout)


def required_mark(required: bool, required_from: int | None = None) -> str:
    """The mark after a row's label: « *» required, « * (từ 2018)» required from that year."""
    if not required:
        return ""
    return f" * (từ {required_from})" if required_from else " *"


def _partly_required_line(layout) -> list:
    """A guide line for «* (từ …)», only in a template that has such a row."""
    years = sorted({fr.required_from for s in layout.sheets for b in s.blocks for fr in b.rows
                    if fr.required_from})
    if not years:
        return []
    year = years[0] if len(years) == 1 else "năm …"
    return [GuideLine("text", f"Dấu * (từ {year}) sau tên chỉ tiêu: bắt buộc điền từ năm ghi trong "
                              f"ngoặc; các năm trước không bắt buộc (không có số liệu thì để trống).")]


def _part_filling(form, unit, layout, filename):
    out = [GuideLine("heading", "3. Cách điền"),
           GuideLine("bullet", "Chỉ điền vào các ô màu vàng; các ô khác đã khóa. Chọn một ô để xem "
                               "lời hướng dẫn ngắn của ô đó."),
           GuideLine("bullet", "Số: chỉ gõ chữ số, không gõ dấu chấm, dấu phẩy ngăn cách hay chữ "
                               "(ví dụ 1500000). Không có thì ghi 0."),
           GuideLine("bullet", "Ngày: gõ dạng ngày/tháng/năm, ví dụ 12/05/2018."),
           GuideLine("bullet", "Có/Không và các danh sách: bấm mũi tên ▼ bên phải ô để chọn, không gõ tay."),
           GuideLine("bullet", "Khi dán từ Word hay tệp khác: dùng Dán đặc biệt → Chỉ giá trị "
                               "(Paste Special → Values) để ô không mất màu và kiểm tra.")]
    for f in form.input_fields(unit.loai_hinh):
        if f.only_if is not None:
            cond = form.fields[f.only_if.field]
            out.append(GuideLine("bullet", f"«{f.label}»: chỉ điền khi «{cond.label}» là "
                                           f"«{f.only_if.equals}»; nếu không thì để trống."))
    out.append(GuideLine("bullet", "Tỷ lệ, tổng và số dòng tự động tính; tỷ lệ để trống khi chưa có "
                                   "số liệu để tính."))
    return out


def _part_lists(form, unit, layout, filename):
    out = [GuideLine("heading", "4. Các bảng danh sách (văn bản, mô hình)")]
    for t in form.tables_for(unit.loai_hinh):
        sheet = form.sheet(t.sheet).name
        title = sentence_case(form.section(t.section).title or form.sheet(t.sheet).heading or sheet)
        out.append(GuideLine("bullet", f"Trang «{sheet}» ({title.rstrip('.')}): có sẵn "
                                       f"{t.ready_rows} dòng trống."))
    out += [
        GuideLine("bullet", "Mỗi văn bản, mỗi mô hình ghi một dòng, điền từ dòng đầu của bảng, không "
                            "để dòng trống xen giữa. Cột TT tự đánh số khi dòng có nội dung."),
        GuideLine("bullet", "Bỏ một dòng: chọn các ô của dòng đó rồi bấm phím Delete (không xóa dòng)."),
        GuideLine("bullet", f"Nếu cần nhiều dòng hơn: không chèn dòng, không gỡ bảo vệ; hãy liên hệ "
                            f"{form.issuer or 'cơ quan tổng hợp'} để được cấp biểu mẫu có thêm dòng."),
    ]
    return out


def _part_donts(form, unit, layout, filename):
    return [
        GuideLine("heading", "5. Không được làm"),
        GuideLine("bullet", "Không đổi tên, xóa, thêm hay di chuyển các trang."),
        GuideLine("bullet", "Không gỡ bảo vệ trang (Unprotect Sheet), không chèn hay xóa dòng, cột, "
                            "không sửa các ô công thức."),
        GuideLine("bullet", f"Không dùng tệp của đơn vị khác và không gửi tệp này cho đơn vị khác "
                            f"dùng: tệp gắn với mã đơn vị {unit.ma_don_vi}; tệp sai đơn vị sẽ bị "
                            f"từ chối khi tổng hợp."),
        GuideLine("bullet", "Không lưu thành .xls, .ods, .csv hay PDF; luôn lưu dạng Excel (.xlsx)."),
    ]


def _part_send(form, unit, layout, filename):
    issuer = form.issuer or "cơ quan tổng hợp"
    return [
        GuideLine("heading", "6. Trước khi gửi"),
        GuideLine("bullet", f"Mở trang «{CHECK_SHEET_HINT}»: mọi mục phải màu xanh «{OK_TEXT}». "
                            f"Mục màu đỏ: sửa các ô được tô màu; mục màu vàng: xem lại số liệu."),
        GuideLine("bullet", "Nếu dùng LibreOffice hoặc WPS mà ô kiểm tra chưa đổi, bấm Ctrl+Shift+F9 "
                            "để tính lại."),
        GuideLine("bullet", f"Lưu tệp (Ctrl+S), giữ nguyên tên tệp «{filename}», rồi gửi tệp .xlsx "
                            f"này về {issuer}."),
        GuideLine("bullet", "Các trang đã đặt sẵn khổ A4 để in ký, đóng dấu nếu cần (Tệp → In)."),
    ]
