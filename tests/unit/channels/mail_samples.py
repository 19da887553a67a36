"""Raw messages the e-mail tests send: a customer's mail, a reply, a DSN, broken MIME."""

from __future__ import annotations

import base64


def _base64(data: bytes) -> str:
    # Lines end in CRLF on the wire (RFC 5321 §2.3.8); a bare LF makes one endless line.
    return base64.encodebytes(data).decode().replace("\n", "\r\n")


def customer_mail(
    *,
    sender: str = "Li Lei <li.lei@example.com>",
    to: str = "help@support.example.com",
    subject: str = "热水器不加热",
    body: str = "您好，热水器从昨天起不加热。",
    message_id: str = "<c1@example.com>",
    in_reply_to: str | None = None,
    references: str | None = None,
    extra: str = "",
    attachment: bytes | None = None,
) -> bytes:
    """A customer's message, optionally with one attachment (a photo)."""
    head = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Message-ID: {message_id}",
        "Date: Thu, 03 Dec 2026 10:00:00 +0800",
        "MIME-Version: 1.0",
    ]
    if in_reply_to:
        head.append(f"In-Reply-To: {in_reply_to}")
    if references:
        head.append(f"References: {references}")
    if extra:
        head.append(extra)
    text_part = _base64(body.encode())
    if attachment is None:
        head += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64"]
        return ("\r\n".join(head) + "\r\n\r\n" + text_part).encode()
    head.append('Content-Type: multipart/mixed; boundary="b1"')
    photo = _base64(attachment)
    parts = [
        "--b1",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: base64",
        "",
        text_part,
        "--b1",
        'Content-Type: image/jpeg; name="fault.jpg"',
        'Content-Disposition: attachment; filename="fault.jpg"',
        "Content-Transfer-Encoding: base64",
        "",
        photo,
        "--b1--",
        "",
    ]
    return ("\r\n".join(head) + "\r\n\r\n" + "\r\n".join(parts)).encode()


def bounce_of(original_id: str, *, recipient: str = "nobody@example.com") -> bytes:
    """A DSN (RFC 3464) saying our message ``original_id`` could not be delivered."""
    return "\r\n".join(
        [
            "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>",
            "To: help@support.example.com",
            "Subject: Undelivered Mail Returned to Sender",
            "Message-ID: <dsn1@mx.example.com>",
            "Auto-Submitted: auto-replied",
            "MIME-Version: 1.0",
            'Content-Type: multipart/report; report-type=delivery-status; boundary="r1"',
            "",
            "--r1",
            "Content-Type: text/plain",
            "",
            "Your message could not be delivered.",
            "--r1",
            "Content-Type: message/delivery-status",
            "",
            "Reporting-MTA: dns; mx.example.com",
            "",
            f"Final-Recipient: rfc822; {recipient}",
            "Action: failed",
            "Status: 5.1.1",
            "Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.com>: User unknown",
            "",
            "--r1",
            "Content-Type: text/rfc822-headers",
            "",
            "From: help@support.example.com",
            f"To: {recipient}",
            f"Message-ID: {original_id}",
            "Subject: Re: x",
            "",
            "--r1--",
            "",
        ]
    ).encode()


#: A multipart message whose boundary never occurs: its body cannot be split into parts.
MALFORMED = (
    b"From: Wang <wang@example.com>\r\n"
    b"To: help@support.example.com\r\n"
    b"Subject: broken\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="never-there"\r\n\r\n'
    b"--other\r\nContent-Type: text/plain\r\n\r\nhello\r\n--other--\r\n"
)
