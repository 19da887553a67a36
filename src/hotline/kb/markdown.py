"""Articles are written in Markdown: headings, lists, emphasis, tables, links and images,
rendered to HTML on the server so every channel shows the same article.

The source text is what is stored, versioned and compared line by line; only reading turns it
into HTML. Raw HTML in the source is never passed through (markdown-it-py with ``html``
off escapes it, so ``<script>`` shows as text), links to ``javascript:`` and the like are
dropped by markdown-it's link check, and an image is shown only when it is one of the
knowledge base's own (``/api/kb/images/{id}``, uploaded by an author and type-checked): any
other picture is replaced by its alternative text, so an article never makes a reader's
browser fetch from elsewhere.

>>> render("**E4**: <script>x()</script>")
'<p><strong>E4</strong>: &lt;script&gt;x()&lt;/script&gt;</p>\\n'
>>> render("![panel](/api/kb/images/7) ![far](https://example.com/a.png)")
'<p><img src="/api/kb/images/7" alt="panel" /> far</p>\\n'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import escape

#: Where the knowledge base's own images are served; the only pictures an article shows.
IMAGE_PATH = "/api/kb/images/"
_OWN_IMAGE = re.compile(re.escape(IMAGE_PATH) + r"[1-9][0-9]{0,17}")


def image_source(image_id: int) -> str:
    """The address an article's Markdown uses for an uploaded image.

    >>> image_source(12)
    '/api/kb/images/12'
    """
    return f"{IMAGE_PATH}{image_id}"


def _image(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    if _OWN_IMAGE.fullmatch(str(token.attrGet("src") or "")):
        return str(RendererHTML.image(self, tokens, idx, options, env))
    return str(escape(self.renderInlineAsText(token.children or [], options, env)))


def _parser() -> MarkdownIt:
    # ``breaks``: a single line break stays a line break, as in the plain-text articles
    # written before Markdown (one step per line).
    parser = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(
        ["table", "strikethrough"]
    )
    parser.add_render_rule("image", _image)
    return parser


_PARSER = _parser()


def render(source: str) -> str:
    """An article's Markdown as safe HTML (raw HTML escaped, foreign images left out).

    >>> render("1. 断电\\n2. 清洗滤网")
    '<ol>\\n<li>断电</li>\\n<li>清洗滤网</li>\\n</ol>\\n'
    """
    html: Any = _PARSER.render(source)
    return str(html)
