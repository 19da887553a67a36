"""A chat's transcript sent to the customer by e-mail, when they ask for it at the end.

Once a chat has ended, the widget offers "e-mail me the transcript"; the customer's socket
sends ``{"type": "transcript"}``, and the transcript goes through the e-mail outbox
(:func:`hotline.channels.email.service.queue_notice`) to the address of the pre-chat form —
never to one the request names, so the widget cannot be used to mail strangers — once per
conversation (the conversation id is the Message-ID's token), in the chat's language, with
the times in the center's time zone. The relay then sends it like any reply, retrying while
the mail relay is down.

Composed here, above both channels: the chat's records (``channels.chat.service``) and the
outbox (``channels.email.service``) know nothing of each other.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from hotline.channels.chat import service as chat
from hotline.channels.chat.conversation import Kind, Message, Phase, Sender
from hotline.channels.email import service as mail
from hotline.core.errors import Conflict

#: The transcript's words, by the chat's language.
WORDS = {
    "zh-CN": {
        "subject": "您的在线客服对话记录（{topic}）",
        "intro": "您好 {name}，以下是您与我们的在线对话记录。",
        Sender.CUSTOMER: "您",
        Sender.AGENT: "客服",
        Sender.BOT: "智能助手",
        Sender.SYSTEM: "系统",
        Kind.JOINED: "客服已接入",
        Kind.HANDED_OVER: "已转人工客服",
        Kind.ENDED: "对话已结束",
        "file": "文件",
    },
    "en": {
        "subject": "Your chat transcript ({topic})",
        "intro": "Hello {name}, here is the transcript of your chat with us.",
        Sender.CUSTOMER: "You",
        Sender.AGENT: "Agent",
        Sender.BOT: "Assistant",
        Sender.SYSTEM: "System",
        Kind.JOINED: "An agent joined",
        Kind.HANDED_OVER: "Passed to an agent",
        Kind.ENDED: "The chat ended",
        "file": "File",
    },
}


def transcript_text(transcript: chat.Transcript, *, time_zone: str) -> tuple[str, str]:
    """The e-mail's subject and text for a chat's transcript, one line per message.

    >>> from hotline.channels.chat.service import PreChat, Transcript
    >>> said = [Message(seq=1, at=0.0, sender=Sender.CUSTOMER, kind=Kind.TEXT, body="漏水")]
    >>> t = Transcript(id="c1", queue="chat", pre_chat=PreChat(name="王", topic="洗衣机"),
    ...                started_at=0.0, phase=Phase.ENDED, agent_id=None, ended_at=0.0,
    ...                ended_by="customer", survey_score=None, messages=said)
    >>> subject, text = transcript_text(t, time_zone="Asia/Shanghai")
    >>> subject, text.splitlines()[-1]
    ('您的在线客服对话记录（洗衣机）', '[1970-01-01 08:00] 您: 漏水')
    """
    words = WORDS.get(transcript.pre_chat.language, WORDS["zh-CN"])
    zone = ZoneInfo(time_zone)
    lines = [words["intro"].format(name=transcript.pre_chat.name), ""]
    for message in transcript.messages:
        when = datetime.fromtimestamp(message.at, zone).strftime("%Y-%m-%d %H:%M")
        lines.append(f"[{when}] {_said(message, words)}")
    return words["subject"].format(topic=transcript.pre_chat.topic), "\n".join(lines)


def _said(message: Message, words: dict[str, str]) -> str:
    who = words[message.sender]
    if message.sender is Sender.AGENT and message.agent_id:
        who = f"{who} {message.agent_id}"
    if message.kind is Kind.ATTACHMENT and message.attachment is not None:
        return f"{who}: ({words['file']} {message.attachment.name})"
    if message.kind in (Kind.JOINED, Kind.HANDED_OVER, Kind.ENDED):
        return words[message.kind]
    return f"{who}: {message.body}"


def send_transcript(session: Session, *, conversation_id: str, time_zone: str) -> str:
    """Queue the ended chat's transcript to the customer's pre-chat e-mail; returns the
    address. :class:`Conflict` when the chat has not ended, left no e-mail address, was sent
    its transcript already, or the center has no mailbox to send from."""
    transcript = chat.transcript(session=session, conversation_id=conversation_id)
    if transcript.phase is not Phase.ENDED:
        raise Conflict("the transcript is sent once the chat has ended")
    address = transcript.pre_chat.email
    if not address:
        raise Conflict("the chat's form gave no e-mail address to send the transcript to")
    subject, text = transcript_text(transcript, time_zone=time_zone)
    mail.queue_notice(
        session,
        to=address,
        subject=subject,
        text=text,
        kind="chat_transcript",
        author="chat",
        once_as=f"chat-transcript.{conversation_id}",
    )
    return address
