"""Web chat widget settings: the center file's ``chat`` section.

A company embeds Hotline's chat widget in its own web site with one script tag. What the
widget may do is decided here, and checked before it takes effect:

* ``queue`` — the queue new chats enter (a queue of channel ``chat``; checked across the file
  in :mod:`hotline.config.validate`);
* ``allowed_origins`` — the web sites (``scheme://host[:port]``, no path) that may embed the
  widget: a browser page anywhere else is refused when it opens a conversation;
* limits: the longest message, the largest attachment and the attachment types accepted, how
  many conversations one address may open per hour and how many messages a conversation may
  send per minute, how long a conversation's token stays valid;
* ``canned_replies`` — the answers an agent inserts with one click;
* ``callback_queue`` and ``callback_words`` — where a chat customer who asks to be called
  back (a message that is one of the words, e.g. "回电") is queued for a callback (a voice
  queue; none: chats offer no callback).

>>> settings = ChatSettings.model_validate({"allowed_origins": ["https://shop.example.com"]})
>>> settings.queue, settings.max_attachment_bytes, settings.allows_origin("https://shop.example.com")
('chat', 2000000, True)
>>> try:
...     ChatSettings.model_validate({"allowed_origins": ["https://shop.example.com/page"]})
... except ValueError as refused:
...     print(refused.errors()[0]["loc"], refused.errors()[0]["msg"][:46])
('allowed_origins', 0) Value error, an origin is scheme://host[:port]
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")
_MIME = re.compile(r"^[a-z]+/[a-z0-9.+-]+$")


def _check_origin(text: str) -> str:
    if not _ORIGIN.match(text):
        raise ValueError(
            "an origin is scheme://host[:port] with no path, like https://shop.example.com; "
            f"got {text!r}"
        )
    return text


def _check_mime(text: str) -> str:
    if not _MIME.match(text):
        raise ValueError(
            f"a media type is type/subtype in lower case, like image/png; got {text!r}"
        )
    return text


Origin = Annotated[str, AfterValidator(_check_origin)]
MediaType = Annotated[str, AfterValidator(_check_mime)]


class CannedReply(BaseModel):
    """A prepared answer an agent inserts into a reply with one click."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    text: str = Field(min_length=1, max_length=2000)


class ChatSettings(BaseModel):
    """What the embedded chat widget may do, and where (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    queue: str = Field(default="chat", pattern=ID_PATTERN)
    allowed_origins: list[Origin] = Field(default_factory=list)
    max_message_chars: int = Field(default=2000, ge=1, le=20_000)
    max_attachment_bytes: int = Field(default=2_000_000, ge=1, le=10_000_000)
    attachment_types: list[MediaType] = Field(
        default_factory=lambda: ["image/png", "image/jpeg", "application/pdf", "text/plain"]
    )
    conversations_per_hour: int = Field(default=20, ge=1, le=10_000)
    messages_per_minute: int = Field(default=60, ge=1, le=10_000)
    token_ttl_s: int = Field(default=4 * 3600, ge=60, le=86_400)
    canned_replies: list[CannedReply] = Field(default_factory=list)
    callback_queue: str | None = Field(default=None, pattern=ID_PATTERN)
    callback_words: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=lambda: ["回电", "请回电", "给我回电话", "call me back", "callback"],
        max_length=50,
    )

    def asks_for_callback(self, text: str) -> bool:
        """Whether a customer's message asks to be called back (one of ``callback_words``,
        case, spaces and end punctuation aside), where chats offer callbacks at all.

        >>> settings = ChatSettings(callback_queue="repair")
        >>> settings.asks_for_callback(" 请回电！"), settings.asks_for_callback("Call me back.")
        (True, True)
        >>> settings.asks_for_callback("不要回电"), ChatSettings().asks_for_callback("回电")
        (False, False)
        """
        if self.callback_queue is None:
            return False
        said = text.strip().rstrip("!.?！。？ ").strip().casefold()
        return said in {word.casefold() for word in self.callback_words}

    def allows_origin(self, origin: str | None) -> bool:
        """Whether a page of ``origin`` may open conversations (exact match, no wildcards)."""
        return origin is not None and origin.lower() in {o.lower() for o in self.allowed_origins}
