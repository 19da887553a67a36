"""The ``surveys.send`` rule: located errors in the center file, and its decisions (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from hotline.config.surveys import SurveySendRule
from hotline.config.validate import check_text
from hotline.surveys.sending import Occasion, decide

RULE = SurveySendRule(
    after_tickets=["repair", "installation"],
    after_contacts=["voice"],
    wait_minutes=30,
    once_per_days=30,
    base_url="https://cc.example.com",
)
ENDED = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
LATER = ENDED + timedelta(minutes=31)
REPAIR = Occasion("ticket:T1", "ticket", "repair", ENDED, 7, email="li@example.com",
                  mobile="+8613800138000")  # fmt: skip


def act(occasion: Occasion, now: datetime = LATER, *, sms: bool = True, mail: bool = True) -> str:
    return decide(RULE, occasion, now=now, sms_gateway=sms, mailbox=mail).action


def test_the_link_waits_its_minutes_then_goes_by_email_first() -> None:
    assert act(REPAIR, ENDED + timedelta(minutes=29)) == "wait"
    assert act(REPAIR) == "email"


def test_sms_when_there_is_no_address_or_no_mailbox_and_a_gateway() -> None:
    texted = replace(REPAIR, email=None)
    assert act(texted) == "sms"
    assert act(REPAIR, mail=False) == "sms"
    no_gateway = decide(RULE, texted, now=LATER, sms_gateway=False, mailbox=True)
    assert (no_gateway.action, no_gateway.reason) == (
        "skip",
        "no e-mail address or mobile number the center can reach",
    )


def test_a_do_not_call_number_gets_no_sms_but_an_address_still_gets_mail() -> None:
    listed = replace(REPAIR, email=None, do_not_call=True)
    decision = decide(RULE, listed, now=LATER, sms_gateway=True, mailbox=True)
    assert (decision.action, decision.reason) == (
        "skip",
        "the mobile number is on a do-not-call list",
    )
    assert act(replace(listed, email="li@example.com")) == "email"


def test_one_invitation_per_customer_per_period() -> None:
    recent = replace(REPAIR, last_invited=LATER - timedelta(days=29))
    assert decide(RULE, recent, now=LATER, sms_gateway=True, mailbox=True).reason == (
        "invited in the last 30 days"
    )
    assert act(replace(REPAIR, last_invited=LATER - timedelta(days=30))) == "email"


@pytest.mark.parametrize(
    ("occasion", "reason"),
    [
        (replace(REPAIR, what="inquiry"), "the rule sends nothing after a ticket inquiry"),
        (
            replace(REPAIR, kind="contact", what="chat"),
            "the rule sends nothing after a contact chat",
        ),
        (replace(REPAIR, customer_id=None), "no known customer"),
        (
            replace(REPAIR, kind="contact", what="voice", answered_in_channel=True),
            "answered the survey in the contact itself",
        ),
    ],
)
def test_what_the_rule_leaves_alone(occasion: Occasion, reason: str) -> None:
    decision = decide(RULE, occasion, now=LATER, sms_gateway=True, mailbox=True)
    assert (decision.action, decision.reason) == ("skip", reason)


CENTER = """\
center: {name: VoC}
surveys:
  definitions:
    - id: after
      name: 回访
      questions:
        - {id: overall, kind: csat, text: {zh-CN: 满意吗, en: Satisfied}}
  send:
    after_tickets: [repair, teleport]
    wait_minutes: -5
    survey: nowhere
    base_url: cc.example.com
"""


def test_the_rule_is_checked_with_located_errors() -> None:
    found = {(p.line, p.field): p.rule for p in check_text(CENTER, file="center.yaml").errors}
    assert set(found) == {
        (9, "surveys.send.after_tickets[1]"),
        (10, "surveys.send.wait_minutes"),
        (12, "surveys.send.base_url"),
    }
    assert "'repair'" in found[(9, "surveys.send.after_tickets[1]")]
    fixed = CENTER.replace(", teleport", "").replace("-5", "5").replace("cc.", "https://cc.")
    found = {(p.line, p.field): p.rule for p in check_text(fixed, file="center.yaml").errors}
    assert found == {(11, "surveys.send.survey"): "unknown survey 'nowhere' (defined: after)"}
    nothing = fixed.replace("    after_tickets: [repair]\n", "").replace(
        "    survey: nowhere\n", ""
    )
    rules = [p.rule for p in check_text(nothing, file="center.yaml").errors]
    assert any("after_tickets or after_contacts" in r for r in rules), rules
