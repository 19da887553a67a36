"""The WeChat official account's message push protocol: signatures, safe mode, XML messages.

When a follower writes to the company's official account (公众号), WeChat's servers POST the
message to the URL the company configured, as XML. Every request carries ``timestamp``,
``nonce`` and ``signature`` = sha1 of the three strings *token*, *timestamp*, *nonce* sorted
and joined; the token is a secret shared with WeChat only, so a request whose signature does
not match did not come from WeChat. When the URL is first configured WeChat sends a GET with
``echostr`` that the server must echo back to prove it holds the token.

In **safe mode** (安全模式) the XML body carries only ``<Encrypt>``: the message encrypted with
AES-256-CBC under the account's EncodingAESKey (43 base64 characters, one ``=`` short of 32
bytes; the IV is the key's first 16 bytes; PKCS#7 padding to 32-byte blocks). The plain text
is 16 random bytes, the message's length (4 bytes, big-endian), the message, then the
account's AppID — which must be ours. The query then also carries ``msg_signature`` = sha1 of
the sorted token, timestamp, nonce *and the ciphertext*.

WeChat waits 5 s for an answer and otherwise retries, three times in all: the server answers
``success`` at once and de-duplicates the retries on ``MsgId`` (events have none: on the
sender and ``CreateTime``). The follower may then be answered through the customer-service
message API during **48 hours after their last message** (:func:`reply_refusal`).

Everything here is pure: the web adapter feeds it the request and acts on the answer.

>>> sig = signature("token", "1700000000", "n1")
>>> check_push(token="token", timestamp="1700000000", nonce="n1", given=sig, now=1700000001.0)
>>> reply_refusal(last_customer_message_at=1700000000.0, now=1700000060.0) is None
True
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass
from xml.etree import ElementTree

from Crypto.Cipher import AES

#: WeChat pads to 32-byte blocks (its own PKCS#7 variant), not AES's 16.
BLOCK = 32
#: The customer-service message API answers a follower this long after their last message.
REPLY_WINDOW_S = 48 * 3600.0
#: A push older (or newer) than this is refused as a replay: WeChat's retries come within 15 s.
MAX_CLOCK_SKEW_S = 300.0
#: The largest push body taken (a text message is at most 2048 bytes of content).
MAX_BODY_BYTES = 64 * 1024
MESSAGE_TYPES = ("text", "image", "voice", "video", "shortvideo", "location", "link", "event")


class ProtocolRefused(ValueError):
    """A push broke the protocol: ``field`` names what, the message says which rule."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message or event pushed by WeChat (the fields of its XML that Hotline uses)."""

    to_user: str
    from_user: str
    create_time: int
    msg_type: str
    msg_id: str | None = None
    content: str = ""
    pic_url: str = ""
    media_id: str = ""
    event: str = ""
    event_key: str = ""

    @property
    def dedupe_key(self) -> str:
        """What identifies this push across WeChat's retries (WeChat's own advice).

        >>> Inbound("gh", "o1", 5, "text", msg_id="77").dedupe_key
        'msg:77'
        >>> Inbound("gh", "o1", 5, "event", event="subscribe").dedupe_key
        'event:o1:5:subscribe'
        """
        if self.msg_id:
            return f"msg:{self.msg_id}"
        return f"event:{self.from_user}:{self.create_time}:{self.event}"

    @property
    def shown(self) -> str:
        """The message as the agent reads it in the conversation.

        >>> Inbound("gh", "o1", 5, "image", msg_id="1", pic_url="http://mmbiz/x").shown
        '[图片 image] http://mmbiz/x'
        """
        if self.msg_type == "text":
            return self.content
        if self.msg_type == "image":
            return f"[图片 image] {self.pic_url}".strip()
        return f"[{self.msg_type}] {self.media_id}".strip()


def signature(*parts: str) -> str:
    """sha1 of the parts sorted and joined: WeChat's ``signature`` and ``msg_signature``.

    >>> signature("tok", "1409659813", "n1") == signature("n1", "tok", "1409659813")
    True
    """
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def check_push(
    *, token: str, timestamp: str, nonce: str, given: str, now: float, encrypted: str | None = None
) -> None:
    """Refuse a push not signed with the account's token, or too old or new (a replay).

    With ``encrypted`` (safe mode), ``given`` is ``msg_signature`` over the ciphertext too.

    >>> sig = signature("tok", "100", "n1")
    >>> check_push(token="tok", timestamp="100", nonce="n1", given=sig, now=100.0)
    >>> try:
    ...     check_push(token="tok", timestamp="100", nonce="n1", given=sig, now=1000.0)
    ... except ProtocolRefused as refused:
    ...     print(refused.rule)
    the push is 900 s away from now (at most 300 s): a replay is refused
    """
    if not timestamp.isdigit() or not nonce or len(nonce) > 64 or len(given) != 40:
        raise ProtocolRefused("signature", "a push carries timestamp, nonce and its sha1 signature")
    parts = (token, timestamp, nonce) if encrypted is None else (token, timestamp, nonce, encrypted)
    if not _same(signature(*parts), given.lower()):
        raise ProtocolRefused("signature", "does not match the account's token: not from WeChat")
    skew = abs(now - int(timestamp))
    if skew > MAX_CLOCK_SKEW_S:
        raise ProtocolRefused(
            "timestamp",
            f"the push is {skew:.0f} s away from now (at most {MAX_CLOCK_SKEW_S:.0f} s): "
            "a replay is refused",
        )


def _same(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


# --------------------------------------------------------------------------- safe mode


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key of an EncodingAESKey (43 base64 characters).

    >>> len(aes_key("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"))
    32
    """
    if len(encoding_aes_key) != 43:
        raise ProtocolRefused("encoding_aes_key", "is 43 characters (letters and digits)")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolRefused("encoding_aes_key", "is 43 base64 characters") from None
    return key


def decrypt(encrypted: str, *, encoding_aes_key: str, app_id: str) -> str:
    """The plain XML of a safe-mode ``<Encrypt>``, refused unless it is for ``app_id``."""
    key = aes_key(encoding_aes_key)
    try:
        data = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolRefused("Encrypt", "is not base64") from None
    if not data or len(data) % BLOCK:
        raise ProtocolRefused("Encrypt", f"is not whole {BLOCK}-byte blocks of AES-256-CBC")
    plain = AES.new(key, AES.MODE_CBC, key[:16]).decrypt(data)
    pad = plain[-1]
    if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise ProtocolRefused("Encrypt", "does not decrypt with the account's EncodingAESKey")
    body = plain[16:-pad]
    if len(body) < 4:
        raise ProtocolRefused("Encrypt", "is too short to hold a message")
    (length,) = struct.unpack(">I", body[:4])
    message, receiver = body[4 : 4 + length], body[4 + length :]
    if len(message) != length:
        raise ProtocolRefused("Encrypt", "its message length is longer than the message")
    if receiver.decode("utf-8", "replace") != app_id:
        raise ProtocolRefused("Encrypt", f"is for another account, not {app_id}")
    try:
        return message.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolRefused("Encrypt", "the message is not UTF-8") from None


def encrypt(plain: str, *, encoding_aes_key: str, app_id: str, random16: bytes) -> str:
    """A safe-mode ``<Encrypt>`` of ``plain`` (what WeChat sends; the tests' pushes use it).

    >>> key = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
    >>> sealed = encrypt("<xml/>", encoding_aes_key=key, app_id="wx1", random16=b"r" * 16)
    >>> decrypt(sealed, encoding_aes_key=key, app_id="wx1")
    '<xml/>'
    """
    key = aes_key(encoding_aes_key)
    message = plain.encode()
    body = random16 + struct.pack(">I", len(message)) + message + app_id.encode()
    pad = BLOCK - len(body) % BLOCK
    sealed = AES.new(key, AES.MODE_CBC, key[:16]).encrypt(body + bytes([pad]) * pad)
    return base64.b64encode(sealed).decode()


# --------------------------------------------------------------------------- XML


def _root(body: bytes | str) -> ElementTree.Element:
    raw = body.encode() if isinstance(body, str) else body
    if len(raw) > MAX_BODY_BYTES:
        raise ProtocolRefused("body", f"a push has at most {MAX_BODY_BYTES} bytes")
    # WeChat never sends a DTD; refusing one keeps entity expansion (billion laughs) out.
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise ProtocolRefused("body", "a push has no DOCTYPE or ENTITY declarations")
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as error:
        raise ProtocolRefused("body", f"is not well-formed XML ({error})") from None
    if root.tag != "xml":
        raise ProtocolRefused("body", f"the root element is <xml>, not <{root.tag[:40]}>")
    return root


def _text(root: ElementTree.Element, name: str) -> str:
    element = root.find(name)
    return (element.text or "").strip() if element is not None else ""


def encrypted_part(body: bytes | str) -> str:
    """The ``<Encrypt>`` of a safe-mode push (refused when there is none).

    >>> encrypted_part("<xml><ToUserName>gh</ToUserName><Encrypt>abc=</Encrypt></xml>")
    'abc='
    """
    found = _text(_root(body), "Encrypt")
    if not found:
        raise ProtocolRefused("Encrypt", "a safe-mode push carries <Encrypt>")
    return found


def parse(body: bytes | str) -> Inbound:
    """The message or event of a (plain) push XML; each problem names the element.

    >>> m = parse("<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName>"
    ...           "<CreateTime>1700000000</CreateTime><MsgType>text</MsgType>"
    ...           "<Content>你好</Content><MsgId>42</MsgId></xml>")
    >>> m.from_user, m.content, m.dedupe_key
    ('o1', '你好', 'msg:42')
    """
    root = _root(body)
    for name in ("ToUserName", "FromUserName", "CreateTime", "MsgType"):
        if not _text(root, name):
            raise ProtocolRefused(name, "a push message carries it")
    created = _text(root, "CreateTime")
    if not created.isdigit():
        raise ProtocolRefused("CreateTime", "is a whole number of seconds")
    msg_type = _text(root, "MsgType")
    if msg_type not in MESSAGE_TYPES:
        raise ProtocolRefused("MsgType", f"one of {', '.join(MESSAGE_TYPES)}")
    msg_id = _text(root, "MsgId") or None
    if msg_type != "event" and (msg_id is None or not msg_id.isdigit()):
        raise ProtocolRefused("MsgId", "a message carries its numeric MsgId")
    if msg_type == "text" and not _text(root, "Content"):
        raise ProtocolRefused("Content", "a text message carries its text")
    if msg_type == "event" and not _text(root, "Event"):
        raise ProtocolRefused("Event", "an event carries its kind")
    from_user = _text(root, "FromUserName")
    if len(from_user) > 64:
        raise ProtocolRefused("FromUserName", "an openid has at most 64 characters")
    return Inbound(
        to_user=_text(root, "ToUserName"),
        from_user=from_user,
        create_time=int(created),
        msg_type=msg_type,
        msg_id=msg_id,
        content=_text(root, "Content"),
        pic_url=_text(root, "PicUrl"),
        media_id=_text(root, "MediaId"),
        event=_text(root, "Event").lower(),
        event_key=_text(root, "EventKey"),
    )


# --------------------------------------------------------------------------- replies


def reply_refusal(*, last_customer_message_at: float | None, now: float) -> str | None:
    """Why the customer-service message API may not answer now, or ``None`` when it may.

    >>> reply_refusal(last_customer_message_at=0.0, now=47 * 3600.0) is None
    True
    >>> reply_refusal(last_customer_message_at=0.0, now=49 * 3600.0)
    "WeChat allows replies for 48 h after the follower's last message; it was 49 h ago"
    """
    if last_customer_message_at is None:
        return "the follower has not written: WeChat allows no reply before they do"
    since = now - last_customer_message_at
    if since > REPLY_WINDOW_S:
        return (
            "WeChat allows replies for 48 h after the follower's last message; "
            f"it was {since / 3600:.0f} h ago"
        )
    return None


# --------------------------------------------------------------------------- media

#: What the center keeps of a follower's media message, by its ``MsgType``: WeChat hands
#: images out as JPEG, PNG or GIF and voice as AMR (Speex for some clients).
INBOUND_MEDIA_TYPES: dict[str, tuple[str, ...]] = {
    "image": ("image/jpeg", "image/png", "image/gif"),
    "voice": ("audio/amr", "audio/speex"),
}
#: The files an agent may send a follower: images, which the temporary-media upload takes.
OUTBOUND_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif")
_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "audio/amr": "amr",
    "audio/speex": "spx",
}


def media_name(inbound: Inbound, content_type: str) -> str:
    """The file name a follower's media is kept under in the conversation.

    >>> media_name(Inbound("gh", "o1", 5, "voice", msg_id="1", media_id="a/b+c"), "audio/amr")
    'wechat-voice-a_b_c.amr'
    """
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in inbound.media_id)[:60]
    return (
        f"wechat-{inbound.msg_type}-{safe or inbound.msg_id}.{_EXTENSIONS.get(content_type, 'bin')}"
    )


def attachment_refusal(content_type: str) -> str | None:
    """Why an agent's file may not go to a follower, or ``None`` for an image WeChat takes.

    >>> attachment_refusal("image/png") is None
    True
    >>> attachment_refusal("application/pdf")[-44:]
    'image/png or image/gif), not application/pdf'
    """
    if content_type in OUTBOUND_IMAGE_TYPES:
        return None
    return (
        "WeChat conversations take text and images (image/jpeg, image/png or image/gif), "
        f"not {content_type}"
    )
