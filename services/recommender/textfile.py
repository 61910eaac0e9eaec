"""Read a data file as text in any encoding: the one asked for, or UTF-8, then a fallback."""

from __future__ import annotations

import codecs
from pathlib import Path

from services.core.errors import InputError

#: Tried in order when no encoding is given. UTF-8 is strict, so a file that decodes as UTF-8
#: almost surely is; cp1252 then covers Windows exports, and latin-1 (which decodes any byte)
#: the rest, such as MovieLens 100K's u.item.
FALLBACKS = ("cp1252", "latin-1")


def read_text(path: Path, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding used) of `path`; InputError for a missing file, an unknown encoding
    or bytes that are not valid in the encoding asked for (naming the line)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path.name}: file not found") from None
    except OSError as exc:
        raise InputError(f"{path.name}: cannot read the file ({exc.strerror})") from None
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputError(f"--encoding: unknown encoding {encoding!r}") from None
        return _decode(path.name, data, encoding), encoding
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(path.name, data, "utf-16"), "utf-16"
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    for fallback in FALLBACKS:
        try:
            return data.decode(fallback), fallback
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _decode(name: str, data: bytes, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{name} line {line}: not valid {encoding} text (byte {exc.start}); pass the file's "
            "encoding with --encoding (for example latin-1 or cp1252), or leave it out to detect it"
        ) from None
    return text.removeprefix("\ufeff")
