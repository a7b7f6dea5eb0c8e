"""ISO 639-1 codes the prompts can name, with their English names (used inside prompts), and
`normalize_language`, the one place a language code from a corpus or a config is normalised."""

import re

LANGUAGE_NAMES: dict[str, str] = {
    "ar": "Arabic", "bn": "Bengali", "ca": "Catalan", "cs": "Czech", "da": "Danish",
    "de": "German", "el": "Greek", "en": "English", "es": "Spanish", "fa": "Persian",
    "fi": "Finnish", "fr": "French", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian",
    "id": "Indonesian", "it": "Italian", "ja": "Japanese", "ko": "Korean", "nl": "Dutch",
    "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian",
    "sv": "Swedish", "sw": "Swahili", "te": "Telugu", "th": "Thai", "tr": "Turkish",
    "uk": "Ukrainian", "vi": "Vietnamese", "zh": "Chinese",
}


def language_name(code: str) -> str:
    """Return the English name of an ISO 639-1 code; raise ValueError for an unknown code."""
    try:
        return LANGUAGE_NAMES[code]
    except KeyError:
        known = ", ".join(sorted(LANGUAGE_NAMES))
        raise ValueError(f"unknown language code {code!r} (known: {known})") from None


# ISO 639-2 (B and T) / 639-3 codes of the languages above, and retired 639-1 codes.
_ALIASES: dict[str, str] = {
    "ara": "ar", "ben": "bn", "cat": "ca", "ces": "cs", "cze": "cs", "dan": "da", "deu": "de",
    "ger": "de", "ell": "el", "gre": "el", "eng": "en", "spa": "es", "fas": "fa", "per": "fa",
    "fin": "fi", "fra": "fr", "fre": "fr", "heb": "he", "iw": "he", "hin": "hi", "hun": "hu",
    "ind": "id", "in": "id", "ita": "it", "jpn": "ja", "kor": "ko", "nld": "nl", "dut": "nl",
    "nor": "no", "nob": "no", "nb": "no", "nno": "no", "nn": "no", "pol": "pl", "por": "pt",
    "ron": "ro", "rum": "ro", "mo": "ro", "rus": "ru", "swe": "sv", "swa": "sw", "swh": "sw",
    "tel": "te", "tha": "th", "tur": "tr", "ukr": "uk", "vie": "vi", "zho": "zh", "chi": "zh",
    "cmn": "zh",
}
UNDETERMINED = "und"
_UND = {"", "und", "unknown", "none", "null", "n/a", "zxx", "mul", "mis"}
_SUBTAG = re.compile(r"[-_\s.@]")


def normalize_language(code: str) -> str:
    """One language code, normalised: case folded, region / script / encoding dropped
    (`pt-BR`, `pt_BR`, `PT`, `pt_BR.UTF-8` -> `pt`; `zh-Hant` -> `zh`), ISO 639-2/3 codes of the
    known languages mapped to ISO 639-1 (`fra` -> `fr`), and empty / unknown markers (`und`,
    `unknown`, `""`) to `und`. Other codes are returned lower-cased, as they are."""
    primary = _SUBTAG.split(str(code).strip().lower(), maxsplit=1)[0]
    if primary in _UND:
        return UNDETERMINED
    return _ALIASES.get(primary, primary)


def is_cross_lingual(query_lang: str, passage_lang: str) -> bool | None:
    """Whether a query is in another language than its passage; None when the passage's
    language is undetermined (`und`): unknown, not cross-lingual by default."""
    if normalize_language(passage_lang) == UNDETERMINED:
        return None
    return normalize_language(query_lang) != normalize_language(passage_lang)
