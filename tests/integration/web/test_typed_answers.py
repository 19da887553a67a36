"""Answers that kept their exact JSON when they gained response models."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient


def test_the_apply_status_without_a_live_driver_keeps_its_fields_and_their_order(
    app_client: TestClient, token_for: Callable[[str], str]
) -> None:
    """Without a live driver the status has no ``waiting`` or ``whole`` (not even null);
    ``owner`` (true on a web node, whose saves the partition's owner takes up) comes last."""
    headers = {"Authorization": f"Bearer {token_for('admin')}"}
    response = app_client.get("/admin/center/status", headers=headers)
    assert response.status_code == 200, response.text
    assert response.content == (
        b'{"live":false,"pending":false,"applied_at":null,"saved":false,"owner":false}'
    )


def test_a_customer_contact_answers_its_moment_as_before(
    app_client: TestClient, token_for: Callable[[str], str]
) -> None:
    """A moment is written as the untyped answer wrote it (``…Z``), a whole id stays whole."""
    headers = {"Authorization": f"Bearer {token_for('agent')}"}
    created = app_client.post("/api/customers", json={"name": "王芳"}, headers=headers)
    assert created.status_code == 201, created.text
    customer = created.json()
    assert customer["possible_duplicates"] == [] and customer["merged_into_id"] is None
    contact = app_client.post(
        f"/api/customers/{customer['id']}/contacts", json={"channel": "voice"}, headers=headers
    )
    assert contact.status_code == 201, contact.text
    assert list(contact.json()) == ["id", "at"]
    assert contact.json()["at"].endswith("Z") and isinstance(contact.json()["id"], int)
