"""Articles in Markdown with images: an author uploads a picture (type, content and size
checked, audited), the article references it, every signed-in role reads the rendered
article and loads the picture; the preview renders what the page will show; raw HTML stays
text."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from hotline.core.files import PNG_MAGIC
from tests.integration.servicedesk.test_sd_kb_authoring_api import _publish

Auth = Callable[[str], dict[str, str]]
PNG = PNG_MAGIC + b"\x00\x00\x00\rIHDR" + bytes(64)


def test_an_uploaded_image_is_shown_in_the_published_article(
    desk_client: TestClient, auth: Auth
) -> None:
    uploaded = desk_client.post(
        "/api/kb/images", files={"file": ("面板.png", PNG, "image/png")}, headers=auth("agent")
    )
    assert uploaded.status_code == 201, uploaded.text
    image = uploaded.json()
    assert image["markdown"] == f"![面板]({image['url']})"
    body = f"## 面板指示灯\n\n{image['markdown']}\n\n<script>alert(1)</script>"
    article = _publish(desk_client, auth, title="热水器面板说明", body=body)

    read = desk_client.get(f"/api/kb/articles/{article}", headers=auth("provider")).json()
    assert read["body"] == body  # the source as written: what versions compare
    assert "<h2>面板指示灯</h2>" in read["html"]
    assert f'<img src="{image["url"]}" alt="面板" />' in read["html"]
    assert "&lt;script&gt;" in read["html"] and "<script" not in read["html"]

    shown = desk_client.get(image["url"], headers=auth("settlement"))
    assert shown.status_code == 200
    assert shown.content == PNG and shown.headers["content-type"] == "image/png"
    assert desk_client.get(image["url"]).status_code == 401
    assert desk_client.get("/api/kb/images/999999", headers=auth("agent")).status_code == 404


def test_an_image_that_is_not_one_is_refused_at_the_file_field(
    desk_client: TestClient, auth: Auth
) -> None:
    disguised = desk_client.post(
        "/api/kb/images", files={"file": ("x.png", b"MZ\x90\x00", "image/png")}, headers=auth("qa")
    )
    assert disguised.status_code == 422
    assert disguised.json()["problems"][0]["field"] == "file"
    assert "not image/png" in disguised.text
    pdf = desk_client.post(
        "/api/kb/images",
        files={"file": ("a.pdf", b"%PDF-1.4", "application/pdf")},
        headers=auth("qa"),
    )
    assert pdf.status_code == 422 and "application/pdf are not accepted" in pdf.text
    reader = desk_client.post(
        "/api/kb/images", files={"file": ("a.png", PNG, "image/png")}, headers=auth("wfm")
    )
    assert reader.status_code == 403


def test_the_preview_renders_markdown_for_authors(desk_client: TestClient, auth: Auth) -> None:
    shown = desk_client.post(
        "/api/kb/preview", json={"body": "- **断电**\n- 清洗"}, headers=auth("agent")
    )
    assert shown.json() == {"html": "<ul>\n<li><strong>断电</strong></li>\n<li>清洗</li>\n</ul>\n"}
    assert (
        desk_client.post("/api/kb/preview", json={"body": "x"}, headers=auth("wfm")).status_code
        == 403
    )
