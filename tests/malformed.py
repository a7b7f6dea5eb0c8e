"""A corpus with 50 malformed rows of different kinds + 10 good rows (shared by tests)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

GOOD_TEXTS = [
    "The Eiffel Tower is a wrought-iron lattice tower in Paris, built for the 1889 World's Fair.",
    "Photosynthesis converts light energy into chemical energy stored in glucose in plants.",
    "The Nile is a major north-flowing river in northeastern Africa, about 6,650 km long.",
    "Johann Sebastian Bach was a German composer of the Baroque period, known for his fugues.",
    "La Tour Eiffel est une tour de fer puddlé construite à Paris pour l'Exposition de 1889.",
    "Le Rhône est un fleuve d'Europe qui prend sa source en Suisse et se jette en Méditerranée.",
    "Python is a high-level programming language created by Guido van Rossum in 1991.",
    "Le camembert est un fromage français à pâte molle et à croûte fleurie, originaire de Normandie.",
    "Mount Everest is Earth's highest mountain above sea level, in the Himalayas.",
    "La photosynthèse permet aux plantes de transformer la lumière en énergie chimique.",
]


def write_malformed_corpus(path: Path) -> Counter:
    """Write the file; return the expected count per reject reason."""
    lines: list[bytes] = []
    expected: Counter = Counter()

    def add(obj, reason=None, raw: bytes | None = None):
        lines.append(raw if raw is not None else json.dumps(obj, ensure_ascii=False).encode("utf-8"))
        if reason:
            expected[reason] += 1

    for i, text in enumerate(GOOD_TEXTS):
        lang = "fr" if any(w in text for w in ("La ", "Le ", "est ")) else "en"
        add({"id": f"good-{i}", "text": text, "title": f"Good {i}", "lang": lang})
    for i in range(10):
        add(None, "bad_json", raw=[b'{"id": "x", "text": ', b"not json", b"[1, 2, 3]", b'"just a string"',
                                   b'{"id": 1,}', b"{'id': 2}", b'{"id": "a" "text": "b"}', b"nul\x00l",
                                   b'{"unterminated": "', b"}{"][i])
    for i in range(5):
        add(None, "non_utf8", raw=b'{"id": "nu%d", "text": "caf\xe9 \xff\xfe latin-1 bytes here ok"}' % i)
    for i in range(5):
        add({"id": f"mt{i}", "title": "no text"}, "missing_text")
    add({"id": "mt-null", "text": None}, None)
    expected["missing_text"] += 1
    for i in range(4):
        add({"id": f"et{i}", "text": ["", "   ", "\n\t", "  \n "][i]}, "empty_text")
    for bad in (123, 4.5, ["a list"], {"a": "dict"}, True):
        add({"id": f"wt-{type(bad).__name__}", "text": bad}, "wrong_type")
    add({"id": 3.14, "text": "A passage with a float id is not usable as an identifier here."}, "wrong_type")
    for i in range(5):
        add({"id": f"tl{i}", "text": "long " * 5000}, "too_long")
    for i in range(5):
        add({"id": f"ts{i}", "text": "tiny"}, "too_short")
    for i in range(4):
        add({"text": "A passage without any identifier field at all, which is required here."}, "missing_id")
    for i in range(5):
        add({"id": f"good-{i}", "text": "Duplicate id of a good row, with enough text to be valid."}, "duplicate_id")
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert sum(expected.values()) == 50, expected
    return expected
