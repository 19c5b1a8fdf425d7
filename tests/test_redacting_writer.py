"""The CLI's stdout and stderr wrapper: every write passes the redactor, the stream's own
properties show through, and ``showing()`` lets text pass only while it lasts."""

from __future__ import annotations

import io
from pathlib import Path

from automation.redact import MASK, RedactingWriter, Redactor

SECRET = "sk-abcdef123456"


def test_a_write_reaches_the_stream_masked_and_counts_what_was_given() -> None:
    stream = io.StringIO()
    writer = RedactingWriter(stream, Redactor(SECRET))
    text = f"key {SECRET} via https://user:pw@host/x\n"
    assert writer.write(text) == len(text)
    assert stream.getvalue() == f"key {MASK} via https://{MASK}@host/x\n"
    assert writer.writable() is True


def test_showing_lets_text_through_only_inside_the_block() -> None:
    redact, stream = Redactor(SECRET), io.StringIO()
    writer = RedactingWriter(stream, redact)
    with redact.showing():
        writer.write(SECRET)
    writer.write(" " + SECRET)
    assert stream.getvalue() == f"{SECRET} {MASK}"


class _Flushed(io.StringIO):
    flushes = 0

    def flush(self) -> None:
        self.flushes += 1

    def isatty(self) -> bool:
        return True


def test_flush_and_isatty_are_the_streams() -> None:
    stream = _Flushed()
    writer = RedactingWriter(stream, Redactor())
    writer.flush()
    assert stream.flushes == 1 and writer.isatty() is True
    assert RedactingWriter(io.StringIO(), Redactor()).isatty() is False


def test_fileno_encoding_and_errors_are_the_streams(tmp_path: Path) -> None:
    with open(tmp_path / "out.txt", "w", encoding="latin-1", errors="replace") as fh:
        writer = RedactingWriter(fh, Redactor())
        assert writer.fileno() == fh.fileno()
        assert (writer.encoding, writer.errors) == ("latin-1", "replace")
    bare = RedactingWriter(io.StringIO(), Redactor())  # StringIO has no encoding: utf-8 is assumed
    assert bare.encoding == "utf-8" and bare.errors is None


def test_a_secret_is_masked_as_it_reads_inside_json_once_and_twice_encoded() -> None:
    import json

    secret = 'ab"cd\\ef-123'
    redact = Redactor(secret)
    once = json.dumps({"k": secret})
    twice = json.dumps({"environment": json.dumps({"K": secret})})
    assert redact(once) == '{"k": "' + MASK + '"}'
    assert redact(twice) == '{"environment": "{\\"K\\": \\"' + MASK + '\\"}"}'
