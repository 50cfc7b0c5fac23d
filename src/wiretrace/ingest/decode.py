"""Bytes to text: UTF-8 first, a guessed legacy encoding (with a warning) when that fails.

Scraped data arrives in every encoding, sometimes several in one file. Text that
is not UTF-8 is decoded with the encoding charset-normalizer finds most likely, and
the record says so in a warning; data that is no text at all (NUL bytes, no
plausible encoding) is refused with a reason.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from charset_normalizer import from_bytes

SNIFF_BYTES = 64 * 1024
# Western legacy text is most often Windows-1252; charset-normalizer cannot tell it
# from its Central European sibling on a short sample, so among equally good
# guesses this one wins.
_PREFERRED_LEGACY = "cp1252"
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class NotText(ValueError):
    """The bytes are not text in any encoding wiretrace can recognise."""


def guess_encoding(sample: bytes) -> str | None:
    """The most likely encoding of ``sample`` (never UTF-8 for bytes that are not), or None."""
    matches = from_bytes(sample)
    best = matches.best()
    if best is None:
        return None
    tied = [m for m in matches if m.chaos <= best.chaos + 0.01]
    aliases = {name for m in tied for name in m.could_be_from_charset}
    if aliases & {_PREFERRED_LEGACY, "latin_1", "iso8859_15"}:
        return _PREFERRED_LEGACY
    return best.encoding


def bom_encoding(head: bytes) -> str | None:
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    return None


def decode_document(raw: bytes) -> tuple[str, str | None]:
    """The text of a whole file and a warning if it had to be guessed.

    Raises ``NotText`` for binary data.
    """
    encoding = bom_encoding(raw[:4])
    if encoding is not None:
        try:
            return raw.decode(encoding), None
        except UnicodeDecodeError as error:
            raise NotText(
                f"starts with a {encoding} byte order mark but is not {encoding} "
                f"(bad byte at offset {error.start})"
            ) from error
    if b"\x00" in raw:
        raise NotText("not a text file (contains NUL bytes)")
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as error:
        first_bad = error.start
    guessed = guess_encoding(raw[: SNIFF_BYTES * 4])
    if guessed is None:
        raise NotText(f"not UTF-8 text (bad byte at offset {first_bad}) and no other encoding fits")
    text = raw.decode(guessed, errors="replace")
    return text, f"not UTF-8 (bad byte at offset {first_bad}); decoded as {guessed} (guessed)"


class LineDecoder:
    """Decodes a text file line by line, UTF-8 first, a guessed encoding for lines that are not.

    A file can mix encodings (records appended by different tools), so the choice
    is made per line; the fallback is guessed once, from the first lines that need it.
    ``lines()`` yields ``(line_number, text, warning)``.
    """

    def __init__(self, handle: BinaryIO | Iterable[bytes], name: str, head: bytes | None = None):
        self.handle = handle
        self.name = name
        self.head = head
        self.fallback: str | None = None

    def lines(self) -> Iterator[tuple[int, str, str | None]]:
        head = self.head
        if head is None:
            head = (
                self.handle.peek(SNIFF_BYTES)[:SNIFF_BYTES] if hasattr(self.handle, "peek") else b""
            )
        encoding = bom_encoding(head[:4])
        if encoding is None and b"\x00" in head:
            encoding = _wide_encoding(head)
            if encoding is None:
                raise NotText("not a text file (contains NUL bytes)")
        if encoding is not None and encoding != "utf-8-sig":
            yield from self._wide_lines(encoding)
            return
        for number, raw in enumerate(self.handle, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            yield (number, *self.decode(raw, head))

    def decode(self, raw: bytes, sample: bytes = b"") -> tuple[str, str | None]:
        """One line as text, and a warning when it was not UTF-8."""
        try:
            return raw.decode("utf-8"), None
        except UnicodeDecodeError as error:
            first_bad = error.start
        if self.fallback is None:
            self.fallback = self._choose_fallback(raw, sample)
        text = raw.decode(self.fallback, errors="replace")
        warning = f"not UTF-8 (bad byte {first_bad + 1} of the line); decoded as {self.fallback}"
        if "\ufffd" in text:
            warning += ", undecodable bytes replaced"
        return text, warning

    def _choose_fallback(self, line: bytes, sample: bytes) -> str:
        # The file's opening bytes say more than one line, when they are not UTF-8 themselves.
        try:
            sample.decode("utf-8")
            sample = b""
        except UnicodeDecodeError as error:
            if error.reason == "unexpected end of data" and error.start > len(sample) - 4:
                sample = b""  # a UTF-8 character cut at the end of the sample
        return guess_encoding(sample or line) or _PREFERRED_LEGACY

    def _wide_lines(self, encoding: str) -> Iterator[tuple[int, str, str | None]]:
        if not hasattr(self.handle, "readable"):
            raise NotText(f"{encoding} text is only read from files, not from a stream")
        text = io.TextIOWrapper(self.handle, encoding=encoding, errors="replace", newline="")
        for number, line in enumerate(text, start=1):
            if number == 1:
                line = line.lstrip("\ufeff")
            warning = "undecodable bytes replaced" if "\ufffd" in line else None
            yield number, line, warning


def _wide_encoding(head: bytes) -> str | None:
    """UTF-16 or UTF-32 without a byte order mark (the NUL bytes of ASCII text in them)."""
    guessed = guess_encoding(head)
    if guessed and guessed.replace("-", "_").startswith(("utf_16", "utf_32")):
        return guessed
    return None
