"""What a file must be before the center keeps it: a type the receiving page allows, a size
under its limit, and content that really is of the type it claims.

A browser says what type a file is from its name; a ``.png`` renamed from an ``.exe`` would
pass a check of the declared type alone. So the first bytes are read too (the "magic
numbers" of PNG, JPEG, GIF and PDF) and plain text must be UTF-8; a file whose content does
not match its declared type is refused, and so is one of a type not allowed at all. Chat
attachments and ticket attachments are held to this one rule.

>>> check_file(name="a.png", content_type="image/png", data=PNG_MAGIC + b"...",
...            allowed_types=("image/png",), max_bytes=100) is None
True
>>> check_file(name="a.exe", content_type="application/x-msdownload", data=b"MZ",
...            allowed_types=("image/png", "application/pdf"), max_bytes=100)
'files of type application/x-msdownload are not accepted; send image/png or application/pdf'
"""

from __future__ import annotations

from collections.abc import Sequence

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: The first bytes each binary type starts with.
MAGIC: dict[str, tuple[bytes, ...]] = {
    "image/png": (PNG_MAGIC,),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
    "audio/amr": (b"#!AMR\n",),
}
MAX_NAME_CHARS = 200


def check_file(
    *,
    name: str,
    content_type: str,
    data: bytes,
    allowed_types: Sequence[str],
    max_bytes: int,
) -> str | None:
    """Why a file is refused (one sentence naming the rule), or ``None`` when it is accepted.

    >>> check_file(name="x.png", content_type="image/png", data=b"MZ...",
    ...            allowed_types=("image/png",), max_bytes=100)
    "the file's content is not image/png"
    >>> check_file(name="big.txt", content_type="text/plain", data=b"a" * 11,
    ...            allowed_types=("text/plain",), max_bytes=10)
    'a file may have at most 10 bytes; this one has 11'
    """
    if not name.strip() or len(name) > MAX_NAME_CHARS or "/" in name or "\\" in name:
        return f"a file name has 1 to {MAX_NAME_CHARS} characters and no slashes"
    allowed = list(allowed_types)
    if content_type not in allowed:
        listed = ", ".join(allowed[:-1]) + (" or " if len(allowed) > 1 else "") + allowed[-1]
        return f"files of type {content_type} are not accepted; send {listed}"
    if not data:
        return "the file is empty"
    if len(data) > max_bytes:
        return f"a file may have at most {max_bytes} bytes; this one has {len(data)}"
    magic = MAGIC.get(content_type)
    if magic is not None and not data.startswith(magic):
        return f"the file's content is not {content_type}"
    if content_type.startswith("text/"):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return "a text file must be UTF-8"
    return None
