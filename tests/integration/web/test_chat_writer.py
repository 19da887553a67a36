"""The chat relay's writes wait for SQLite's writer queue on the event loop, not in a thread.

A writer that waited for its turn in a worker thread could hold the very thread the turn's
holder needed to finish its transaction: with thirty chats starting at once (bench/chat.py)
the server's default thread pool filled with chats waiting for their turn while the holder
waited for a thread, and nothing moved again. Here the pool has one thread and the turn is
held by a writer that needs that thread to commit: the relay's batch must still be written.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import select

from hotline.channels.chat import service
from hotline.channels.chat.conversation import CustomerWrote
from hotline.config.chat import ChatSettings
from hotline.config.validate import load_center
from hotline.live.driver import LiveDriver
from hotline.store.db import make_engine, make_session_factory, writing, writing_async
from hotline.store.migrate import upgrade
from hotline.store.models.chat import ChatMessage
from hotline.web.chat_relay import ChatRelay, Outbox
from tests.integration.live.conftest import SAMPLE


def test_a_batch_waiting_for_the_writer_turn_holds_no_thread(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    with writing(factory()) as session:
        service.open_conversation(
            session=session,
            conversation_id="c1",
            queue="chat",
            pre_chat=service.PreChat(name="王", topic="漏水", phone="13800138000"),
            started_at=0.0,
            origin=None,
            address=None,
        )
        session.commit()

    async def scenario() -> None:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=1))
        driver = LiveDriver(center=load_center(SAMPLE), honour_hours=False)
        relay = ChatRelay(driver=driver, session_factory=factory, settings=ChatSettings)
        live = await relay.get("c1")
        relay.apply(
            live, CustomerWrote(at=1.0, text="在吗", client_id="k1"), sender=Outbox(who="c")
        )
        holder = factory()
        await writing_async(holder)  # the turn is taken; committing needs the one thread
        flushing = asyncio.create_task(relay.flush())
        await asyncio.sleep(0.2)  # the relay's batch is now waiting for its turn
        await asyncio.wait_for(asyncio.to_thread(holder.commit), timeout=10)
        holder.close()
        await asyncio.wait_for(flushing, timeout=10)

    asyncio.run(scenario())
    with factory() as session:
        assert session.scalars(select(ChatMessage.body)).all() == ["在吗"]
    engine.dispose()
