"""Tell which encoding a file's bytes are in, only when the bytes prove it.

UTF-8 (with or without byte-order mark) and UTF-16 with a byte-order mark prove themselves.
Windows-1252 ("ANSI", what Excel on Windows writes) cannot be told apart from Mac Roman
(what Excel on a Mac writes) or from a UTF-8 file with one stray byte by decoding alone:
every byte sequence decodes. So the bytes are read as Windows-1252 only when every
non-ASCII character sits where Windows-1252 text puts it and where the Mac Roman reading
of the same byte would not make sense; otherwise the file is refused, with the place
and both readings, rather than written as mojibake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# A well-formed UTF-8 sequence of two to four bytes: in a file that is not UTF-8 it means two encodings were mixed.
UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}")
OPENING_QUOTES = "\u2018\u201c"
CLOSING_QUOTES = "\u2019\u201d"
SAVE_AS_UTF8 = "open it in the program that wrote it and save it as 'CSV UTF-8'"


@dataclass
class UnprovenEncoding(Exception):
    """Where the bytes stop proving an encoding, and why; line and column count from 1."""

    line: int
    column: int
    reason: str

    def __str__(self) -> str:
        return self.reason


def _place(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    return line, offset - (data.rfind(b"\n", 0, offset) + 1) + 1


def _mac(byte: int) -> str:
    return bytes([byte]).decode("mac_roman")


def _implausible(text: str, index: int) -> bool:
    """True when the Windows-1252 character at `index` is where that encoding would not put it."""
    char = text[index]
    before = text[index - 1] if index > 0 else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    byte = char.encode("cp1252")[0]
    letter_before, letter_after = before.isalpha(), after.isalpha()
    if 0x80 <= byte <= 0x9F:  # Mac Roman has its accented vowels here
        if char.isalpha():
            return True
        if char in OPENING_QUOTES:
            return letter_before or not after or after.isspace()
        if char in CLOSING_QUOTES:
            return letter_after or not before or before.isspace()
        return letter_after
    if char.isalpha():  # Latin-1 letters: Mac Roman has quotes, dashes and capitals here
        if char.isupper():
            return (before.islower()) or not (letter_before or letter_after)
        return after.isupper()
    # symbols such as ® ¯ ¾ ¿ are letters (Æ Ø æ ø) in Mac Roman
    return letter_before or (letter_after and not before.isdigit())


def decode_proven(data: bytes) -> tuple[str, str]:
    """The text and the name of its encoding, or UnprovenEncoding saying where and why not."""
    if data.startswith(UTF16_BOMS):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as error:
            raise UnprovenEncoding(1, 1, f"starts like UTF-16 but is not ({error.reason}); {SAVE_AS_UTF8}") from None
    body, name, skip = (data[3:], "UTF-8 with byte-order mark", 3) if data.startswith(UTF8_BOM) else (data, "UTF-8", 0)
    try:
        return body.decode("utf-8"), name
    except UnicodeDecodeError as error:
        first_bad = error.start + skip
    line, column = _place(data, first_bad)
    shown = f"byte 0x{data[first_bad]:02X}"
    mixed = UTF8_SEQUENCE.search(data)
    if skip or mixed:
        where = _place(data, mixed.start()) if mixed else (1, 1)
        raise UnprovenEncoding(line, column, f"{shown} is not UTF-8, yet line {where[0]} is written in UTF-8: "
                               f"the file mixes two encodings and cannot be converted as a whole; {SAVE_AS_UTF8}, "
                               "or correct the character at that place by hand")
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as error:
        line, column = _place(data, error.start)
        raise UnprovenEncoding(line, column, f"byte 0x{data[error.start]:02X} is "
                               f"neither UTF-8 nor Windows-1252 (in Mac Roman it is '{_mac(data[error.start])}'); "
                               f"{SAVE_AS_UTF8}") from None
    for index, char in enumerate(text):
        if ord(char) > 0x7F and _implausible(text, index):
            line, column = _place(data, index)
            raise UnprovenEncoding(line, column, f"byte 0x{data[index]:02X} reads as '{char}' in Windows-1252 but "
                                   f"as '{_mac(data[index])}' in Mac Roman, and the bytes do not tell which is "
                                   f"meant; {SAVE_AS_UTF8}")
    return text, "Windows-1252"
