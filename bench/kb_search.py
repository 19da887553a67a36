"""Benchmark: knowledge-base search over 50,000 articles — latency and recall at 5.

Generates N published articles (default 50,000; nine in ten Chinese, one in ten English)
about appliance faults — product, model, symptom, fault code, steps — each a unique
combination, stored through the same segmentation as :func:`hotline.kb.service.index_article`.
Then asks a labelled query set: for 300 articles drawn at random, a question written the way
a caller or agent would (traditional characters, colloquial order, extra words, English
paraphrase), whose one right answer is that article. Figures: p50 / p99 latency of
:func:`hotline.kb.service.search` and recall@5 (share of queries whose right article is in
the first five).

Peer, in the same run: the search a plain help desk has — ``LIKE '%word%'`` on title and
body for every space-separated query word, newest first — timed and scored the same way;
``speed_ratio`` = peer p99 ÷ Hotline p99. Targets: Hotline p99 < 50 ms, recall@5 reported.

SQLite always (database kept in ``var/bench/`` and reused); PostgreSQL too when
``HOTLINE_TEST_POSTGRES_URL`` is set. Prints one JSON line.

    .venv/bin/python bench/kb_search.py [--quick] [--articles N] [--queries N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import opencc
from sqlalchemy import Engine, or_, select, text
from sqlalchemy.orm import Session

from hotline.kb import service as kb
from hotline.kb.text import segment
from hotline.store.db import make_engine
from hotline.store.migrate import upgrade
from hotline.store.models.kb import KbVersion

ROOT = Path(__file__).resolve().parent.parent
PRODUCTS = {
    "燃气热水器": ("JSQ", "water heater"),
    "电热水器": ("DSZF", "electric water heater"),
    "空调": ("KFR", "air conditioner"),
    "洗衣机": ("XQG", "washing machine"),
    "冰箱": ("BCD", "refrigerator"),
    "油烟机": ("CXW", "range hood"),
    "燃气灶": ("JZT", "gas stove"),
    "净水器": ("RO", "water purifier"),
    "洗碗机": ("WQP", "dishwasher"),
    "电视": ("LED", "television"),
}
SYMPTOMS = {
    "不加热": "does not heat",
    "不制冷": "does not cool",
    "漏水": "leaks water",
    "噪音大": "is noisy",
    "无法开机": "will not power on",
    "不排水": "does not drain",
    "有异味": "smells bad",
    "频繁跳闸": "trips the breaker",
    "遥控器失灵": "remote control not working",
    "显示屏不亮": "display stays dark",
    "点火失败": "fails to ignite",
    "出水量小": "low water flow",
    "结冰": "ices up",
    "震动厉害": "vibrates heavily",
    "自动关机": "shuts down by itself",
    "WiFi连接失败": "cannot connect to WiFi",
}
STEPS = [
    "先关闭电源并等待五分钟后重新启动",
    "检查进水阀和过滤网是否堵塞",
    "确认电源插座电压稳定",
    "清洗滤网并检查排水管",
    "检查燃气阀门是否完全打开",
    "如仍无法解决请登记维修工单并预约上门",
    "保修期内免费更换配件，保修期外按价目表收费",
    "记录故障代码并告知客户预计上门时间",
]
STEPS_EN = [
    "Switch the unit off and wait five minutes before restarting",
    "Check that the inlet valve and filter are not blocked",
    "Make sure the socket voltage is stable",
    "If the problem remains, open a repair work order and book a visit",
]
COLLOQUIAL = (
    "我家的{p}{s}了怎么办",
    "{p} {m} {s}",
    "请问{m}型号{p}{s}如何处理",
    "{p}一直{s} 故障码{c}",
)


def article(n: int) -> dict[str, Any]:
    """The n-th generated article: a unique (product, model, symptom, code) combination."""
    products, symptoms = list(PRODUCTS), list(SYMPTOMS)
    product = products[n % len(products)]
    symptom = symptoms[(n // len(products)) % len(symptoms)]
    series = n // (len(products) * len(symptoms))
    prefix, product_en = PRODUCTS[product]
    model = f"{prefix}{20 + series % 300}-{series // 300 + 1}"
    code = f"E{(n * 7) % 97}"
    rng = random.Random(n)
    english = n % 10 == 9
    if english:
        title = f"{product_en.title()} {model} {SYMPTOMS[symptom]} (code {code})"
        body = ". ".join(rng.sample(STEPS_EN, 3)) + f". Fault code {code} on model {model}."
    else:
        title = f"{product}{model}{symptom}（故障代码{code}）处理方法"
        body = "。".join(rng.sample(STEPS, 4)) + f"。适用型号{model}，故障代码{code}。"
    return {
        "product": product,
        "product_en": product_en,
        "symptom": symptom,
        "model": model,
        "code": code,
        "english": english,
        "title": title,
        "body": body,
    }


def query_for(item: dict[str, Any], rng: random.Random, traditional: opencc.OpenCC) -> str:
    """A question whose right answer is ``item``, worded as a caller or agent would."""
    if item["english"]:
        return f"{item['model']} {item['product_en']} {SYMPTOMS[item['symptom']].split()[-1]}"
    template = rng.choice(COLLOQUIAL)
    question = template.format(
        p=item["product"], s=item["symptom"], m=item["model"], c=item["code"]
    )
    if "{m}" not in template:
        question += f" {item['model']}"
    return traditional.convert(question) if rng.random() < 0.3 else question


def load(engine: Engine, articles: int) -> None:
    """Bulk-insert published articles with their segmented search text."""
    raw = engine.raw_connection()
    mark = "?" if engine.dialect.name == "sqlite" else "%s"
    stamp = "2026-01-01 00:00:00.000000" + ("" if engine.dialect.name == "sqlite" else "+00:00")
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN")
        batch_articles, batch_versions, batch_search = [], [], []
        frequency: Counter[str] = Counter()
        for n in range(1, articles + 1):
            item = article(n)
            language = "en" if item["english"] else "zh-CN"
            tags = json.dumps([item["product"]], ensure_ascii=False)
            batch_articles.append(
                (n, "published", language, tags, 1, 1, "bench", "qa", stamp, stamp)
            )
            batch_versions.append((n, n, 1, item["title"], item["body"], "bench", "", stamp))
            # The same text index_article() stores: title with tags, then the body.
            title_terms = segment(item["title"] + " " + item["product"])
            body_terms = segment(item["body"])
            batch_search.append((n, title_terms, body_terms))
            frequency.update(
                {t[: kb.TERM_LENGTH] for t in (title_terms + " " + body_terms).split()}
            )
        frequency[kb.DOCUMENTS] = articles
        cursor.executemany(
            "INSERT INTO kb_articles (id, state, language, tags, current_version, "
            "published_version, author, reviewer, created_at, updated_at, views, uses, "
            f"helpful_yes, helpful_no) VALUES ({', '.join([mark] * 10)}, 0, 0, 0, 0)",
            batch_articles,
        )
        cursor.executemany(
            "INSERT INTO kb_versions (id, article_id, version, title, body, author, note, "
            f"created_at) VALUES ({', '.join([mark] * 8)})",
            batch_versions,
        )
        cursor.executemany(
            "INSERT INTO kb_search (article_id, title_terms, body_terms) "
            f"VALUES ({mark}, {mark}, {mark})",
            batch_search,
        )
        cursor.executemany(
            f"INSERT INTO kb_terms (term, documents) VALUES ({mark}, {mark})",
            list(frequency.items()),
        )
        raw.commit()
    finally:
        raw.close()
    with Session(engine) as session:
        if engine.dialect.name == "sqlite":
            kb.ensure_search_index(session)
        else:
            session.execute(
                text(
                    "UPDATE kb_search SET vector = "
                    "setweight(to_tsvector('simple', title_terms), 'A') || "
                    "setweight(to_tsvector('simple', body_terms), 'B')"
                )
            )
            session.execute(text("ANALYZE"))
        session.commit()


def like_search(session: Session, query: str, limit: int) -> list[int]:
    """The peer: every query word must appear in title or body (LIKE), newest first."""
    words = query.split()
    statement = select(KbVersion.article_id)
    for word in words:
        pattern = f"%{word}%"
        statement = statement.where(
            or_(KbVersion.title.like(pattern), KbVersion.body.like(pattern))
        )
    return list(session.scalars(statement.order_by(KbVersion.id.desc()).limit(limit)))


def percentile(samples: list[float], q: float) -> float:
    """The q-quantile (0–1) by nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def score(search: Callable[[str], list[int]], labelled: list[tuple[str, int]]) -> dict[str, float]:
    """Latency percentiles (ms) and recall@5 of ``search`` over the labelled queries."""
    latencies, hits = [], 0
    for query, answer in labelled:
        start = time.perf_counter()
        found = search(query)
        latencies.append((time.perf_counter() - start) * 1000)
        hits += answer in found[:5]
    return {
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "recall_at_5": round(hits / len(labelled), 3),
    }


def run_backend(engine: Engine, labelled: list[tuple[str, int]]) -> dict[str, Any]:
    """Score Hotline's search and the LIKE peer on one engine."""
    now = datetime.fromisoformat("2026-11-23T00:00:00+00:00")
    with Session(engine) as session:
        for query, _ in labelled[:20]:  # warm caches and compiled statements
            kb.search(session, query=query, now=now)
        ours = score(
            lambda q: [h.article_id for h in kb.search(session, query=q, now=now)], labelled
        )
        peer = score(lambda q: like_search(session, q, 5), labelled)
    return ours | {
        "target_met": ours["p99_ms"] < 50,
        "like_peer": peer,
        "speed_ratio": round(peer["p99_ms"] / ours["p99_ms"], 2) if ours["p99_ms"] else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 articles, 100 queries")
    parser.add_argument("--articles", type=int, default=None)
    parser.add_argument("--queries", type=int, default=None)
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args()
    articles = args.articles or (5_000 if args.quick else 50_000)
    queries = args.queries or (100 if args.quick else 300)
    rng = random.Random(args.seed)
    traditional = opencc.OpenCC("s2t")
    labelled = [
        (query_for(article(n), rng, traditional), n)
        for n in rng.sample(range(1, articles + 1), queries)
    ]
    result: dict[str, Any] = {
        "benchmark": "kb_search",
        "articles": articles,
        "queries": queries,
        "seed": args.seed,
        # Other work on the machine shows up in the tail latencies: say how busy it was.
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "examples": [q for q, _ in labelled[:3]],
    }
    # The stored database depends on this file, the migration and the segmentation rules.
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for part in ("store/migrations/versions/servicedesk_0001.py", "kb/text.py"):
        digest.update((ROOT / "src/hotline" / part).read_bytes())
    path = ROOT / "var" / "bench" / f"kb_search_{articles}_{digest.hexdigest()[:8]}.db"
    started = time.perf_counter()
    if not path.exists():
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{partial}")
        upgrade(engine)
        load(engine, articles)
        engine.dispose()
        partial.rename(path)
    engine = make_engine(f"sqlite:///{path}")
    result["sqlite"] = {"build_s": round(time.perf_counter() - started, 1)} | run_backend(
        engine, labelled
    )
    engine.dispose()
    url = os.environ.get("HOTLINE_TEST_POSTGRES_URL")
    if url:
        started = time.perf_counter()
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        upgrade(engine)
        load(engine, articles)
        result["postgresql"] = {"build_s": round(time.perf_counter() - started, 1)} | run_backend(
            engine, labelled
        )
        engine.dispose()
    else:
        result["postgresql"] = "skipped: HOTLINE_TEST_POSTGRES_URL is not set"
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
