"""Fast generation: build a unit type's template once, then stamp each unit into a copy.

Two units of the same kind (unit type, khối present or not, loại DN) get workbooks that differ
only in a few texts: the shared strings holding the unit's code, name, khối, file name and
integrity tag, the page footers (which name the unit), and the document properties. So a
template is built once the normal way (:func:`generate._write`) for a placeholder unit, and
each unit's file is that template with the placeholders replaced, byte for byte what building
it afresh gives (``tests/test_fast_generate.py`` compares them; :mod:`zipcopy` writes the zip).

A name long enough to wrap changes row heights, hence page breaks; every height depends only
on text lengths, so such a unit is stamped into a template built for placeholders of its
lengths, shared by all units that need the same heights. Whenever exactness cannot be
guaranteed, :func:`stamp_unit` returns None and the caller builds the unit afresh:

- a unit text that is not NFC, empty, very long, or holds control characters;
- a unit text equal to another string of the workbook (xlsxwriter would share one entry, so
  every later string index would move);
- a placeholder found anywhere else than where this module knows how to replace it, or
  changed (a future change of the writer putting the name somewhere new, or in upper case,
  makes stamping refuse, not guess).
"""
from __future__ import annotations

import datetime as dt
import functools
import io
import os
import re
import tempfile
import unicodedata
import zipfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.xmlwriter import XMLwriter

from qcdc_xl.template import generate

from qcdc_xl.template import metadata
from qcdc_xl.template.zipcopy import ZipCopier
from qcdc_xl.template.layout import Layout
from qcdc_xl.form.spec import Form, SpecError
from qcdc_xl.intake.units import Unit

# Below this many units one process is faster than starting worker processes.
PARALLEL_MIN_UNITS = 300
MAX_WORKERS = 4
TEMPLATE_COST = 100  # building one workbook costs about as much as stamping this many
# Placeholders: ASCII letters and digits only (no escaping, no Unicode normalisation), short
# (their rows keep the one-line height most units have) and unlike anything in a form. Mixed
# case, so that a text the writer changes (upper case, say) is found and refused.
PH_MA, PH_NAME, PH_KHOI = "ZqX7Ma", "ZqX7Ten", "ZqX7Khoi"
PH_MARK = b"zqx7"  # what all default placeholders start with, in lower case
UNIT_TEXT_MAX = 500  # longer texts are built afresh (xlsxwriter and Excel limits apply there)
SST_PART = "xl/sharedStrings.xml"
PROPERTY_PARTS = ("docProps/core.xml", "docProps/custom.xml")
_SI_RE = re.compile(rb"<si>.*?</si>", re.S)
_SI_TEXT_RE = re.compile(r'<si><t(?: xml:space="preserve")?>(.*)</t></si>', re.S)
_XML = XMLwriter()


def _escape(text: str) -> str:
    """Element text exactly as xlsxwriter escapes it (core, custom properties, footers)."""
    return _XML._escape_data(text)


def _shared_string_xml(text: str) -> bytes:
    """One ``<si>`` entry exactly as xlsxwriter writes it."""
    writer = SharedStrings()
    writer._set_filehandle(io.StringIO())
    writer._write_si(text)
    return writer.fh.getvalue().encode("utf-8")


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# ---------------------------------------------------------------- which units can be stamped


def variant_key(unit: Unit) -> tuple:
    """Units with the same key differ only in their texts."""
    return unit.loai_hinh, bool(unit.khoi), unit.attributes


def _plain_text(text: str) -> bool:
    return (text == unicodedata.normalize("NFC", text) and len(text) <= UNIT_TEXT_MAX
            and text == text.strip() and not unicodedata.category(text[:1] or "a").startswith("M")
            and not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text)
            and "_x" not in text and not text.startswith("<r>"))


def stampable(unit: Unit) -> bool:
    """A unit whose texts go into a workbook unchanged by normalisation or escaping rules."""
    return bool(unit.ma_don_vi and unit.ten_don_vi) and all(
        _plain_text(t) for t in (unit.ma_don_vi, unit.ten_don_vi, unit.khoi))


# ---------------------------------------------------------------- the template


@dataclass
class Template:
    """One workbook built for a placeholder unit, cut into what stays and what is replaced."""

    placeholder: Unit
    names: list  # zip member names, in order
    parts: dict  # name -> bytes
    sst_fixed: list  # (index, bytes) of the shared strings without a placeholder
    sst_variable: list  # (index, text) of those with one
    sst_head: bytes
    sst_tail: bytes
    # the shared strings part as the bytes between the variable entries, and the set of fixed
    # entries (a unit text equal to one of them would have been shared)
    sst_runs: list = field(init=False, default_factory=list)
    sst_fixed_set: frozenset = field(init=False, default=frozenset())

    def __post_init__(self):
        fixed = dict(self.sst_fixed)
        bounds = [i for i, _ in self.sst_variable]
        starts = [0] + [i + 1 for i in bounds]
        ends = bounds + [len(fixed) + len(bounds)]
        self.sst_runs = [b"".join(fixed[i] for i in range(a, b)) for a, b in zip(starts, ends)]
        self.sst_runs[0] = self.sst_head + self.sst_runs[0]
        self.sst_runs[-1] += self.sst_tail
        self.sst_fixed_set = frozenset(fixed.values())
    heights: list  # (text, args, kwargs, height) of every row height computed from a unit text
    footer: bytes  # the escaped footer of the placeholder unit, as found in the sheets
    copier: ZipCopier | None = None  # writes the stamped parts fast (None: use zipfile)


def _substitute(text: str, pairs: dict) -> str:
    """Every placeholder replaced in one pass (a unit text holding a placeholder stays as is)."""
    if not pairs:
        return text
    return _pattern(tuple(pairs)).sub(lambda m: pairs[m.group(0)], text)


@functools.lru_cache(maxsize=64)
def _pattern(placeholders: tuple):
    # longest first: the file name placeholder holds the code placeholder
    return re.compile("|".join(re.escape(k) for k in sorted(placeholders, key=len, reverse=True)))


@contextmanager
def _recording_heights(records: list):
    """Record every row height the writer computes (text, arguments, result)."""
    real = generate._height

    def recording(text, *args, **kwargs):
        result = real(text, *args, **kwargs)
        records.append((text, args, kwargs, result))
        return result

    generate._height = recording
    try:
        yield
    finally:
        generate._height = real


def _pairs_for(form: Form, placeholder: Unit, unit: Unit) -> dict:
    """Placeholder text -> the unit's text (the file name holds the code: longest first)."""
    pairs = {generate.template_filename(placeholder): generate.template_filename(unit),
             placeholder.ma_don_vi: unit.ma_don_vi, placeholder.ten_don_vi: unit.ten_don_vi,
             metadata.integrity_tag(form.id, form.version, placeholder.ma_don_vi):
                 metadata.integrity_tag(form.id, form.version, unit.ma_don_vi)}
    if placeholder.khoi:
        pairs[placeholder.khoi] = unit.khoi
    return pairs


def build_template(form: Form, layout: Layout, placeholder: Unit,
                   generated_at: dt.datetime) -> Template | None:
    """The placeholder unit's workbook, or None when it cannot serve as a template."""
    records: list = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / generate.template_filename(placeholder)
        with _recording_heights(records):
            generate._write(form, placeholder, layout, path, generated_at, {}, {})
        raw = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        names = [i.filename for i in zf.infolist()]
        parts = {n: zf.read(n) for n in names}
    tokens = list(_pairs_for(form, placeholder, placeholder))
    if not _only_known_places(parts, tokens, placeholder):
        return None
    sst = parts.get(SST_PART, b"")
    entries = list(_SI_RE.finditer(sst))
    fixed, variable = [], []
    for i, m in enumerate(entries):
        chunk = m.group(0)
        text = chunk.decode("utf-8")
        if any(t in text for t in tokens):
            inner = _SI_TEXT_RE.fullmatch(text)
            if inner is None or _shared_string_xml(_unescape(inner.group(1))) != chunk:
                return None  # an entry we could not rewrite exactly
            variable.append((i, _unescape(inner.group(1))))
        else:
            fixed.append((i, chunk))
    if not variable:
        return None  # the unit's texts are not where they are expected
    heights = [r for r in records if any(t in r[0] for t in tokens)]
    if any(PH_MARK in _substitute(r[0], dict.fromkeys(tokens, "")).lower().encode("utf-8")
           for r in records):
        return None  # a row height computed from a changed unit text
    footer = _escape(generate._footer(placeholder)).encode("utf-8")
    template = Template(placeholder, names, parts, fixed, variable, sst[:entries[0].start()],
                        sst[entries[-1].end():], heights, footer)
    template.copier = _copier(raw, parts, tokens, footer, entries[variable[0][0]].start())
    return template


def _copier(raw: bytes, parts: dict, tokens: list, footer: bytes, sst_start: int):
    """A fast writer of the template's stamped copies, if it gives zipfile's bytes here."""
    starts = {SST_PART: sst_start}
    for name, data in parts.items():
        if name.startswith("xl/worksheets/sheet") and footer in data:
            starts[name] = data.index(footer)
        elif name in PROPERTY_PARTS:
            found = [data.find(t.encode("utf-8")) for t in tokens]
            starts[name] = min((i for i in found if i >= 0), default=0)
    try:
        copier = ZipCopier(raw, starts)
    except ValueError:
        return None
    return copier if copier.reproduces(raw) else None


def _only_known_places(parts: dict, tokens: list, placeholder: Unit) -> bool:
    """Placeholders only in the shared strings, the footers and the document properties, and
    nowhere a unit text the writer changed (upper case, cut short…): only exact copies of the
    placeholders are replaced."""
    footer = _escape(generate._footer(placeholder)).encode("utf-8")
    btokens = [t.encode("utf-8") for t in tokens]
    for name, data in parts.items():
        rest = data.replace(footer, b"") if name.startswith("xl/worksheets/sheet") else data
        if name != SST_PART and name not in PROPERTY_PARTS and any(t in rest for t in btokens):
            return False
        for t in btokens:
            rest = rest.replace(t, b"")
        if PH_MARK in rest.lower():
            return False
    return True


# ---------------------------------------------------------------- stamping one unit


def row_heights(template: Template, pairs: dict) -> tuple:
    """The unit-dependent row heights, computed as the writer would for the unit's texts."""
    return tuple(generate._height(_substitute(text, pairs), *args, **kwargs)
                 for text, args, kwargs, _ in template.heights)


def heights_match(template: Template, pairs: dict) -> bool:
    """Every unit-dependent row height comes out as in the template."""
    return row_heights(template, pairs) == tuple(r[-1] for r in template.heights)


def stamp_unit(form: Form, template: Template, unit: Unit) -> dict | None:
    """The unit's parts (name -> bytes), or None when only building afresh is exact."""
    pairs = _pairs_for(form, template.placeholder, unit)
    if not heights_match(template, pairs):
        return None
    sst = _stamp_shared_strings(template, pairs)
    if sst is None:
        return None
    parts = dict(template.parts)
    parts[SST_PART] = sst
    footer = _escape(generate._footer(unit)).encode("utf-8")
    for name, data in template.parts.items():
        if name.startswith("xl/worksheets/sheet") and template.footer in data:
            parts[name] = data.replace(template.footer, footer)
    escaped = {k: _escape(v) for k, v in pairs.items()}
    for name in PROPERTY_PARTS:
        if name in parts:
            parts[name] = _substitute(parts[name].decode("utf-8"), escaped).encode("utf-8")
    return parts


def _stamp_shared_strings(template: Template, pairs: dict) -> bytes | None:
    out, seen = [template.sst_runs[0]], set()
    for (_, text), run in zip(template.sst_variable, template.sst_runs[1:]):
        chunk = _shared_string_xml(_substitute(text, pairs))
        if chunk in template.sst_fixed_set or chunk in seen:
            return None  # xlsxwriter would have shared this entry
        seen.add(chunk)
        out += (chunk, run)
    return b"".join(out)


# ---------------------------------------------------------------- placeholders


def default_placeholder(unit: Unit) -> Unit:
    return Unit(PH_MA, PH_NAME, unit.loai_hinh, PH_KHOI if unit.khoi else "", unit.attributes)


def sized_placeholder(unit: Unit) -> Unit | None:
    """A placeholder with the unit's text lengths (and file-name length), so every row height
    matches; None when the unit's texts are too short to hold a placeholder."""
    slug = generate.slugify(unit.ten_don_vi)
    n_ma, n_name, n_khoi = len(unit.ma_don_vi), len(unit.ten_don_vi), len(unit.khoi)
    if n_ma < 3 or len(slug) < len(PH_NAME) or (unit.khoi and n_khoi < 3):
        return None
    ma = "Q" + "9" * (n_ma - 1)  # codes are short: "Q99" is still in no text of a form
    # letters make the slug (same length as the unit's), dots pad the name to its length
    name = PH_NAME + "X" * (len(slug) - len(PH_NAME)) + "." * (n_name - len(slug))
    khoi = "Q8" + "8" * (n_khoi - 2) if unit.khoi else ""
    placeholder = Unit(ma, name, unit.loai_hinh, khoi, unit.attributes)
    if len(generate.template_filename(placeholder)) != len(generate.template_filename(unit)):
        return None
    return placeholder


# ---------------------------------------------------------------- writing the files


def write_zip(path: Path, names: list, parts: dict) -> None:
    """The parts zipped exactly as xlsxwriter zips them (same order, time, compression)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for name in names:
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, parts[name])


class Stamper:
    """Writes units' workbooks in one process, building each template when first needed
    (or using those given: a worker gets the default ones from the main process)."""

    def __init__(self, form: Form, generated_at: dt.datetime, templates: dict | None = None):
        self.form, self.generated_at = form, generated_at
        self.layouts: dict = {}
        # variant key -> its default Template; (variant key, row heights) -> a sized one
        self.templates: dict = dict(templates or {})
        self.stamped = self.built = 0

    def layout(self, loai_hinh: str) -> Layout:
        if loai_hinh not in self.layouts:
            self.layouts[loai_hinh] = generate.plan_layout(self.form, loai_hinh)
        return self.layouts[loai_hinh]

    def template(self, placeholder: Unit) -> Template | None:
        return build_template(self.form, self.layout(placeholder.loai_hinh), placeholder,
                              self.generated_at)

    def parts(self, unit: Unit) -> tuple | None:
        """(template, parts) of the unit's workbook by stamping, or None."""
        if not stampable(unit):
            return None
        key = self.template_key(unit)
        if key is None:
            return None
        if key not in self.templates:
            self.templates[key] = self._sized_template(unit, self.templates[key[0]])
        template = self.templates[key]
        parts = stamp_unit(self.form, template, unit) if template is not None else None
        return (template, parts) if parts is not None else None

    def template_key(self, unit: Unit):
        """Which template serves a stampable unit: its kind's default one, or (kind, the row
        heights it needs) when its texts are long enough to change them; None: none can."""
        default = self.default_template(unit)
        if default is None:
            return None
        key = variant_key(unit)
        wanted = row_heights(default, _pairs_for(self.form, default.placeholder, unit))
        return key if wanted == tuple(r[-1] for r in default.heights) else (key, wanted)

    def default_template(self, unit: Unit) -> Template | None:
        key = variant_key(unit)
        if key not in self.templates:
            self.templates[key] = self.template(default_placeholder(unit))
        return self.templates[key]

    def _sized_template(self, unit: Unit, default: Template) -> Template | None:
        sized = sized_placeholder(unit)
        template = self.template(sized) if sized is not None else None
        # The same strings must hold the unit's texts as in the default template (a short
        # placeholder found by chance in a text of the form would be replaced there too).
        if template is None or [i for i, _ in template.sst_variable] != \
                [i for i, _ in default.sst_variable]:
            return None
        return template

    def write(self, unit: Unit, path: Path) -> None:
        stamped = self.parts(unit)
        if stamped is None:  # building afresh is the reference: always exact
            generate._write(self.form, unit, self.layout(unit.loai_hinh), path,
                            self.generated_at, {}, {})
            self.built += 1
        else:
            template, parts = stamped
            if template.copier is not None:
                path.write_bytes(template.copier.write(parts))
            else:
                write_zip(path, template.names, parts)
            self.stamped += 1


def write_units(form: Form, units: list, paths: list, generated_at: dt.datetime,
                templates: dict | None = None) -> tuple:
    """Each unit's workbook at its path; (stamped, built afresh) counts."""
    stamper = Stamper(form, generated_at, templates)
    for unit, path in zip(units, paths):
        stamper.write(unit, Path(path))
    return stamper.stamped, stamper.built


def write_all(form: Form, units: list, paths: list, generated_at: dt.datetime) -> tuple:
    """Every unit's workbook, on all cores when there are enough units to pay for it."""
    workers = min(os.cpu_count() or 1, MAX_WORKERS, len(units) * 2 // PARALLEL_MIN_UNITS)
    if workers < 2:
        return write_units(form, units, paths, generated_at)
    try:
        results = _in_pool(form, units, paths, generated_at, workers)
    except BrokenProcessPool:  # a worker died (out of memory, say): all again in this process
        return write_units(form, units, paths, generated_at)
    for _, spec_error in results:
        if spec_error is not None:
            raise SpecError(*spec_error)
    return sum(r[0][0] for r in results), sum(r[0][1] for r in results)


def _in_pool(form: Form, units: list, paths: list, generated_at: dt.datetime, workers: int) -> list:
    ctx = get_context("spawn")  # the same start method everywhere, as on Windows
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        # Start the workers (a fresh interpreter each) while this process builds the templates
        # once for all of them; a spec error is raised here, before any worker gets a unit.
        started = [pool.submit(_started) for _ in range(workers)]
        stamper = Stamper(form, generated_at)
        shares = _shares(stamper, units, paths, workers)
        futures = [pool.submit(_pool_job, form, [u for u, _ in share], [p for _, p in share],
                               generated_at, stamper.templates) for share in shares]
        return [f.result() for f in started + futures][workers:]


def _shares(stamper: Stamper, units: list, paths: list, workers: int) -> list:
    """(unit, path) lists of about equal work. The default templates are built here, once;
    units needing a template of their own row heights go together (it is built only once),
    as do units that only building afresh serves (each costs about TEMPLATE_COST)."""
    groups: dict = {}
    for unit, path in zip(units, paths):
        key = stamper.template_key(unit) if stampable(unit) else None
        groups.setdefault(key if key is not None else ("afresh", len(groups)), []).append((unit, path))
    shares, loads = [[] for _ in range(workers)], [0] * workers
    spread = []
    for key, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        if key in stamper.templates:  # built already: its units can go anywhere
            spread += members
            continue
        i = loads.index(min(loads))
        shares[i] += members
        loads[i] += TEMPLATE_COST + len(members)
    for member in spread:
        i = loads.index(min(loads))
        shares[i].append(member)
        loads[i] += 1
    return [s for s in shares if s]


def _started() -> bool:
    return True


def _pool_job(form: Form, units: list, paths: list, generated_at: dt.datetime,
              templates: dict) -> tuple:
    try:
        return write_units(form, units, paths, generated_at, templates), None
    except SpecError as exc:  # its three-argument constructor does not survive pickling
        return (0, 0), (str(exc.path), exc.line, exc.detail)
