"""The bot's pure rules: retrieval and its confidence, the dialogue, and its settings."""

from __future__ import annotations

from hotline.bot.dialogue import (
    Article,
    BotState,
    CustomerSaid,
    Found,
    HandOver,
    LookUpTicket,
    Reply,
    Search,
    TicketFacts,
    TicketLookedUp,
    transition,
)
from hotline.bot.retrieval import Document, Index
from hotline.config.bot import BotSettings
from hotline.config.validate import check_text

SETTINGS = BotSettings(queues=["chat"], threshold=0.5, max_failed_turns=2)
NUMBER = "20261203000001"
E4 = Article(7, "热水器E4", "调低出水温度，清洗过滤网。", confidence=0.8)


def index() -> Index:
    return Index.build(
        [
            Document(1, ["热水", "水器", "e4"], ["热水", "水器", "超温", "过滤", "滤网"]),
            Document(2, ["空调", "不制", "制冷"], ["空调", "滤网", "清洗", "制冷"]),
            Document(3, ["water", "heater", "e4"], ["overheat", "filter", "water"]),
        ]
    )


def test_the_article_holding_the_questions_telling_words_ranks_first() -> None:
    found = index().best(["空调", "调不", "不制", "制冷"])
    assert found is not None and found.article_id == 2
    english = index().best(["my", "water", "heater", "shows", "e4"])
    assert english is not None and english.article_id == 3


def test_confidence_is_the_share_of_telling_weight_the_article_holds() -> None:
    built = index()
    # Fillers weigh nothing: the question is all about the heater's E4.
    assert built.confidence(["请问", "热水", "水器", "e4", "怎么", "么办"], 1) == 1.0
    # An English word no article holds is a topic the knowledge base lacks: it lowers the share.
    partly = built.confidence(["water", "heater", "e4", "kettle"], 3)
    assert 0.5 < partly < 1.0
    # A bigram across two words (水器 … 器显) weighs less than a missing English word.
    bigram = built.confidence(["热水", "水器", "器显", "e4"], 1)
    assert bigram > built.confidence(["water", "heater", "e4", "kettle", "descale"], 3)
    assert built.confidence(["请问"], 1) == 0.0
    assert built.best(["股票"]) is None


def test_a_question_is_searched_and_answered_above_the_threshold_only() -> None:
    state, effects = transition(BotState(), CustomerSaid("热水器E4"), settings=SETTINGS)
    assert effects == (Search("热水器E4"),)
    _, effects = transition(state, Found(E4), settings=SETTINGS)
    (reply,) = effects
    assert isinstance(reply, Reply) and reply.kind == "article" and reply.article_id == 7
    assert reply.text.startswith("热水器E4\n调低出水温度")
    unsure = Article(7, "热水器E4", "…", confidence=0.49)
    missed, effects = transition(state, Found(unsure), settings=SETTINGS)
    assert missed.failed_turns == 1 and effects[0] == Reply(effects[0].text, "miss")  # type: ignore[union-attr]


def test_a_long_article_is_quoted_up_to_the_limit() -> None:
    settings = SETTINGS.model_copy(update={"max_answer_chars": 50})
    long = Article(1, "标题", "很长的正文" * 40, confidence=1.0)
    state, _ = transition(BotState(language="en"), CustomerSaid("x"), settings=settings)
    _, (reply,) = transition(state, Found(long), settings=settings)
    assert isinstance(reply, Reply)
    body = reply.text.split("\n", 1)[1].split("\n\n")[0]
    assert len(body) == 50 and body.endswith("…")
    assert "agent" in reply.text  # the English closing line


def test_asking_for_a_person_hands_over_at_once_and_for_good() -> None:
    state, effects = transition(BotState(), CustomerSaid("帮我转人工"), settings=SETTINGS)
    assert effects == (HandOver("asked"),) and state.handed_over
    assert transition(state, CustomerSaid("热水器E4"), settings=SETTINGS) == (state, ())


def test_failed_turns_in_a_row_hand_over_and_an_answer_resets_the_count() -> None:
    state = BotState()
    state, _ = transition(state, CustomerSaid("a"), settings=SETTINGS)
    state, _ = transition(state, Found(None), settings=SETTINGS)
    state, _ = transition(state, CustomerSaid("b"), settings=SETTINGS)
    state, _ = transition(state, Found(E4), settings=SETTINGS)
    assert state.failed_turns == 0
    for text in ("c", "d"):
        state, _ = transition(state, CustomerSaid(text), settings=SETTINGS)
        state, effects = transition(state, Found(None), settings=SETTINGS)
    assert effects == (HandOver("failed_turns"),) and state.handed_over


def test_a_ticket_lookup_asks_for_the_number_then_the_phone() -> None:
    state, effects = transition(BotState(), CustomerSaid("我想查工单进度"), settings=SETTINGS)
    assert (
        isinstance(effects[0], Reply)
        and effects[0].kind == "prompt"
        and "工单号" in effects[0].text
    )
    state, effects = transition(state, CustomerSaid(NUMBER), settings=SETTINGS)
    assert isinstance(effects[0], Reply) and "手机" in effects[0].text
    state, effects = transition(state, CustomerSaid("138 0013 8000"), settings=SETTINGS)
    assert effects == (LookUpTicket(NUMBER, "13800138000"),)
    facts = TicketFacts(NUMBER, "dispatched", "空调安装", "2026-12-05 09:00", "2026-12-05 11:00")
    state, (reply,) = transition(state, TicketLookedUp(facts), settings=SETTINGS)
    assert isinstance(reply, Reply) and reply.kind == "ticket" and reply.ticket_number == NUMBER
    assert "已派单" in reply.text and "2026-12-05 09:00" in reply.text
    assert state.pending_number is None


def test_the_pre_chat_phone_is_used_and_a_wrong_one_reveals_nothing() -> None:
    state = BotState.start(language="en", phone="13800138000")
    state, effects = transition(
        state, CustomerSaid(f"status of ticket {NUMBER}?"), settings=SETTINGS
    )
    assert effects == (LookUpTicket(NUMBER, "13800138000"),)
    state, (reply,) = transition(state, TicketLookedUp(None), settings=SETTINGS)
    assert isinstance(reply, Reply) and reply.kind == "miss" and state.failed_turns == 1
    assert reply.text == f"I found no ticket {NUMBER} under that phone number; please check both."


def test_a_new_question_after_a_ticket_prompt_is_searched() -> None:
    state, _ = transition(BotState(), CustomerSaid("查工单"), settings=SETTINGS)
    _, effects = transition(state, CustomerSaid("空调不制冷"), settings=SETTINGS)
    assert effects == (Search("空调不制冷"),)


CENTER = """\
center:
  name: Bot hotline
queues:
  - {id: chat, name: Chat, channel: chat, target: {service_level: 0.8, threshold_s: 60}}
  - {id: voice, name: Voice, channel: voice, target: {service_level: 0.8, threshold_s: 20}}
bot:
  queues: [chat, voice, nowhere, chat]
  threshold: 1.5
  handover_words: [人工, " "]
"""


def test_the_center_file_names_each_bad_bot_setting_and_its_line() -> None:
    shapes = check_text(CENTER, file="center.yaml")
    assert {(p.line, p.field) for p in shapes.errors} == {
        (8, "bot.threshold"),
        (9, "bot.handover_words[1]"),
    }
    fixed = CENTER.replace("threshold: 1.5", "threshold: 0.5").replace(', " "]', "]")
    problems = check_text(fixed, file="center.yaml").errors
    assert [(p.line, p.field, p.rule) for p in problems] == [
        (7, "bot.queues[1]", "queue 'voice' takes voice contacts; the bot talks on chat queues"),
        (7, "bot.queues[2]", "queue 'nowhere' is not one of the center's queues"),
        (7, "bot.queues[3]", "queue 'chat' is named twice"),
    ]
