"""Read a chat model's answer to "write a search query" down to the query itself.

Small instruct models rarely answer with the bare query: they open with a preamble line ("La
requête de recherche pour ce passage est :"), prefix a label ("Query:", "Requête :",
"Suchanfrage:"), wrap the query in quotes, markdown bold or a bullet, or add an explanation
after it. `chat_answer(raw)` returns the first line that is left once those are removed, and
whether it is the last line of the answer (a truncated last line is a cut-off query).
"""

from __future__ import annotations

import re

from synthir.generators.common import QUOTES

# Words that name the answer in a label or a preamble, in the languages the examples ship in.
_KEYS = (r"search\s+query|query|search|question|answer|"
         r"requête(?:\s+de\s+recherche)?|recherche|question|réponse|"
         r"suchanfrage|anfrage|suche|frage|antwort|"
         r"consulta(?:\s+de\s+búsqueda)?|búsqueda|pregunta|respuesta")
_LABEL = re.compile(rf"^(?:(?:the|a|la|le|une|die|eine|der|el|una)\s+)?(?:{_KEYS})\s*(?:\([^)]*\))?\s*[:：]\s*",
                    re.IGNORECASE)
_PREAMBLE = re.compile(rf"(?:{_KEYS}|here|voici|hier|aquí|aqui)", re.IGNORECASE)
_MARKUP = re.compile(r"^(?:#{1,6}\s+|>\s*|[-*•·]\s+|\d{1,2}[.)]\s+)+")


def strip_answer(line: str) -> str:
    """One answer line without markup (heading, quote, bullet, bold, code), label and quotes."""
    line = _MARKUP.sub("", line.strip())
    line = line.replace("**", "").replace("__", "").replace("`", "").strip()
    line = _LABEL.sub("", line).strip()
    return line.strip(QUOTES + " ").strip()


def chat_answer(raw: str) -> tuple[str, bool]:
    """(query, is_last_line): the first non-empty line of `raw` after dropping preamble lines
    (a line that ends with a colon and names the answer) and stripping markup, labels and
    quotes; ("", True) when nothing is left."""
    lines = [ln for ln in raw.splitlines() if ln.strip()]
    for i, line in enumerate(lines):
        bare = line.strip().replace("**", "").strip()
        last = i == len(lines) - 1
        if bare.endswith((":", "：")) and not last and _PREAMBLE.search(bare):
            continue  # "Here is a search query for this passage:" then the query
        text = strip_answer(line)
        if text:
            return text, last
    return "", True
