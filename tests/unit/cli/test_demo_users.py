"""The demo's sign-ins: one per role, the first agents, the first provider's staff."""

from __future__ import annotations

from hotline.cli.demo import demo_users
from hotline.cli.platform import SAMPLE_CENTER
from hotline.config.validate import load_center
from hotline.identity.roles import ALL_ROLES


def test_every_role_has_a_demo_sign_in() -> None:
    center = load_center(SAMPLE_CENTER)
    users = demo_users([a.id for a in center.agents], "a001", center.service_providers[0].staff)
    assert {role for _, roles, _ in users for role in roles} == set(ALL_ROLES)
    assert ("anjia1", ["provider"], None) in users
