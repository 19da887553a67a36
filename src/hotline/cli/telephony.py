"""``hotline telephony``: voice prompts and the SIP/media voice server."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

telephony = typer.Typer(help="Voice: prompts, the SIP server with IVR, queues and recording.")
console = Console()


@telephony.command("prompts")
def prompts_command(
    out: Path = typer.Option(Path("var/prompts"), help="Folder for <language>/<prompt>.wav."),
    force: bool = typer.Option(False, help="Regenerate files that already exist."),
) -> None:
    """Generate zh-CN and en prompts (espeak-ng + sox, 8 kHz mono PCM) and music on hold."""
    from hotline.telephony.media import prompts

    jobs = [
        (language, prompt, text)
        for language, texts in prompts.PROMPT_TEXTS.items()
        for prompt, text in texts.items()
    ]
    with Progress(console=console) as progress:
        task = progress.add_task("prompts", total=len(jobs) + 1)
        for language, prompt, text in jobs:
            target = out / language / f"{prompt}.wav"
            if force or not target.exists():
                prompts.synthesize(text, language, target)
            progress.advance(task)
        moh = out / "common" / f"{prompts.MUSIC_ON_HOLD}.wav"
        if force or not moh.exists():
            prompts.music_on_hold(moh)
        progress.advance(task)
    table = Table("language", "prompts")
    for language in prompts.PROMPT_TEXTS:
        table.add_row(language, str(len(list((out / language).glob("*.wav")))))
    console.print(table)


@telephony.command("serve")
def serve_command(
    workdir: Path = typer.Option(Path("var/telephony"), help="Event log, recordings, rtpengine."),
    prompts: Path = typer.Option(
        Path("var/prompts"), help="Prompt folder (hotline telephony prompts)."
    ),
    phones: Path = typer.Option(..., help="YAML list of {agent, user, password} for agent phones."),
    sip: str = typer.Option("127.0.0.1:5060", help="SIP listen address host:port (UDP)."),
    sip_ws_port: int = typer.Option(
        0,
        help="Also take SIP over WebSocket (RFC 7118) on this TCP port of the --sip host, for "
        "the desk's browser softphone (0: none).",
    ),
    ng: str = typer.Option("127.0.0.1:22222", help="rtpengine ng control address host:port."),
    dtmf_port: int = typer.Option(22223, help="UDP port rtpengine sends DTMF events to."),
    spawn_rtpengine: bool = typer.Option(True, help="Start a userspace rtpengine of our own."),
    rtp_ports: str = typer.Option("30000-34999", help="RTP port range for the spawned rtpengine."),
    center: Path = typer.Option(
        None, help="Center configuration (queues, agents); default: the bundled sample."
    ),
    flow: Path = typer.Option(
        None,
        help="IVR flow YAML (hotline.config.flow schema); default: the center file's 'ivr' flows.",
    ),
    emergency_prompt: str = typer.Option("", help="Prompt id of an emergency announcement."),
    run_seconds: float = typer.Option(0.0, help="Stop after this many seconds (0: run forever)."),
    database_url: str = typer.Option(
        "",
        help="Also write the contact event log and recordings to this database "
        "(default: HOTLINE_DATABASE_URL / settings; none: JSON lines only).",
    ),
    recording_notice: str = typer.Option(
        "recording_notice",
        help="Prompt id played before callers join a queue ('this call may be recorded'); "
        "empty: none.",
    ),
    trunk: str = typer.Option(
        "",
        help="Outbound trunk URI template, e.g. 'sip:{number}@10.0.0.1:5060' (click-to-dial), "
        "used where the center file's trunks name none for the call's site and no default.",
    ),
    control_port: int = typer.Option(
        0, help="Local TCP port (127.0.0.1) taking JSON-line origination requests (0: none)."
    ),
    dialler: bool = typer.Option(
        False,
        help="Dial the running progressive and predictive campaigns of the database "
        "(needs --trunk and a database). On a voice node (--node-name) the node places the "
        "calls and the partition owner's engine lends the agents.",
    ),
    dial_ring_timeout: float = typer.Option(
        25.0, help="The dialler gives up a customer's call ringing this long (s): no answer."
    ),
    max_setup_backlog: int = typer.Option(
        25,
        help="Overload control: refuse new calls with 503 + Retry-After while this many "
        "callers wait for their answer.",
    ),
    max_setup_ms: float = typer.Option(
        200.0,
        help="Overload control: refuse new calls while the oldest unanswered caller has "
        "waited this long (ms).",
    ),
    max_lag_ms: float = typer.Option(
        100.0,
        help="Overload control: refuse new calls while the SIP thread, the media server or "
        "the event loop runs this late (ms).",
    ),
    retry_after: int = typer.Option(5, help="Overload control: Retry-After (s) on a 503."),
    node_name: str = typer.Option(
        "",
        help="Run as one of a partition's voice nodes under this name (with --partition and a "
        "database): a heartbeat and the contacts it carries are recorded, so the partition's "
        "owner (`hotline node`) ends its calls and frees its agents if it dies.",
    ),
    partition: str = typer.Option("", help="With --node-name: the site whose owner it reports to."),
    heartbeat_s: float = typer.Option(
        3.0, help="With --node-name: the node counts as lost this long after its last heartbeat."
    ),
    requests_keep_s: float = typer.Option(
        86400.0,
        help="With --node-name: desks' dial and transfer requests answered longer ago than "
        "this (s, at least 60) are deleted; each is in the audit log.",
    ),
    verbose: bool = typer.Option(False, help="Debug logging (SIP messages)."),
) -> None:
    """Run the voice server: registrar, B2BUA, IVR, queue with music, agents, recording."""
    from hotline.config.validate import load_center
    from hotline.core.heap import freeze_startup_heap
    from hotline.core.settings import load_settings
    from hotline.telephony.overload import OverloadBounds
    from hotline.telephony.server import (
        SAMPLE_CENTER,
        ServerOptions,
        ivr_options,
        load_phones,
        network_options,
        serve,
        websocket_port,
    )
    from hotline.telephony.voice_node import VoiceNodeOptions

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO)
    center_config = load_center(center or SAMPLE_CENTER)
    menus = ivr_options(flow, center_config)
    try:
        overload = OverloadBounds(
            max_setup_backlog=max_setup_backlog,
            max_setup_age_s=max_setup_ms / 1000,
            max_sip_lag_s=max_lag_ms / 1000,
            max_media_delay_s=max_lag_ms / 1000,
            max_loop_lag_s=max_lag_ms / 1000,
            retry_after_s=retry_after,
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    database = database_url or load_settings().database_url or None
    if dialler and (not (trunk or menus.get("trunks")) or not database):
        raise typer.BadParameter(
            "--dialler needs a trunk (--trunk or the center file's trunks) and a database "
            "(--database-url)"
        )
    if dial_ring_timeout <= 0:
        raise typer.BadParameter(f"--dial-ring-timeout must be above 0, not {dial_ring_timeout}")
    voice_node = None
    if node_name or partition:
        try:
            voice_node = VoiceNodeOptions(
                node_name, partition, heartbeat_s=heartbeat_s, requests_keep_s=requests_keep_s
            )
        except ValueError as error:
            raise typer.BadParameter(str(error)) from error
        sites = [site.id for site in center_config.sites]
        if partition not in sites:
            raise typer.BadParameter(
                f"--partition {partition!r} is not a site of the center ({', '.join(sites)})"
            )
        if not database:
            raise typer.BadParameter("--node-name needs a database (--database-url)")
    if emergency_prompt:
        menus["emergency_prompt"] = emergency_prompt
    try:
        ws_port = websocket_port(sip_ws_port)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    options = ServerOptions(
        ws_port=ws_port,
        workdir=workdir,
        prompts=prompts,
        phones=load_phones(phones),
        dtmf_port=dtmf_port,
        spawn_rtpengine=spawn_rtpengine,
        center=center,
        run_seconds=run_seconds or None,
        database_url=database,
        recording_notice=recording_notice or None,
        trunk=trunk or None,
        control_port=control_port or None,
        overload=overload,
        dialler=dialler,
        dial_ring_timeout_s=dial_ring_timeout,
        voice_node=voice_node,
        **network_options(sip=sip, ng=ng, rtp_ports=rtp_ports),
        **menus,
    )
    # start-up is done: keep its objects out of the collector's full scans, whose pauses
    # stop the SIP thread and the event loop (hotline.core.heap)
    freeze_startup_heap()
    asyncio.run(serve(options))


def register(app: typer.Typer) -> None:
    """Add the ``telephony`` command group."""
    app.add_typer(telephony, name="telephony")
