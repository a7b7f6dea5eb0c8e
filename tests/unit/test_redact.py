"""synthir.redact: registered secrets, echoed Bearer values and key-shaped strings become ***,
in text and in log records; ordinary text is left alone."""

import logging

from synthir.redact import RedactingFilter, redact, register

SECRET = "my-very-own-api-key-0042"


def test_registered_values_and_key_shapes_are_masked():
    register(SECRET, "abc")  # too short to be registered: would mask ordinary words
    text = (f"key={SECRET}; Authorization: Bearer eyJhbGciOi.x9y8z7; token hf_{'a1B2' * 8} "
            f"openai sk-{'Q9w8' * 6} abc")
    out = redact(text)
    assert SECRET not in out and "eyJhbGciOi" not in out and "hf_a1B2" not in out and "sk-Q9w8" not in out
    assert out.count("***") == 4 and "Bearer ***" in out and out.endswith("abc")


def test_ordinary_text_is_untouched():
    text = "bearer bonds and a basic token limitation; sk-short hf_x"
    assert redact(text) == text
    assert redact("x", extra=["xyzxyz"]) == "x" and redact("pre xyzxyz post", extra=["xyzxyz"]) == "pre *** post"


def test_log_filter_redacts_message_args_and_exceptions():
    register(SECRET)
    record = logging.LogRecord("t", logging.WARNING, __file__, 1, "server said %s", (f"Bearer {SECRET}",), None)
    try:
        raise RuntimeError(f"echo {SECRET}")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    assert RedactingFilter().filter(record)
    assert SECRET not in record.getMessage() and SECRET not in (record.exc_text or "")
    assert "***" in record.exc_text
