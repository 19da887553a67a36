"""What a file must be before a chat accepts it: a type the widget settings allow, a size
under their limit, and content that really is of the type it claims.

The rule itself (types, size, content that matches its type) is the center's one file
check, :func:`hotline.core.files.check_file`; the widget settings say which types and sizes.

>>> from hotline.config.chat import ChatSettings
>>> settings = ChatSettings()
>>> check_attachment(name="a.png", content_type="image/png", data=PNG_MAGIC + b"...",
...                  settings=settings) is None
True
>>> check_attachment(name="a.exe", content_type="application/x-msdownload", data=b"MZ",
...                  settings=settings)[:61]
'files of type application/x-msdownload are not accepted; send'
"""

from __future__ import annotations

from hotline.config.chat import ChatSettings
from hotline.core.files import MAGIC, MAX_NAME_CHARS, PNG_MAGIC, check_file

__all__ = ["MAGIC", "MAX_NAME_CHARS", "PNG_MAGIC", "check_attachment"]


def check_attachment(
    *, name: str, content_type: str, data: bytes, settings: ChatSettings
) -> str | None:
    """Why a file is refused (one sentence naming the rule), or ``None`` when it is accepted.

    >>> from hotline.config.chat import ChatSettings
    >>> check_attachment(name="x.png", content_type="image/png", data=b"MZ...",
    ...                  settings=ChatSettings())
    "the file's content is not image/png"
    >>> check_attachment(name="big.txt", content_type="text/plain", data=b"a" * 11,
    ...                  settings=ChatSettings(max_attachment_bytes=10))
    'a file may have at most 10 bytes; this one has 11'
    """
    return check_file(
        name=name,
        content_type=content_type,
        data=data,
        allowed_types=settings.attachment_types,
        max_bytes=settings.max_attachment_bytes,
    )
