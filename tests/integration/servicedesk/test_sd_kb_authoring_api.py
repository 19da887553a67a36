"""The knowledge pages' API: highlighted search with filters, the authors' list, versions,
comparison, and the refusals the editor shows at their field."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

Auth = Callable[[str], dict[str, str]]


def _publish(client: TestClient, auth: Auth, **article: object) -> int:
    created = client.post("/api/kb/articles", json=article, headers=auth("agent"))
    assert created.status_code == 201, created.text
    url = f"/api/kb/articles/{created.json()['id']}"
    assert client.post(f"{url}/submit", headers=auth("agent")).status_code == 200
    assert (
        client.post(f"{url}/review", json={"approve": True}, headers=auth("qa")).status_code == 200
    )
    return int(created.json()["id"])


def test_search_marks_matches_and_filters_by_category_and_tag(
    desk_client: TestClient, auth: Auth
) -> None:
    aircon = _publish(
        desk_client,
        auth,
        title="空調不製冷怎么办",
        body="第一步：关闭电源。\n第二步：清洗滤网，检查空调外机。",
        category="空调",
        tags=["制冷", "家用"],
    )
    heater = _publish(
        desk_client, auth, title="热水器不制冷？", body="热水器不会制冷。", category="热水器"
    )
    hits = desk_client.get(
        "/api/kb/search", params={"q": "空调 滤网"}, headers=auth("provider")
    ).json()
    top = hits[0]
    assert top["article_id"] == aircon
    assert [top["title"][s:e] for s, e in top["title_marks"]] == ["空調"]
    assert top["snippet"].startswith("第二步") and top["cut_before"]
    assert {top["snippet"][s:e] for s, e in top["snippet_marks"]} == {"滤网", "空调"}

    both = desk_client.get("/api/kb/search", params={"q": "不制冷"}, headers=auth("agent")).json()
    assert {h["article_id"] for h in both} == {aircon, heater}
    in_category = desk_client.get(
        "/api/kb/search", params={"q": "不制冷", "category": "热水器"}, headers=auth("agent")
    ).json()
    assert [h["article_id"] for h in in_category] == [heater]
    tagged = desk_client.get(
        "/api/kb/search", params={"q": "不制冷", "tag": "家用"}, headers=auth("agent")
    ).json()
    assert [h["article_id"] for h in tagged] == [aircon]
    assert desk_client.get("/api/kb/categories", headers=auth("settlement")).json() == [
        "热水器",
        "空调",
    ]


def test_versions_comparison_and_the_review_queue(desk_client: TestClient, auth: Auth) -> None:
    article = _publish(desk_client, auth, title="洗衣机E21", body="检查排水管\n清理过滤器")
    url = f"/api/kb/articles/{article}"
    assert desk_client.get(url, headers=auth("wfm")).status_code == 200
    desk_client.post(f"{url}/feedback", json={"helpful": False}, headers=auth("wfm"))
    edited = desk_client.post(
        f"{url}/versions",
        json={"body": "检查排水管\n清理排水泵过滤器\n重新启动", "note": "补充步骤"},
        headers=auth("team_lead"),
    )
    assert edited.status_code == 201, edited.text
    assert desk_client.post(f"{url}/submit", headers=auth("team_lead")).status_code == 200

    queue = desk_client.get(
        "/api/kb/articles", params={"state": "review"}, headers=auth("qa")
    ).json()
    assert [(a["id"], a["current_version"], a["published_version"]) for a in queue] == [
        (article, 2, 1)
    ]
    usage = (queue[0]["views"], queue[0]["uses"], queue[0]["helpful_yes"], queue[0]["helpful_no"])
    assert usage == (1, 0, 0, 1)
    assert (
        desk_client.get("/api/kb/articles", params={"state": "draft"}, headers=auth("qa")).json()
        == []
    )

    history = desk_client.get(f"{url}/versions", headers=auth("agent")).json()
    assert [(v["version"], v["author"], v["note"]) for v in history["versions"]] == [
        (1, "agent", ""),
        (2, "team_lead", "补充步骤"),
    ]
    assert history["state"] == "review" and history["author"] == "agent"

    diff = desk_client.get(f"{url}/compare", params={"base": 1, "other": 2}, headers=auth("qa"))
    assert [(x["change"], x["text"]) for x in diff.json()["lines"]] == [
        ("same", "检查排水管"),
        ("removed", "清理过滤器"),
        ("added", "清理排水泵过滤器"),
        ("added", "重新启动"),
    ]
    same = desk_client.get(f"{url}/compare", params={"base": 2, "other": 2}, headers=auth("qa"))
    assert same.status_code == 422 and same.json()["problems"][0]["field"] == "query.other"
    missing = desk_client.get(f"{url}/compare", params={"base": 1, "other": 9}, headers=auth("qa"))
    assert missing.status_code == 404
    # Readers who do not write see the published text only, not drafts and history.
    assert desk_client.get(f"{url}/versions", headers=auth("wfm")).status_code == 403


def test_the_editor_gets_each_refusal_at_its_field(desk_client: TestClient, auth: Auth) -> None:
    refused = desk_client.post(
        "/api/kb/articles",
        json={
            "title": "",
            "body": "x",
            "valid_from": "2026-12-01T00:00:00Z",
            "valid_until": "2026-11-01T00:00:00Z",
        },
        headers=auth("agent"),
    )
    assert refused.status_code == 422
    fields = {p["field"]: p["problem"] for p in refused.json()["problems"]}
    assert set(fields) == {"body.title", "body.valid_until"}
    assert "after valid_from" in fields["body.valid_until"]


def test_related_articles_by_title_then_by_category(desk_client: TestClient, auth: Auth) -> None:
    fault = _publish(desk_client, auth, title="空调不制冷", body="检查滤网。", category="空调")
    similar = _publish(desk_client, auth, title="空调不制冷的原因", body="缺氟。", category="其他")
    cleaning = _publish(desk_client, auth, title="滤网清洗方法", body="拆下面板。", category="空调")
    _publish(desk_client, auth, title="洗衣机漏水", body="检查门封。", category="洗衣机")
    draft = desk_client.post(
        "/api/kb/articles",
        json={"title": "空调不制冷草稿", "body": "未发布", "category": "空调"},
        headers=auth("agent"),
    )
    assert draft.status_code == 201
    related = desk_client.get(f"/api/kb/articles/{fault}/related", headers=auth("wfm")).json()
    # Found by the title first (another category), then the rest of its own category; never
    # itself, another category's unrelated article, or a draft.
    assert [r["article_id"] for r in related] == [similar, cleaning]
    missing = desk_client.get("/api/kb/articles/999/related", headers=auth("wfm"))
    assert missing.status_code == 404
