"""Copies of one zip file whose members change only after a known point, written fast.

Compressing is most of the cost of writing a template (~230 KB of XML per file), yet a
stamped unit's file differs from its template only in a few members, and in each only past
a point known in advance (a sheet's footer near its end, the shared strings after the first
unit text). So the unchanged members are copied compressed, and a changed one resumes a
saved copy of the compressor that has already seen its unchanged beginning. zlib's output
does not depend on how its input is split between calls, and the headers are those of the
template with their sizes, checksums and offsets patched, so the bytes are those ``zipfile``
would write; :meth:`ZipCopier.reproduces` checks exactly that on the template itself, and
the caller writes with ``zipfile`` when it does not hold.
"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

_LOCAL_SIG, _CENTRAL_SIG, _END_SIG = b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"
_LOCAL_LEN, _CENTRAL_LEN, _END_LEN = 30, 46, 22
# Copying a compressor's state costs about what compressing 16 KB afresh does.
RESUME_MIN = 16 * 1024


@dataclass
class _Member:
    name: str
    local: bytes  # local header, to patch (crc, sizes at 14)
    central: bytes  # central directory entry, to patch (crc, sizes at 16; offset at 42)
    data: bytes  # the template's uncompressed content
    compressed: bytes  # the template's compressed content
    start: int | None = None  # where changes may begin (None: never changes)
    prefix: bytes = b""  # data[:start]
    head: bytes = b""  # compressed output of data[:start]
    head_crc: int = 0
    compressor: object = None  # a compressor that has seen data[:start]


class ZipCopier:
    """The members of a zip ``zipfile`` wrote, ready to be written again with some changed."""

    def __init__(self, raw: bytes, starts: dict):
        """``raw``: the zip's bytes; ``starts``: member name -> offset before which its content
        never changes (members not named never change)."""
        self.raw, self.starts = raw, dict(starts)
        self.members: list = []
        self.end = raw[-_END_LEN:]
        if self.end[:4] != _END_SIG:
            raise ValueError("zip with a comment")
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            central_pos = struct.unpack_from("<L", self.end, 16)[0]
            for info in zf.infolist():
                if info.compress_type != zipfile.ZIP_DEFLATED or info.file_size >= 0xFFFFFFFF:
                    raise ValueError("member not deflated or zip64")
                lo = info.header_offset
                n, m = struct.unpack_from("<HH", raw, lo + 26)
                local = raw[lo:lo + _LOCAL_LEN + n + m]
                n, m, k = struct.unpack_from("<HHH", raw, central_pos + 28)
                central = raw[central_pos:central_pos + _CENTRAL_LEN + n + m + k]
                central_pos += len(central)
                if local[:4] != _LOCAL_SIG or central[:4] != _CENTRAL_SIG or local[6:8] != b"\0\0":
                    raise ValueError("unexpected zip layout")  # e.g. a data descriptor
                data_pos = lo + len(local)
                self.members.append(_Member(info.filename, local, central, zf.read(info),
                                            raw[data_pos:data_pos + info.compress_size]))
        for member in self.members:
            start = starts.get(member.name)
            if start is not None and start >= RESUME_MIN:
                member.start, member.prefix = start, member.data[:start]
                member.compressor = _compressor()
                member.head = member.compressor.compress(member.prefix)
                member.head_crc = zlib.crc32(member.prefix)

    def __reduce__(self):
        # compressors do not pickle: a copy sent to a worker process saves its points again
        return ZipCopier, (self.raw, self.starts)

    @property
    def names(self) -> list:
        return [m.name for m in self.members]

    def write(self, parts: dict) -> bytes:
        """The zip with each member's content from ``parts`` (name -> bytes)."""
        out, centrals, offset = [], [], 0
        for m in self.members:
            data = parts[m.name]
            if data is m.data or (m.start is None and data == m.data):
                crc, compressed = struct.unpack_from("<L", m.local, 14)[0], m.compressed
            elif m.start is not None and data.startswith(m.prefix):
                rest = data[m.start:]
                compressor = m.compressor.copy()
                compressed = m.head + compressor.compress(rest) + compressor.flush()
                crc = zlib.crc32(rest, m.head_crc)
            else:
                compressor = _compressor()
                compressed = compressor.compress(data) + compressor.flush()
                crc = zlib.crc32(data)
            local, central = bytearray(m.local), bytearray(m.central)
            struct.pack_into("<LLL", local, 14, crc, len(compressed), len(data))
            struct.pack_into("<LLL", central, 16, crc, len(compressed), len(data))
            struct.pack_into("<L", central, 42, offset)
            out += (local, compressed)
            centrals.append(central)
            offset += len(local) + len(compressed)
        end = bytearray(self.end)
        struct.pack_into("<LL", end, 12, sum(len(c) for c in centrals), offset)
        return b"".join(out + centrals + [end])

    def reproduces(self, raw: bytes) -> bool:
        """True when writing the template's own contents gives back its bytes, each changing
        member recompressed from its saved point (the check that the method holds here)."""
        return self.write({m.name: bytes(m.data) for m in self.members}) == raw


def _compressor():
    # what zipfile uses for ZIP_DEFLATED without a compression level
    return zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)

