"""The reading policy of nq02-form.md, both ways: what is accepted (and how it is reported)
and what is refused."""
import datetime as dt
import unicodedata

import pytest

from qcdc_xl.validate.coerce import coerce_value
from qcdc_xl.validate.legacy_vn import detect_and_convert, is_vietnamese_syllable

D = dt.date(2018, 5, 12)
TU_DANH_GIA = ("Tốt", "Khá", "Trung bình", "Yếu")
CAP = ("Trung ương", "Tỉnh", "Khối, huyện", "Cơ sở", "Chưa được công nhận")


def nfd(text):
    return unicodedata.normalize("NFD", text)


ACCEPTED = [
    # type, options, typed, read as, reported as
    ("int", (), 12, 12, None),
    ("int", (), 12.0, 12, None),
    ("int", (), 0, 0, None),
    ("int", (), "12", 12, "coerced_text_number"),
    ("int", (), " 12 ", 12, "coerced_text_number"),
    ("int", (), "1.234", 1234, "coerced_text_number"),
    ("int", (), "1 234", 1234, "coerced_text_number"),
    ("int", (), "1\u00a0234", 1234, "coerced_text_number"),
    ("int", (), "1.234.567", 1234567, "coerced_text_number"),
    ("money", (), 1500000, 1500000, None),
    ("money", (), 12.5, 12.5, None),
    ("money", (), "12,5", 12.5, "coerced_text_number"),
    ("money", (), "1.234,5", 1234.5, "coerced_text_number"),
    ("money", (), "1 500 000", 1500000, "coerced_text_number"),
    ("date", (), dt.datetime(2018, 5, 12), D, None),
    ("date", (), D, D, None),
    ("date", (), 43232, D, None),  # Excel serial number in a date cell
    ("date", (), "12/5/2018", D, "coerced_text_date"),
    ("date", (), "12/05/2018", D, "coerced_text_date"),
    ("date", (), "12-5-2018", D, "coerced_text_date"),
    ("date", (), "2018-05-12", D, "coerced_text_date"),
    ("date", (), " 12/05/2018 ", D, "coerced_text_date"),
    ("yesno", (), "Có", "Có", None),
    ("yesno", (), "có", "Có", None),
    ("yesno", (), " KHÔNG ", "Không", None),
    ("yesno", (), nfd("Không"), "Không", None),
    ("yesno", (), "x", "Có", "coerced_text_choice"),
    ("yesno", (), "X", "Có", "coerced_text_choice"),
    ("yesno", (), "c", "Có", "coerced_text_choice"),
    ("yesno", (), "yes", "Có", "coerced_text_choice"),
    ("yesno", (), "ko", "Không", "coerced_text_choice"),
    ("yesno", (), "k", "Không", "coerced_text_choice"),
    ("yesno", (), "no", "Không", "coerced_text_choice"),
    ("yesno", (), True, "Có", "coerced_text_choice"),
    ("yesno", (), "Cã", "Có", "legacy_encoding"),  # TCVN3
    ("yesno", (), "Coù", "Có", "legacy_encoding"),  # VNI
    ("list", TU_DANH_GIA, " Khá ", "Khá", None),
    ("list", TU_DANH_GIA, "trung  bình", "Trung bình", None),
    ("list", TU_DANH_GIA, nfd("Tốt"), "Tốt", None),
    ("list", TU_DANH_GIA, "Kh¸", "Khá", "legacy_encoding"),
    ("list", TU_DANH_GIA, "Tèt", "Tốt", "legacy_encoding"),
    ("list", TU_DANH_GIA, "Toát", "Tốt", "legacy_encoding"),
    ("list", CAP, "khối,huyện", "Khối, huyện", None),
    ("text", (), "  Nguyễn Văn A ", "Nguyễn Văn A", None),
    ("text", (), nfd("Nguyễn Văn A"), "Nguyễn Văn A", None),
    ("text", (), 912345678, "912345678", None),
    ("text", (), "NguyÔn V¨n A", "Nguyễn Văn A", "legacy_encoding"),
    ("text", (), "Keá hoaïch", "Kế hoạch", "legacy_encoding"),
    # Mistakes people make (tests/test_real_client_mistakes.py makes them in LibreOffice).
    ("int", (), "\u200b45", 45, "coerced_text_number"),  # zero-width space pasted from Word
    ("int", (), "120\n", 120, "coerced_text_number"),
    ("int", (), "12\ufeff", 12, "coerced_text_number"),
    ("int", (), "'45", 45, "coerced_text_number"),  # Excel's keep-as-text apostrophe, kept
    ("int", (), "12,0", 12, "coerced_text_number"),
    ("int", (), "1,234,567", 1234567, "coerced_text_number"),  # two comma groups: never decimals
    ("money", (), "1.500.000 đ", 1500000, "coerced_text_number"),
    ("money", (), "1500000đ", 1500000, "coerced_text_number"),
    ("money", (), "1500000 VNĐ", 1500000, "coerced_text_number"),
    ("money", (), "1,5 triệu", 1500000, "coerced_text_number"),
    ("money", (), "1,1 triệu", 1100000, "coerced_text_number"),
    ("money", (), "2 tỷ đồng", 2000000000, "coerced_text_number"),
    ("money", (), "1,500,000", 1500000, "coerced_text_number"),
    ("date", (), "12.5.2018", D, "coerced_text_date"),
    ("date", (), "12/5/18", D, "coerced_text_date"),
    ("date", (), "12-05-18", D, "coerced_text_date"),
    ("date", (), "2018/5/12", D, "coerced_text_date"),
    ("date", (), "ngày 12/5/2018", D, "coerced_text_date"),
    ("date", (), "ngày 12 tháng 5 năm 2018", D, "coerced_text_date"),
    ("date", (), "'12/05/2018", D, "coerced_text_date"),
    ("yesno", (), "Có\u200b", "Có", None),
    ("yesno", (), "Có.", "Có", "coerced_text_choice"),
    ("yesno", (), "Co", "Có", "coerced_text_choice"),
    ("yesno", (), "Khong", "Không", "coerced_text_choice"),
    ("yesno", (), "Chưa", "Không", "coerced_text_choice"),
    ("yesno", (), "không có", "Không", "coerced_text_choice"),
    ("yesno", (), "Đã", "Có", "coerced_text_choice"),
    ("list", TU_DANH_GIA, "kha", "Khá", "coerced_text_choice"),
    ("list", TU_DANH_GIA, "Trung binh", "Trung bình", "coerced_text_choice"),
    ("list", CAP, "co so", "Cơ sở", "coerced_text_choice"),
    ("text", (), "Nguyễn\u00a0Thị Hoa\u200b\n", "Nguyễn Thị Hoa", None),
]


@pytest.mark.parametrize("ftype, options, raw, expected, code", ACCEPTED)
def test_accepted_forms(ftype, options, raw, expected, code):
    value, got = coerce_value(ftype, raw, options)
    assert (value, got) == (expected, code)
    assert type(value) is type(expected)
    if isinstance(value, str):
        assert value == unicodedata.normalize("NFC", value)


REFUSED = [
    ("int", (), 12.5, "wrong_type"),
    ("int", (), "12,5", "wrong_type"),  # decimals only where the field allows them
    ("int", (), "12.5", "wrong_type"),
    ("int", (), "mười hai", "wrong_type"),
    ("int", (), True, "wrong_type"),  # bool is not a number
    ("int", (), dt.datetime(2018, 5, 12), "wrong_type"),
    ("int", (), -3, "out_of_range"),
    ("int", (), "-3", "out_of_range"),
    ("money", (), False, "wrong_type"),
    ("money", (), "12.5", "wrong_type"),  # "." groups thousands in vi-VN: never a guess
    ("money", (), -1.5, "out_of_range"),
    ("date", (), "31/02/2018", "wrong_type"),
    ("date", (), "tháng 5/2018", "wrong_type"),
    ("date", (), "5/2018", "wrong_type"),
    ("date", (), True, "wrong_type"),
    ("yesno", (), "có thể", "out_of_range"),
    ("yesno", (), 1, "wrong_type"),
    ("list", TU_DANH_GIA, "Xuất sắc", "out_of_range"),
    ("list", TU_DANH_GIA, 3, "out_of_range"),
    ("int", (), "1,234", "wrong_type"),  # 1.234 (vi-VN) or 1234 (en-US): never a guess
    ("money", (), "12 người", "wrong_type"),
    ("money", (), "đ", "wrong_type"),
    ("money", (), "-1.500.000 đ", "out_of_range"),
    ("date", (), "5/13/2018", "wrong_type"),  # day first always: no 13th month
    ("yesno", (), "Không rõ", "out_of_range"),
    ("list", TU_DANH_GIA, "Xuat sac", "out_of_range"),
]


@pytest.mark.parametrize("raw", ["\u200b", "\ufeff ", "\u00a0"])
@pytest.mark.parametrize("ftype", ["int", "money", "yesno", "date", "text"])
def test_only_invisible_characters_is_empty(ftype, raw):
    assert coerce_value(ftype, raw) == (None, None)


@pytest.mark.parametrize("ftype, options, raw, code", REFUSED)
def test_refused_forms(ftype, options, raw, code):
    assert coerce_value(ftype, raw, options) == (None, code)


@pytest.mark.parametrize("ftype", ["int", "money", "yesno", "list", "date", "text"])
@pytest.mark.parametrize("raw", [None, "", "   "])
def test_empty_is_empty(ftype, raw):
    assert coerce_value(ftype, raw, TU_DANH_GIA) == (None, None)


# ---------------------------------------------------------------- legacy encodings

LEGACY = [
    ("Céng hßa x· héi chñ nghÜa ViÖt Nam", "TCVN3", "Cộng hòa xã hội chủ nghĩa Việt Nam"),
    ("§¶ng ñy Khèi", "TCVN3", "Đảng ủy Khối"),
    ("L·nh ®¹o c¬ quan, ®¬n vÞ", "TCVN3", "Lãnh đạo cơ quan, đơn vị"),
    ("Quy chÕ d©n chñ", "TCVN3", "Quy chế dân chủ"),
    ("Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam", "VNI", "Cộng hòa xã hội chủ nghĩa Việt Nam"),
    ("Ñoäc laäp - Töï do - Haïnh phuùc", "VNI", "Độc lập - Tự do - Hạnh phúc"),
    ("ÑAÛNG UÛY KHOÁI", "VNI", "ĐẢNG ỦY KHỐI"),
]


@pytest.mark.parametrize("typed, encoding, unicode", LEGACY)
def test_legacy_text_is_converted(typed, encoding, unicode):
    assert detect_and_convert(typed) == (encoding, unicode)


UNICODE_OK = ["Khá", "có", "Tốt", "Hoàng", "Hà Tâm", "Nguyên Hoà", "Thuý Kiều", "Cộng hòa xã hội",
              "Lãnh đạo cơ quan, đơn vị", "José Müller", "© 2020", "11-KH/ĐUK", "UBND tỉnh",
              "Hồ Chí Minh", "Trung bình", "Đoàn Thanh niên", "Nguyen Thi Be"]


@pytest.mark.parametrize("text", UNICODE_OK)
def test_correct_unicode_is_never_converted(text):
    assert detect_and_convert(text) is None
    assert coerce_value("text", text) == (text, None)


def test_no_false_positive_on_real_vietnamese_words():
    words = ("người khuỷu hoà hòa thuỷ thủy quý giường nghiêng toán khuya thuế hoài khỏe khoẻ cáu "
             "màu gì Việt Nam dân chủ cơ sở quy chế nghị quyết").split()
    assert all(is_vietnamese_syllable(w) for w in words)
    assert all(detect_and_convert(w) is None for w in words)
