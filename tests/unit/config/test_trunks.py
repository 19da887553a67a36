"""Trunks by site in the center file: which trunk a call out leaves by (the pure choice), the
number rewritten for the carrier, and each broken rule located at its line."""

from __future__ import annotations

from hotline.config.trunks import NumberRewrite, Trunk, choose_trunk
from hotline.config.validate import check_text

HEFEI = Trunk(
    id="hefei-ct",
    uri="sip:{number}@10.1.0.1:5060",
    site="hefei",
    caller_id="055163360000",
    rewrite=[
        NumberRewrite(starts_with="+86", replace_with="0"),
        NumberRewrite(starts_with="0551", replace_with=""),
    ],
)
CHENGDU = Trunk(id="chengdu-cu", uri="sips:{number}@10.2.0.1", site="chengdu")
DEFAULT = Trunk(id="main", uri="sip:{number}@10.0.0.1")
OVERRIDE = "sip:{number}@127.0.0.1:5070"


def test_the_sites_trunk_then_the_centers_default_then_the_servers_trunk() -> None:
    trunks = [HEFEI, CHENGDU, DEFAULT]
    chosen = [
        choose_trunk(trunks, site=site, fallback=OVERRIDE).trunk_id  # type: ignore[union-attr]
        for site in ("hefei", "chengdu", "wuhan", None)
    ]
    assert chosen == ["hefei-ct", "chengdu-cu", "main", "main"]
    # Without a default the server's --trunk carries what no site's trunk does.
    fallback = choose_trunk([HEFEI], site="chengdu", fallback=OVERRIDE)
    assert fallback is not None
    assert (fallback.trunk_id, fallback.contact("13800000000")) == (
        "--trunk",
        "sip:13800000000@127.0.0.1:5070",
    )
    assert choose_trunk([HEFEI], site="chengdu", fallback=None) is None
    assert choose_trunk([], site=None, fallback=None) is None


def test_the_longest_rewrite_applies_and_the_caller_id_is_the_trunks() -> None:
    route = choose_trunk([HEFEI], site="hefei", fallback=None)
    assert route is not None
    assert route.contact("+8613800000000") == "sip:013800000000@10.1.0.1:5060"
    assert route.contact("055163361234") == "sip:63361234@10.1.0.1:5060"
    assert route.contact("02812345678") == "sip:02812345678@10.1.0.1:5060"  # no rule: as is
    assert route.caller("a001") == "055163360000"
    chengdu = choose_trunk([CHENGDU], site="chengdu", fallback=None)
    assert chengdu is not None and chengdu.caller("a021") == "a021"


CENTER = """\
center:
  name: Two sites
sites:
  - {id: hefei}
  - {id: chengdu}
trunks:
  - {id: hefei-ct, uri: 'sip:{number}@10.1.0.1', site: hefei}
  - {id: hefei-ct, uri: 'sip:{number}@10.1.0.2', site: wuhan}
  - {id: cd, uri: 'sip:{number}@10.2.0.1', site: chengdu}
  - {id: cd2, uri: 'sip:{number}@10.2.0.2', site: chengdu}
  - {id: main, uri: 'sip:{number}@10.0.0.1'}
  - {id: main2, uri: 'sip:{number}@10.0.0.2',
     rewrite: [{starts_with: '0', replace_with: ''}, {starts_with: '0', replace_with: '9'}]}
"""


def test_trunk_rules_are_located_errors() -> None:
    result = check_text(CENTER, file="center.yaml")
    found = sorted((p.line, p.field, p.rule) for p in result.errors)
    assert found == [
        (8, "trunks[1].id", "duplicate trunk 'hefei-ct'"),
        (8, "trunks[1].site", "unknown site 'wuhan' (defined: chengdu, hefei)"),
        (10, "trunks[3].site", "site 'chengdu' already has trunk 'cd': one trunk each"),
        (
            12,
            "trunks[5].site",
            "the center (no site: the default) already has trunk 'main': one trunk each",
        ),
        (
            13,
            "trunks[5].rewrite[1].starts_with",
            "a rewrite of numbers starting '0' is listed twice",
        ),
    ]


def test_a_trunk_uri_must_be_a_sip_template_naming_the_number() -> None:
    text = """\
center: {name: One site}
trunks:
  - {id: a, uri: 'tel:{number}'}
  - {id: b, uri: 'sip:10.0.0.1'}
  - {id: c, uri: 'sip:{number}@{host}'}
"""
    result = check_text(text, file="center.yaml")
    found = sorted((p.line, p.field) for p in result.errors)
    assert found == [(3, "trunks[0].uri"), (4, "trunks[1].uri"), (5, "trunks[2].uri")]
    rules = " | ".join(p.rule for p in result.errors)
    assert "is not a SIP URI" in rules and "does not name {number}" in rules
    assert "only {number} may be in braces" in rules


def test_transfer_numbers_are_regular_expressions_located_when_broken() -> None:
    text = """\
center: {name: One site}
transfer_numbers:
  - '1[3-9][0-9]{9}'
  - '0551[0-9'
"""
    result = check_text(text, file="center.yaml")
    assert [(p.line, p.field) for p in result.errors] == [(4, "transfer_numbers[1]")]
    assert "'0551[0-9' is not a regular expression" in result.errors[0].rule
    good = check_text(text.replace("'0551[0-9'", "'0551[0-9]{8}'"), file="center.yaml")
    assert good.ok and good.config is not None
    assert good.config.transfer_numbers == ["1[3-9][0-9]{9}", "0551[0-9]{8}"]
