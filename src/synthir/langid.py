"""Language identification with lingua (models ship inside the wheel; nothing is fetched):
`LanguageID` checks generated text against the requested language; `PassageLanguage` detects
the language of corpus passages that come without one (ingest).

The detector compares a fixed set of common languages plus the run's languages, so text in
a language nobody asked for is still recognised as such. A text fails the check when its
detected language is not the expected one AND the expected language's confidence is below
`min_confidence` (short keyword queries are ambiguous; only clear mismatches are rejected).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

BASE_LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl", "ru", "zh", "ja", "ko", "ar", "hi",
                  "tr", "pl", "sv", "id", "vi")
_DETECTORS: dict[frozenset[str], object] = {}
_LOCK = threading.Lock()


def _language(code: str):  # -> lingua.Language | None
    from lingua import IsoCode639_1, Language

    iso = getattr(IsoCode639_1, code.upper(), None)
    if iso is None:
        return None
    try:
        return Language.from_iso_code_639_1(iso)
    except ValueError:
        return None


def supported(code: str) -> bool:
    """Whether lingua can identify ISO 639-1 `code`."""
    return _language(code) is not None


@dataclass(frozen=True)
class LangCheck:
    """Result of one check: ok, detected code (or "" when undetermined), confidences."""

    ok: bool
    detected: str
    expected_confidence: float
    detected_confidence: float

    def detail(self, expected: str) -> str:
        """Human-readable reason, for Rejected.detail."""
        return (f"detected {self.detected or 'unknown'} ({self.detected_confidence:.2f}), "
                f"expected {expected} ({self.expected_confidence:.2f})")


class LanguageID:
    """Checks that texts are in an expected language. Inputs: the run's language codes."""

    def __init__(self, languages: Iterable[str], min_confidence: float = 0.2) -> None:
        from lingua import LanguageDetectorBuilder

        codes = frozenset(c for c in (*BASE_LANGUAGES, *languages) if supported(c))
        self.codes = codes
        self.min_confidence = min_confidence
        with _LOCK:
            if codes not in _DETECTORS:
                langs = [_language(c) for c in sorted(codes)]
                _DETECTORS[codes] = LanguageDetectorBuilder.from_languages(*langs).build()
            self._detector = _DETECTORS[codes]

    def check(self, text: str, expected: str) -> LangCheck:
        """Is `text` in language `expected`? Languages lingua lacks always pass."""
        if expected not in self.codes:
            return LangCheck(True, "", 1.0, 0.0)
        values = self._detector.compute_language_confidence_values(text)
        conf = {v.language.iso_code_639_1.name.lower(): float(v.value) for v in values}
        if not conf:
            return LangCheck(True, "", 0.0, 0.0)
        detected = max(sorted(conf), key=conf.get)  # ties (short texts): the same pick in every process
        exp = conf.get(expected, 0.0)
        ok = detected == expected or exp >= self.min_confidence
        return LangCheck(ok, detected, exp, conf[detected])


DETECT_CHARS = 400  # lingua is as sure on a passage's first 400 characters as on all of it


class PassageLanguage:
    """Language of corpus passages that come without one (ingest).

    Inputs: the candidate ISO 639-1 codes (None: every language synthir can prompt in that
    lingua knows). `detect(texts)` -> [(code, confidence)]: the most likely language and
    lingua's confidence in it (0..1, relative to the other candidates), or ("und", 0.0) when
    no candidate gets any weight (no letters, digits only, ...) or the winner is not a
    candidate. Batches run on every core.
    """

    def __init__(self, languages: Iterable[str] | None = None) -> None:
        from lingua import LanguageDetectorBuilder

        from data_schemas.languages import LANGUAGE_NAMES

        codes = frozenset(c for c in (languages or LANGUAGE_NAMES) if supported(c))
        if not codes:
            raise ValueError(f"lingua knows none of the languages {sorted(languages or [])}")
        self.codes = codes
        key = frozenset({"passages", *codes})
        with _LOCK:
            if key not in _DETECTORS:
                langs = [_language(c) for c in sorted(codes)]
                if len(langs) == 1:  # lingua needs two: a one-language detector still says "und"
                    other = "en" if codes != {"en"} else "fr"
                    langs.append(_language(other))
                _DETECTORS[key] = LanguageDetectorBuilder.from_languages(*langs).build()
            self._detector = _DETECTORS[key]

    def detect(self, texts: list[str]) -> list[tuple[str, float]]:
        """[(code, confidence)] per text (see class doc)."""
        if not texts:
            return []
        values = self._detector.compute_language_confidence_values_in_parallel(
            [t[:DETECT_CHARS] for t in texts])
        out = []
        for vals in values:
            best = max((float(v.value) for v in vals), default=0.0)
            # ties: the alphabetically first code, so every process picks the same
            code = min((v.language.iso_code_639_1.name.lower() for v in vals if float(v.value) == best), default="")
            if best <= 0 or code not in self.codes:
                out.append(("und", 0.0))
            else:
                out.append((code, round(best, 4)))
        return out
