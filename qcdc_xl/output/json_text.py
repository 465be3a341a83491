"""``json.dumps(data, ensure_ascii=False, indent=2)``, the same text, in about half the time.

With ``indent``, Python's json module leaves its C encoder for a pure-Python one; the report
of a thousand units (11 MB) then takes most of a second. Almost all of it sits in flat
containers (a unit's values, an issue, a table row): each of those is encoded by the C encoder
with separators that carry the newline and indentation of its depth, and only the few
containers that hold containers are walked here."""
from __future__ import annotations

import json

_INDENT = "  "
_SCALARS = frozenset({str, int, float, bool, type(None)})
_ENCODERS: dict = {}  # depth -> C encoding whose item separator indents for that depth


def indented_json(data) -> str:
    """The text of ``json.dumps(data, ensure_ascii=False, indent=2)``."""
    parts: list = []
    _encode(data, 0, parts)
    return "".join(parts)


def _encoder(depth: int):
    """``encode(value) -> str`` for a flat container at ``depth``: its items separated by a
    comma, a newline and the indentation of its items."""
    if depth not in _ENCODERS:
        _ENCODERS[depth] = _c_encoder(",\n" + _INDENT * (depth + 1))
    return _ENCODERS[depth]


def _c_encoder(item_separator: str):
    # JSONEncoder.encode builds a new C encoder at each call; build it once when the C
    # module is there and encodes as the public API does, else use the public API.
    public = json.JSONEncoder(ensure_ascii=False, separators=(item_separator, ": ")).encode
    make = getattr(json.encoder, "c_make_encoder", None)
    try:
        encoder = make(None, public.__self__.default, json.encoder.encode_basestring, None,
                       ": ", item_separator, False, False, True)
        probe = {"a": [1.5, None, True, "x\n\"", float("nan")], "b": {"c": -0.0}}
        if "".join(encoder(probe, 0)) == public(probe):
            return lambda value: "".join(encoder(value, 0))
    except Exception:  # no C encoder, or another signature: the public API
        pass
    return public


def _scalar(value, depth: int) -> str:
    """A scalar as the encoder writes it: texts, whole numbers and null directly."""
    kind = type(value)
    if kind is str:
        return _text(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    return _encoder(depth)(value)


_text = json.encoder.encode_basestring  # the encoder's own, for ensure_ascii=False


def _is_flat(items) -> bool:
    """Whether no item is a container (then the C encoder writes the whole container)."""
    if set(map(type, items)) <= _SCALARS:
        return True
    return not any(isinstance(v, (dict, list, tuple)) for v in items)


def _encode(value, depth: int, parts: list) -> None:
    if isinstance(value, dict):
        items, opening, closing = value.values(), "{", "}"
    elif isinstance(value, (list, tuple)):
        items, opening, closing = value, "[", "]"
    else:
        parts.append(_scalar(value, depth))
        return
    if not items:
        parts.append(opening + closing)
        return
    inner = "\n" + _INDENT * (depth + 1)
    if _is_flat(items):
        text = _encoder(depth)(value)  # "{" + items joined by ",\n" + indent + "}"
        parts.append(opening + inner + text[1:-1] + "\n" + _INDENT * depth + closing)
        return
    if opening == "[" and all(type(item) is dict and item and _is_flat(item.values())
                              for item in value):
        parts.append(_flat_dicts(value, depth))  # a table's rows: one C call for them all
        return
    parts.append(opening)
    separator = inner
    if opening == "{":
        encode = _encoder(depth)
        for key, item in value.items():
            parts.append(separator + encode({key: 0})[1:-4] + ": ")  # the key as JSON writes it
            _encode(item, depth + 1, parts)
            separator = "," + inner
    else:
        for item in value:
            parts.append(separator)
            _encode(item, depth + 1, parts)
            separator = "," + inner
    parts.append("\n" + _INDENT * depth + closing)


def _flat_dicts(rows: list, depth: int) -> str:
    """A list (at ``depth``) of non-empty dicts of scalars. The C encoder writes it with the
    items' separator of the dicts' items; only the seams between dicts then differ, and
    "}" + separator + "{" can be nothing else (a key follows a separator, and no encoded
    text holds a raw newline)."""
    outer, inner = "\n" + _INDENT * (depth + 1), "\n" + _INDENT * (depth + 2)
    text = _encoder(depth + 1)(rows)  # "[{" + … + "}]"
    body = text[2:-2].replace("}," + inner + "{", outer + "}," + outer + "{" + inner)
    return "[" + outer + "{" + inner + body + outer + "}" + "\n" + _INDENT * depth + "]"
