"""The first-line bot's settings: the center file's ``bot`` section.

A new web chat (and a WeChat message, which becomes a chat contact) can talk to a bot before
it reaches an agent. The bot answers from the published knowledge articles, looks up a ticket's
status and its appointment, and hands the customer over to an agent — with the conversation so
far — when it cannot help, when the customer asks for a person, or after a few failed turns.
What the bot may do is decided here, and checked before it takes effect:

* ``queues`` — the chat queues whose new conversations talk to the bot first (each checked
  across the file in :mod:`hotline.config.validate`: a queue of this center, of channel chat);
* ``threshold`` — the least confidence (0–1: the share of the question's telling words the
  best article holds) for the bot to answer; below it the turn counts as failed;
* ``handover_words`` — words that mean "let me talk to a person" (matched case-insensitively
  anywhere in a message);
* ``max_failed_turns`` — after this many turns in a row the bot could not help, it hands over;
* ``max_answer_chars`` — how much of an article's body one answer quotes.

>>> settings = BotSettings.model_validate({"queues": ["chat"]})
>>> settings.enabled_for("chat"), settings.enabled_for("email"), settings.threshold
(True, False, 0.5)
>>> settings.asks_for_agent("我要转人工"), settings.asks_for_agent("Can I talk to an AGENT?")
(True, True)
>>> try:
...     BotSettings.model_validate({"queues": ["chat"], "handover_words": ["  "]})
... except ValueError as refused:
...     print(refused.errors()[0]["loc"], refused.errors()[0]["msg"])
('handover_words', 0) Value error, a handover word needs some text
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

#: What customers write when they want a person (zh-CN and en).
DEFAULT_HANDOVER_WORDS = (
    "人工",
    "转人工",
    "真人",
    "客服人员",
    "坐席",
    "agent",
    "human",
    "operator",
    "real person",
)


def _check_word(text: str) -> str:
    word = text.strip()
    if not word:
        raise ValueError("a handover word needs some text")
    return word


HandoverWord = Annotated[str, Field(max_length=32), AfterValidator(_check_word)]


class BotSettings(BaseModel):
    """Where the bot talks first and when it hands over (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    queues: list[Annotated[str, Field(pattern=ID_PATTERN)]] = Field(default_factory=list)
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    handover_words: list[HandoverWord] = Field(
        default_factory=lambda: list(DEFAULT_HANDOVER_WORDS), max_length=50
    )
    max_failed_turns: int = Field(default=2, ge=1, le=10)
    max_answer_chars: int = Field(default=600, ge=50, le=2000)

    def enabled_for(self, queue: str) -> bool:
        """Whether new conversations of ``queue`` talk to the bot first."""
        return queue in self.queues

    def asks_for_agent(self, text: str) -> bool:
        """Whether ``text`` asks for a person (one of the handover words, case ignored)."""
        folded = text.casefold()
        return any(word.casefold() in folded for word in self.handover_words)
