"""The hidden identity of a template: what it is, whose it is, and a tag binding the two.

Stored twice: on a very-hidden sheet (Excel keeps it; LibreOffice may turn it into a
hidden one) and as custom document properties (kept by a LibreOffice re-save). The tag is
an integrity check, not security: it detects a unit sending a copy of another unit's
template or an edited identity, nothing more.
"""
from __future__ import annotations

import hashlib
import hmac

META_SHEET = "_qcdc_meta"
LISTS_SHEET = "_qcdc_lists"
# The first sheet of a feedback copy; a unit may fix and re-send that copy, so the reader
# knows this sheet is ours, not data typed outside the form.
FEEDBACK_SHEET = "Cần sửa"
# Custom document property names (ASCII, stable).
PROP_PREFIX = "qcdc_"
KEYS = ("form_id", "form_version", "ma_don_vi", "loai_hinh", "generated_at", "integrity_tag")
_TAG_KEY = b"qcdc-xl integrity v1"


def integrity_tag(form_id: str, form_version: str, ma_don_vi: str) -> str:
    """A short tag binding the unit code to the form id and version."""
    message = f"{form_id}|{form_version}|{ma_don_vi}".encode("utf-8")
    return hmac.new(_TAG_KEY, message, hashlib.sha256).hexdigest()[:20]


def tag_matches(meta: dict) -> bool:
    """True when the tag in ``meta`` is the one its form id, version and unit code give."""
    needed = ("form_id", "form_version", "ma_don_vi", "integrity_tag")
    if any(not meta.get(k) for k in needed):
        return False
    expected = integrity_tag(str(meta["form_id"]), str(meta["form_version"]), str(meta["ma_don_vi"]))
    return hmac.compare_digest(expected, str(meta["integrity_tag"]))


def build_meta(form_id: str, form_version: str, ma_don_vi: str, loai_hinh: str,
               generated_at: str) -> dict:
    return {
        "form_id": form_id, "form_version": form_version, "ma_don_vi": ma_don_vi,
        "loai_hinh": loai_hinh, "generated_at": generated_at,
        "integrity_tag": integrity_tag(form_id, form_version, ma_don_vi),
    }
