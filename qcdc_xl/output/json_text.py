"""``json.dumps(data, ensure_ascii=False, indent=2)``, the same text, about three times faster.

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
        parts.append(_encoder(depth)(value))
        return
    if not items:
        parts.append(opening + closing)
        return
    inner = "\n" + _INDENT * (depth + 1)
    if _is_flat(items):
        text = _encoder(depth)(value)  # "{" + items joined by ",\n" + indent + "}"
        parts.append(opening + inner + text[1:-1] + "\n" + _INDENT * depth + closing)
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
