"""Platform commands: ``init``, ``serve``, ``config validate``, ``users``, ``audit``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NoReturn

import typer
import yaml
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import check_file, load_center
from hotline.core.errors import Conflict, NotFound, ValidationFailed
from hotline.core.settings import load_settings
from hotline.identity import audit
from hotline.identity import service as identity
from hotline.identity.scope import team_lead_problem
from hotline.store.db import make_engine, make_session_factory, session_scope
from hotline.store.migrate import upgrade

SAMPLE_CENTER = (
    Path(__file__).resolve().parent.parent / "config" / "samples" / "appliance_center.yaml"
)

console = Console()
error_console = Console(stderr=True)

config_app = typer.Typer(help="Check and inspect center configuration files.", no_args_is_help=True)
users_app = typer.Typer(help="Manage user accounts and roles.", no_args_is_help=True)


def _sessions() -> tuple[Engine, sessionmaker[Session]]:
    """The engine and a session factory for the configured database."""
    settings = load_settings()
    engine = make_engine(settings.resolved_database_url())
    return engine, make_session_factory(engine)


@config_app.command("validate")
def config_validate(
    file: Path = typer.Argument(..., help="Center configuration file (YAML)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only problems."),
) -> None:
    """Check a center configuration; print every problem with file, line and rule."""
    result = check_file(file)
    for problem in result.errors:
        error_console.print(f"[red]error[/red] {problem}", highlight=False, soft_wrap=True)
    for problem in result.warnings:
        error_console.print(f"[yellow]warning[/yellow] {problem}", highlight=False, soft_wrap=True)
    if not result.ok or result.config is None:
        error_console.print(
            f"{file}: {len(result.errors)} error(s); the configuration is not valid"
        )
        raise typer.Exit(1)
    if not quiet:
        center = result.config
        console.print(
            f"{file}: valid — {len(center.queues)} queues, {len(center.skills)} skills, "
            f"{len(center.teams)} teams, {len(center.agents)} agents, "
            f"{len(result.warnings)} warning(s)",
            highlight=False,
        )


@config_app.command("sample-path")
def config_sample_path() -> None:
    """Print the path of the bundled sample configuration (an appliance maker's hotline)."""
    console.print(str(SAMPLE_CENTER), highlight=False, soft_wrap=True)


def center_path(home: Path, explicit: Path | None) -> Path:
    """The center configuration a server starts with.

    An explicit ``--center`` wins; else the configuration an administrator saved from the
    admin page (``<home>/center.yaml``); else the bundled sample.
    """
    if explicit is not None:
        return explicit
    saved = Path(home) / "center.yaml"
    return saved if saved.exists() else SAMPLE_CENTER


def register(app: typer.Typer) -> None:
    """Add the platform commands to the ``hotline`` command."""
    app.add_typer(config_app, name="config")
    app.add_typer(users_app, name="users")
    app.command("init")(init)
    app.command("serve")(serve)
    app.command("audit")(show_audit)


def init(
    admin_password: str = typer.Option(
        None,
        "--admin-password",
        envvar="HOTLINE_ADMIN_PASSWORD",
        help="Password of the 'admin' user (asked for when not given).",
    ),
    admin_username: str = typer.Option("admin", "--admin-username", help="Admin user name."),
) -> None:
    """Create or upgrade the database schema and make sure an admin user exists."""
    settings = load_settings()
    engine, factory = _sessions()
    upgrade(engine)
    with session_scope(factory) as session:
        if identity.get_user(session, username=admin_username) is None:
            password = admin_password or typer.prompt(
                "Admin password", hide_input=True, confirmation_prompt=True
            )
            try:
                identity.create_user(
                    session,
                    username=admin_username,
                    password=password,
                    roles=["admin"],
                    actor="hotline init",
                )
            except (ValueError, ValidationFailed) as error:
                error_console.print(f"[red]error[/red] admin password refused: {error}")
                raise typer.Exit(1) from error
            console.print(f"created admin user {admin_username!r}")
        else:
            console.print(f"admin user {admin_username!r} already exists")
    console.print(
        f"database ready: {engine.url.render_as_string(hide_password=True)}", highlight=False
    )
    del settings


@users_app.command("add")
def users_add(
    username: str = typer.Argument(..., help="Login name."),
    roles: str = typer.Option(
        ..., "--roles", help="Comma-separated roles, e.g. agent or supervisor,qa."
    ),
    password: str = typer.Option(
        ...,
        "--password",
        prompt=True,
        hide_input=True,
        help="Password: 10+ characters, not the user name, not a common or guessable one.",
    ),
    agent_id: str | None = typer.Option(
        None, "--agent-id", help="The agent this user signs in as."
    ),
    language: str = typer.Option("zh-CN", "--language", help="zh-CN or en."),
) -> None:
    """Create a user with roles.

    A team lead's ``--agent-id`` must be the lead of a team (``teams[].lead``) in the center
    configuration the server starts with: that is how they see their own team's agents.
    """
    held = [r.strip() for r in roles.split(",") if r.strip()]
    if "team_lead" in held:
        path = center_path(Path(load_settings().home), None)
        try:
            center = load_center(path)
        except ValidationFailed as failed:
            error_console.print(f"[red]error[/red] {path}: {failed}")
            raise typer.Exit(1) from failed
        teams = {team.id: team.lead for team in center.teams}
        problem = team_lead_problem(held, agent_id, teams=teams)
        if problem is not None:
            error_console.print(f"[red]error[/red] --agent-id: {problem}")
            raise typer.Exit(1)
    _, factory = _sessions()
    try:
        with session_scope(factory) as session:
            identity.create_user(
                session,
                username=username,
                password=password,
                roles=held,
                agent_id=agent_id,
                language=language,
                actor=os.environ.get("USER", "cli"),
            )
    except (ValueError, Conflict, ValidationFailed) as error:
        error_console.print(f"[red]error[/red] {error}")
        raise typer.Exit(1) from error
    console.print(f"created user {username!r}")


@users_app.command("password")
def users_password(
    username: str = typer.Argument(..., help="Login name."),
    password: str = typer.Option(
        ...,
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="New password: 10+ characters, not the user name, not a common or guessable one.",
    ),
) -> None:
    """Set a user's password (the policy applies); every session they hold ends."""
    _, factory = _sessions()
    try:
        with session_scope(factory) as session:
            identity.set_password(
                session,
                username=username,
                password=password,
                actor=os.environ.get("USER", "cli"),
            )
    except (NotFound, ValidationFailed) as error:
        error_console.print(f"[red]error[/red] {error}")
        raise typer.Exit(1) from error
    console.print(f"password of {username!r} changed; their sessions were ended")


@users_app.command("list")
def users_list() -> None:
    """List users and their roles."""
    from sqlalchemy import select

    from hotline.store.models.core import User

    _, factory = _sessions()
    table = Table("username", "roles", "agent", "language", "active")
    with session_scope(factory) as session:
        for user in session.scalars(select(User).order_by(User.username)):
            table.add_row(
                user.username,
                ",".join(user.roles),
                user.agent_id or "",
                user.language,
                str(user.active),
            )
    console.print(table)


def show_audit(
    limit: int = typer.Option(30, "--limit", help="How many entries, newest first."),
) -> None:
    """Show the audit log: who did what, when."""
    _, factory = _sessions()
    table = Table("at", "actor", "action", "target")
    with session_scope(factory) as session:
        for entry in audit.newest(session, limit=limit):
            table.add_row(
                entry.at.isoformat(timespec="seconds"), entry.actor, entry.action, entry.target
            )
    console.print(table)


def _live_voice(
    driver: Any,
    *,
    home: Path,
    sip: str,
    sip_ws_port: int = 0,
    phones: Path | None,
    prompts: Path,
    trunk: str,
    ng: str,
    dtmf_port: int,
    rtp_ports: str,
    flow: Path | None,
    timezone: str,
    recording_notice: str,
) -> Any:
    """The voice server for ``serve --sip``, checked before anything starts."""
    from hotline.telephony.joined import LiveVoice
    from hotline.telephony.server import (
        ServerOptions,
        ivr_options,
        load_phones,
        network_options,
        websocket_port,
    )

    def fail(message: str) -> NoReturn:
        error_console.print(f"[red]error[/red] {message}")
        raise typer.Exit(1)

    if phones is None:
        fail("--sip needs --phones FILE (the agents' phone credentials)")
    try:
        phone_list = load_phones(phones)
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError) as error:
        fail(f"{phones}: not a list of {{agent|supervisor, user, password}}: {error}")
    known = {agent.id for agent in driver.center.agents}
    for number, phone in enumerate(phone_list, start=1):
        if phone.supervisor is None and phone.agent_id not in known:
            fail(f"{phones}: entry {number}: agent {phone.agent_id!r} is not in the center")
    if not (prompts / "common").is_dir():
        fail(f"{prompts}: no prompts there (run: hotline telephony prompts --out {prompts})")
    try:
        network = network_options(sip=sip, ng=ng, rtp_ports=rtp_ports)
    except ValueError as error:
        fail(f"--sip/--ng/--rtp-ports: {error}")
    try:
        ws_port = websocket_port(sip_ws_port)
    except ValueError as error:
        fail(str(error))
    # The voice menus: --flow, else the center file's ``ivr`` section (followed when an
    # administrator saves a new configuration), else the sample flow.
    options = ServerOptions(
        workdir=home / "telephony",
        prompts=prompts,
        phones=phone_list,
        ws_port=ws_port,
        dtmf_port=dtmf_port,
        timezone=timezone,
        trunk=trunk or None,
        recording_notice=recording_notice or None,
        **network,
        **ivr_options(flow, driver.center),
    )
    return LiveVoice(driver, options, follow_center=flow is None)


def _serve_web_only(app: Any, *, partition: str, host: str, port: int) -> None:
    """A web node without the engine: the hub follows the log, desks write to the inbox.

    The sweepers (SLA, surveys, reports, …) and the channels stay with the one full
    ``hotline serve``: started on every web node they would each do the work again.
    """
    from hotline.web.log_tail import attach_web_node
    from hotline.web.serving import serve_app

    attach_web_node(app, partition=partition)
    console.print(
        f"Hotline web node for partition {partition} on http://{host}:{port}/ "
        "(no routing engine here: screens follow the event log)"
    )
    serve_app(app, host=host, port=port)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    center: Path | None = typer.Option(
        None,
        "--center",
        envvar="HOTLINE_CENTER_CONFIG",
        help="Center configuration file (default: the sample).",
    ),
    sip: str = typer.Option(
        "",
        "--sip",
        help="Also take phone calls: SIP listen address host:port (UDP), e.g. 127.0.0.1:5060. "
        "The desk, the wallboard and the calls then share one routing engine.",
    ),
    sip_ws_port: int = typer.Option(
        0,
        "--sip-ws-port",
        help="With --sip: also SIP over WebSocket (RFC 7118) on this TCP port of the --sip "
        "host, so the desk's browser softphone can register (0: none).",
    ),
    phones: Path | None = typer.Option(
        None,
        "--phones",
        help="With --sip: YAML list of {agent|supervisor, user, password}.",
    ),
    prompts: Path = typer.Option(
        Path("var/prompts"), "--prompts", help="With --sip: prompt folder (telephony prompts)."
    ),
    trunk: str = typer.Option(
        "",
        "--trunk",
        help="With --sip: outbound trunk URI template, e.g. 'sip:{number}@10.0.0.1:5060' "
        "(click-to-dial and callbacks), used where the center file's trunks name none for "
        "the call's site and no default.",
    ),
    ng: str = typer.Option(
        "127.0.0.1:22222", "--ng", help="With --sip: rtpengine ng control address host:port."
    ),
    dtmf_port: int = typer.Option(22223, "--dtmf-port", help="With --sip: DTMF event UDP port."),
    rtp_ports: str = typer.Option(
        "30000-34999", "--rtp-ports", help="With --sip: RTP port range of the spawned rtpengine."
    ),
    flow: Path | None = typer.Option(
        None, "--flow", help="With --sip: IVR flow YAML (default: the sample hotline flow)."
    ),
    recording_notice: str = typer.Option(
        "recording_notice",
        "--recording-notice",
        help="With --sip: prompt id played before callers join a queue ('this call may be "
        "recorded'); empty: none.",
    ),
    secure_cookies: bool = typer.Option(
        False,
        "--secure-cookies",
        envvar="HOTLINE_SECURE_COOKIES",
        help="Served over HTTPS (e.g. behind a TLS proxy): mark cookies Secure and send HSTS.",
    ),
    mail: str = typer.Option(
        "",
        "--mail",
        help="Also run the e-mail channel: receive SMTP on host:port (e.g. 0.0.0.0:2525), "
        "poll the mailboxes' IMAP boxes and send the outbox (mailboxes: hotline mail mailbox).",
    ),
    trusted_proxy: list[str] = typer.Option(
        [],
        "--trusted-proxy",
        help="A reverse proxy's address or network (repeatable; also HOTLINE_TRUSTED_PROXIES, "
        "comma-separated) whose X-Forwarded-For names the client, for sign-in throttling and "
        "the audit log; the header is ignored from anyone else.",
    ),
    web_only: str = typer.Option(
        "",
        "--web-only",
        metavar="PARTITION",
        help="Serve the API and pages without the routing engine, for the partition (site) "
        "that `hotline node` processes own: screens are fed from the event log, desks' state "
        "changes go through the partition's inbox. Run as many as you like.",
    ),
) -> None:
    """Start the API and web pages (run ``hotline init`` first); with --sip, phone calls too."""
    from hotline.config.validate import load_center
    from hotline.live.crisis_sweep import attach_crisis_sweeper
    from hotline.live.driver import LiveDriver, attach
    from hotline.live.followup_sweep import attach_followup_sweeper
    from hotline.live.history import ContactHistoryRecorder
    from hotline.live.notice_sweep import attach_notice_sweeper
    from hotline.live.sla import attach_sla_sweeper
    from hotline.live.survey_sweep import attach_survey_sweeper
    from hotline.web.alert_sweep import attach_alert_sweeper
    from hotline.web.app import create_app
    from hotline.web.email_relay import attach_email_router
    from hotline.web.jobs import attach_job_sweeper
    from hotline.web.scheduled_reports import attach_report_sweeper
    from hotline.web.serving import serve_app
    from hotline.web.sms_bridge import attach_sms_line

    try:
        settings = load_settings().with_trusted_proxies(trusted_proxy)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--trusted-proxy") from None
    if secure_cookies:
        settings = settings.model_copy(update={"secure_cookies": True})
    path = center_path(settings.home, center)
    try:
        center_config = load_center(path)
    except Exception as error:
        error_console.print(f"[red]error[/red] center configuration {path} is not valid:\n{error}")
        raise typer.Exit(1) from error
    if web_only and web_only not in {site.id for site in center_config.sites}:
        known = ", ".join(site.id for site in center_config.sites) or "none"
        error_console.print(
            f"[red]error[/red] --web-only: partition {web_only!r} is not a site of the center "
            f"({known})",
            soft_wrap=True,
            highlight=False,
        )
        raise typer.Exit(2)
    engine = make_engine(settings.resolved_database_url())
    upgrade(engine)
    app = create_app(
        settings=settings, session_factory=make_session_factory(engine), center=center_config
    )
    if web_only:
        _serve_web_only(app, partition=web_only, host=host, port=port)
        return
    # Live routing: the desk, wallboard and telephony drive this engine on the wall clock.
    # Finished contacts join their customer's history; SLA clocks are swept on a schedule.
    history = ContactHistoryRecorder(session_factory=app.state.session_factory)
    driver = LiveDriver(center=center_config, on_finished=[history])
    parts: list[Any] = [history]
    if sip:
        voice = _live_voice(
            driver,
            home=settings.home,
            sip=sip,
            sip_ws_port=sip_ws_port,
            phones=phones,
            prompts=prompts,
            trunk=trunk,
            ng=ng,
            dtmf_port=dtmf_port,
            rtp_ports=rtp_ports,
            flow=flow,
            timezone=center_config.center.timezone,
            recording_notice=recording_notice,
        )
        app.state.voice = voice
        parts.append(voice)
        console.print(f"Phone calls: SIP on {sip}")
    attach(app, driver, *parts)
    # E-mail contacts (received here or by `hotline mail serve`) go through the same engine.
    attach_email_router(app)
    attach_sla_sweeper(app)
    attach_crisis_sweeper(app)
    if mail:
        from hotline.cli import mail as mail_cli

        mail_cli.attach(app, mail)
        console.print(f"E-mail: SMTP on {mail}")
    attach_followup_sweeper(app)
    attach_survey_sweeper(app)
    attach_notice_sweeper(app)
    attach_report_sweeper(app)
    attach_alert_sweeper(app)
    attach_job_sweeper(app)  # import jobs whose server died (web nodes' too)
    # Customers' SMS become conversations; the SMSC is bound in the background.
    attach_sms_line(app)
    console.print(
        f"Hotline listening on http://{host}:{port}/  (API docs: http://{host}:{port}/docs)"
    )
    serve_app(app, host=host, port=port)
