"""The units list: CSV (BOM or not, ',' or ';') and .xlsx, Vietnamese headers, bad rows by number."""
import pytest

from qcdc_xl.intake.units import UnitsError, load_units


def write(tmp_path, text, name="dv.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_vietnamese_headers_semicolons_and_bom(tmp_path):
    p = write(tmp_path, "\ufeffMã đơn vị;Tên đơn vị;Loại hình;Khối;Loại DN\n"
                        "SNV;Đảng bộ Sở Ngoại vụ;hcsn;;\n"
                        "DN01;Công ty Điện lực;Doanh nghiệp;Khối DN;DN 100% vốn Nhà nước\n")
    units = load_units(p)
    assert [(u.ma_don_vi, u.loai_hinh, u.khoi, u.attr("loai_dn")) for u in units] == [
        ("SNV", "HCSN", "", ""), ("DN01", "DN", "Khối DN", "DN 100% vốn Nhà nước")]
    assert units[0].ten_don_vi == "Đảng bộ Sở Ngoại vụ"


def test_names_are_nfc(tmp_path):
    import unicodedata
    p = write(tmp_path, "ma_don_vi,ten_don_vi,loai_hinh\nA1," + unicodedata.normalize("NFD", "Sở Tư pháp") + ",HCSN\n")
    assert load_units(p)[0].ten_don_vi == unicodedata.normalize("NFC", "Sở Tư pháp")


@pytest.mark.parametrize("body,words", [
    ("A,Một,HCSN\nA,Hai,DN\n", ["dòng 3", "bị trùng", "dòng 2"]),
    ("A,Một,XYZ\n", ["dòng 2", "loại hình", "XYZ"]),
    ("A,,HCSN\n", ["dòng 2", "thiếu tên"]),
    ("A B,Một,HCSN\n", ["dòng 2", "mã đơn vị"]),
])
def test_bad_rows_are_named(tmp_path, body, words):
    p = write(tmp_path, "ma_don_vi,ten_don_vi,loai_hinh\n" + body)
    with pytest.raises(UnitsError) as err:
        load_units(p)
    for w in words:
        assert w in str(err.value)


def test_missing_column_and_wrong_encoding_and_format(tmp_path):
    with pytest.raises(UnitsError, match="thiếu cột loai_hinh"):
        load_units(write(tmp_path, "ma_don_vi,ten_don_vi\nA,Một\n"))
    with pytest.raises(UnitsError, match="UTF-8"):
        load_units(write(tmp_path, "ma_don_vi,ten_don_vi,loai_hinh\nA,Sé,HCSN\n", encoding="latin-1"))
    with pytest.raises(UnitsError, match=".csv hoặc .xlsx"):
        load_units(write(tmp_path, "x", name="dv.txt"))
    with pytest.raises(UnitsError, match="Không tìm thấy"):
        load_units(tmp_path / "none.csv")


def test_xlsx_list(tmp_path):
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Mã đơn vị", "Tên đơn vị", "Loại hình"])
    ws.append([101, "Đảng bộ Sở Tài chính", "HCSN"])
    wb.save(tmp_path / "dv.xlsx")
    units = load_units(tmp_path / "dv.xlsx")
    assert units[0].ma_don_vi == "101" and units[0].ten_don_vi == "Đảng bộ Sở Tài chính"


def test_bundled_sample_list_loads():
    units = load_units()
    assert len(units) >= 20
    assert {u.loai_hinh for u in units} == {"HCSN", "DN"}


def test_every_bad_row_is_named_at_once(tmp_path):
    body = "A,Một,HCSN\nB,,HCSN\nC,Ba,XYZ\nA,Bốn,DN\nD,Năm,DN\n"
    p = write(tmp_path, "ma_don_vi,ten_don_vi,loai_hinh\n" + body)
    with pytest.raises(UnitsError) as err:
        load_units(p)
    message = str(err.value)
    assert message.splitlines()[0] == "Danh sách đơn vị «dv.csv» có 3 dòng cần sửa:"
    assert [e.split(":")[0].split(", ")[-1] for e in err.value.errors] == ["dòng 3", "dòng 4", "dòng 5"]
    assert "thiếu tên" in message and "XYZ" in message and "bị trùng với dòng 2" in message
    assert "dòng 6" not in message  # D is a good row


def test_a_long_list_of_bad_rows_says_how_many_more(tmp_path):
    from qcdc_xl.intake.units import UNITS_ERRORS_SHOWN
    body = "".join(f"U{i},Đơn vị {i},XYZ\n" for i in range(UNITS_ERRORS_SHOWN + 5))
    p = write(tmp_path, "ma_don_vi,ten_don_vi,loai_hinh\n" + body)
    with pytest.raises(UnitsError) as err:
        load_units(p)
    lines = str(err.value).splitlines()
    assert len(err.value.errors) == UNITS_ERRORS_SHOWN + 5
    assert len(lines) == 1 + UNITS_ERRORS_SHOWN + 1 and lines[-1].startswith("- … và 5 dòng khác")
