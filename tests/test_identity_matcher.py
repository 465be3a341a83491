"""pristine.IdentityMatcher answers as the regex below (the reader's earlier way of matching a
text that names the unit) does with fullmatch: the comparison uses the matcher, as a compiled
pattern would serve one return only."""
import random
import re

from qcdc_xl.intake import pristine as P
from qcdc_xl.intake.pristine import _SENTINEL_RE, _SENTINELS, text_key


def identity_pattern(text: str, identity: dict) -> re.Pattern:
    """The template text ``text`` (with sentinels) as a pattern for the same cell of one
    return: the unit's own code and name put in (any of the spellings the file holds), the
    file name free (a unit may rename its file; the guide keeps the name it was sent as)."""
    parts, pos = [], 0
    for m in _SENTINEL_RE.finditer(text):
        parts.append(re.escape(text[pos:m.start()]))
        kind = _SENTINELS[m.group(0)]
        options = sorted(identity.get(kind) or (), key=len, reverse=True)
        if kind == "file" or not options:
            parts.append(r"[^«»]*" if kind == "file" else r".*?")
        else:
            parts.append("(?:" + "|".join(re.escape(text_key(o)) for o in options) + ")")
        pos = m.end()
    parts.append(re.escape(text[pos:]))
    return re.compile("".join(parts), re.DOTALL)


def _value_like(rng: random.Random, text: str, identity: dict) -> str:
    """A cell text built from the template text with some identity (or not) put in."""
    code = rng.choice(sorted(identity["ma_don_vi"]) or ["x"])
    name = rng.choice(sorted(identity["ten_don_vi"]) or ["y"])
    return (text.replace(P.SENTINEL_CODE, code).replace(P.SENTINEL_NAME, name)
            .replace(P.SENTINEL_FILE, rng.choice(["tep.xlsx", "«", ""])))


def test_matcher_agrees_with_the_pattern_on_random_texts():
    rng = random.Random(8)
    pieces = ["Đơn vị: ", "a", " ", "«", "»", "\n", P.SENTINEL_CODE, P.SENTINEL_NAME, P.SENTINEL_FILE]
    loose = ["a", "b", " ", "«", "»", "\n", "Đơn vị: ", "H001", "tep.xlsx"]
    matched = 0
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        identity = {"ma_don_vi": set(rng.sample(["H001", "H0", "a", "«"], rng.randint(0, 2))),
                    "ten_don_vi": set(rng.sample(["Sở  A", "Sở A b", "a"], rng.randint(0, 2)))}
        pattern, matcher = identity_pattern(text, identity), P.IdentityMatcher(text, identity)
        for _ in range(6):
            value = (_value_like(rng, text, identity) if rng.random() < 0.5 else
                     "".join(rng.choice(loose) for _ in range(rng.randint(0, 6))))
            expected = bool(pattern.fullmatch(value))
            assert matcher.fullmatch(value) is expected, (text, identity, value)
            matched += expected
    assert matched > 1000  # the texts built from the template text do match


def test_matcher_on_a_title_naming_the_unit():
    text = f"Đơn vị: {P.SENTINEL_NAME} (mã {P.SENTINEL_CODE}) — tệp «{P.SENTINEL_FILE}»"
    m = P.IdentityMatcher(text, {"ma_don_vi": {"H001"}, "ten_don_vi": {"Sở  Nội vụ"}})
    assert m.fullmatch("Đơn vị: Sở Nội vụ (mã H001) — tệp «H001_so_noi_vu (1).xlsx»")
    assert not m.fullmatch("Đơn vị: Sở Tài chính (mã H001) — tệp «H001.xlsx»")
    assert not m.fullmatch("Đơn vị: Sở Nội vụ (mã H001) — tệp «a«b.xlsx»")


def test_a_text_a_sheet_finds_unlike_its_titles_names_no_unit():
    """PristineSheet.may_name_the_unit, which remembers the texts unlike every title of a
    column across returns, is False only where no identity's matcher matches (random titles,
    identities and texts); asked again, it answers the same."""
    rng = random.Random(9)
    pieces = ["Đơn vị: ", "a", " ", "«", "»", P.SENTINEL_CODE, P.SENTINEL_NAME, P.SENTINEL_FILE]
    loose = ["a", "b", " ", "«", "»", "Đơn vị: ", "H001", "Sở A"]
    refused = 0
    for _ in range(300):
        titles = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 5))) for _ in range(rng.randint(1, 3))]
        page = P.PristineSheet(name="x", patterns={(i + 1, 2): t for i, t in enumerate(titles)})
        for _ in range(20):
            identity = {"ma_don_vi": set(rng.sample(["H001", "a", "«"], rng.randint(0, 2))),
                        "ten_don_vi": set(rng.sample(["Sở A", "a b"], rng.randint(0, 2)))}
            title = rng.choice(titles)
            value = text_key(_value_like(rng, title, identity) if rng.random() < 0.4 else
                             "".join(rng.choice(loose) for _ in range(rng.randint(0, 5))))
            first = page.may_name_the_unit(2, value)
            assert page.may_name_the_unit(2, value) is first and page.may_name_the_unit(3, value) is False
            if not first:
                refused += 1
                assert not any(P.IdentityMatcher(t, identity).fullmatch(value) for t in titles), (titles, value)
    assert refused > 1000
