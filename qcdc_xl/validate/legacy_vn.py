"""Legacy Vietnamese 8-bit encodings (TCVN3/ABC, VNI) back to Unicode.

Text typed with a .VnTime (TCVN3) or VNI-Times font and pasted into Excel arrives as the
Windows-1252 reading of those bytes: "Kh¸" for "Khá" (TCVN3), "Khaù" for "Khá" (VNI).
:func:`detect_and_convert` recognises such text and converts it; correct Unicode Vietnamese
is left alone, which is the hard part: most legacy characters (á, à, ô, ê, …) are also
ordinary Vietnamese letters, so a conversion is only accepted when the text holds a
character Unicode Vietnamese never uses *and* the result reads as Vietnamese syllables
better than the original did.
"""
from __future__ import annotations

import re
import unicodedata

# ---------------------------------------------------------------- TCVN3 (ABC)

# TCVN 5712:1993 "VN3": byte (as its Windows-1252 character) -> Unicode letter. Capitals with
# tone marks live in separate "H" fonts that reuse the lower-case bytes, so only the seven
# capitals without tone have codes of their own.
_TCVN3_PAIRS = (
    "¸á µà ¶ả ·ã ¹ạ ¨ă ¾ắ »ằ ¼ẳ ½ẵ Æặ ©â Êấ Çầ Èẩ Éẫ Ëậ ®đ "
    "Ðé Ìè Îẻ Ïẽ Ñẹ ªê Õế Òề Óể Ôễ Öệ Ýí ×ì Øỉ Üĩ Þị "
    "ãó ßò áỏ âõ äọ «ô èố åồ æổ çỗ éộ ¬ơ íớ êờ ëở ìỡ îợ "
    "óú ïù ñủ òũ ôụ \u00adư øứ õừ öử ÷ữ ùự ýý úỳ ûỷ üỹ þỵ "
    "¡Ă ¢Â §Đ £Ê ¤Ô ¥Ơ ¦Ư"
)
TCVN3: dict[str, str] = {p[0]: p[1] for p in _TCVN3_PAIRS.split(" ") if p}

# ---------------------------------------------------------------- VNI (VNI-Windows)

# VNI writes a base letter followed by a mark byte. Lower-case marks after lower-case bases,
# upper-case marks after capitals.
_TONE = {"ù": "\u0301", "ø": "\u0300", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_BREVE = {"ê": "", "é": "\u0301", "è": "\u0300", "ú": "\u0309", "ü": "\u0303", "ë": "\u0323"}
_CIRCUMFLEX = {"â": "", "á": "\u0301", "à": "\u0300", "å": "\u0309", "ã": "\u0303", "ä": "\u0323"}
# Letters that are a single byte in VNI.
_VNI_SINGLE = {"í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "ô": "ơ", "ö": "ư", "î": "ỵ",
               "ñ": "đ"}


def _compose(base: str, *marks: str) -> str:
    return unicodedata.normalize("NFC", base + "".join(marks))


def _vni_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for lower in (True, False):
        case = (lambda s: s) if lower else str.upper
        for base in "aeouy":
            for mark, tone in _TONE.items():
                table[case(base + mark)] = case(_compose(base, tone))
        for mark, tone in _BREVE.items():
            table[case("a" + mark)] = case(_compose("a", "\u0306", tone))
        for base in "aeo":
            for mark, tone in _CIRCUMFLEX.items():
                table[case(base + mark)] = case(_compose(base, "\u0302", tone))
        for horn_byte, base in (("ô", "o"), ("ö", "u")):  # ơ, ư with a tone mark
            for mark, tone in _TONE.items():
                table[case(horn_byte + mark)] = case(_compose(base, "\u031b", tone))
        for byte, letter in _VNI_SINGLE.items():
            table.setdefault(case(byte), case(letter))
    return table


VNI: dict[str, str] = _vni_table()
_VNI_RE = re.compile("|".join(sorted(map(re.escape, VNI), key=len, reverse=True)))

# ---------------------------------------------------------------- detection

# Windows-1252 punctuation that legacy text may carry alongside (quotes, dashes, …).
_CP1252_PUNCT = set("‚ƒ„…†‡ˆ‰‹‘’“”•–—˜™›")
_TONES = "\u0300\u0301\u0303\u0309\u0323"
_HAT = set("ăâêôơư")
_NUCLEI = (
    "a ă â e ê i o ô ơ u ư y "
    "ai ao au ay âu ây eo êu ia iê iu oa oă oe oi ôi ơi ua uâ uê ui uô uơ uy ưa ưi ươ ưu yê "
    "iêu yêu oai oay oao oeo uây uôi ươi ươu uya uyê uyu"
).split()
_SYLLABLE = re.compile(
    r"^(?P<onset>ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
    r"(?P<nucleus>" + "|".join(sorted(_NUCLEI, key=len, reverse=True)) + r")"
    r"(?P<coda>ch|ng|nh|[cmnpt])?$")
_WORD = re.compile(r"[^\W\d_]+")


def _split_tone(word: str) -> tuple[str, int | None, str | None]:
    """(word without tone marks, index of the toned letter, the tone mark) — index None when
    there is no tone; (…, -1, None) when there are several (never Vietnamese)."""
    bare, where, tone = [], None, None
    for i, ch in enumerate(word):
        parts = unicodedata.normalize("NFD", ch)
        marks = [m for m in parts if m in _TONES]
        if marks:
            if where is not None or len(marks) > 1:
                return word, -1, None
            where, tone = i, marks[0]
        bare.append(unicodedata.normalize("NFC", "".join(m for m in parts if m not in _TONES)))
    return "".join(bare), where, tone


def _tone_on_right_vowel(nucleus: str, at: int, has_coda: bool) -> bool:
    """Where Vietnamese spelling puts the tone mark inside a vowel group (old and new styles)."""
    if len(nucleus) == 1:
        return at == 0
    hats = [i for i, ch in enumerate(nucleus) if ch in _HAT]
    if hats:
        return at == hats[-1]
    if len(nucleus) == 3:
        return at == 1
    if has_coda:
        return at == 1
    return at == 0 or (at == 1 and nucleus in ("oa", "oe", "uy"))


def is_vietnamese_syllable(word: str) -> bool:
    """A phonotactic test: onset + a known vowel group + coda, one tone mark placed where
    Vietnamese spelling puts it, and a syllable ending in p/t/c/ch takes only sắc or nặng."""
    bare, at, tone = _split_tone(unicodedata.normalize("NFC", word.lower()))
    if at == -1:
        return False
    m = _SYLLABLE.match(bare)
    if not m:
        return False
    if at is None:
        return True
    start = m.start("nucleus")
    if not start <= at < m.end("nucleus"):
        return False
    if not _tone_on_right_vowel(m.group("nucleus"), at - start, bool(m.group("coda"))):
        return False
    return not (m.group("coda") in ("p", "t", "c", "ch") and tone not in "\u0301\u0323")


def _well_cased(word: str) -> bool:
    # "chÕ" (TCVN3 for "chế") mixes cases inside a word; real text is lower, Title or UPPER.
    return word.islower() or word.isupper() or word.istitle()


def _score(text: str) -> tuple[int, int]:
    """(valid, invalid) counts over the words of two letters or more that are not ASCII."""
    words = [w for w in _WORD.findall(text) if len(w) > 1 and not w.isascii()]
    valid = sum(1 for w in words if _well_cased(w) and is_vietnamese_syllable(w))
    return valid, len(words) - valid


def _legacy_shaped(text: str) -> bool:
    """Only Windows-1252 characters: legacy text never holds real Vietnamese letters
    such as ă, đ, ơ, ư or ạ…ỹ, which lie above U+00FF."""
    return all(ord(ch) < 0x100 or ch in _CP1252_PUNCT for ch in text)


def to_unicode_tcvn3(text: str) -> str:
    return unicodedata.normalize("NFC", "".join(TCVN3.get(ch, ch) for ch in text))


def to_unicode_vni(text: str) -> str:
    return unicodedata.normalize("NFC", _VNI_RE.sub(lambda m: VNI[m.group(0)], text))


def candidates(text: str) -> list[tuple[str, str]]:
    """(encoding name, converted text) for each legacy reading that changes the text."""
    out = []
    if not isinstance(text, str) or text.isascii() or not _legacy_shaped(text):
        return out
    for name, convert in (("TCVN3", to_unicode_tcvn3), ("VNI", to_unicode_vni)):
        converted = convert(text)
        if converted != text:
            out.append((name, converted))
    return out


def detect_and_convert(text: str) -> tuple[str, str] | None:
    """(encoding name, Unicode text) when ``text`` is clearly legacy-encoded, else None.

    Clearly: the legacy reading has more well-formed Vietnamese syllables than the text as
    it stands, and at least as many well-formed as malformed ones.
    """
    orig_valid, _ = _score(text) if isinstance(text, str) else (0, 0)
    scored = []
    for name, converted in candidates(text):
        valid, invalid = _score(converted)
        if valid > orig_valid and valid >= invalid:
            scored.append((valid - invalid, name, converted))
    scored.sort(reverse=True)
    if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
        return None  # nothing convincing, or two readings equally convincing
    return scored[0][1], scored[0][2]
