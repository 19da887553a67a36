"""``hotline demo``: the platform on embedded defaults, with the sample center and demo logins."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from hotline.cli.platform import center_path
from hotline.config.validate import load_center
from hotline.core.settings import load_settings
from hotline.identity import service as identity
from hotline.store.db import make_engine, make_session_factory, session_scope
from hotline.store.migrate import upgrade

console = Console()

DEMO_PASSWORD = "hotline-demo"


def demo_users(
    center_agents: list[str],
    first_team_lead: str | None = None,
    provider_staff: list[str] | None = None,
) -> list[tuple[str, list[str], str | None]]:
    """The demo accounts: one per role, plus a sign-in for each of the first agents.

    The team lead signs in as the lead of the center's first team (``teams[].lead``), so
    they oversee that team's agents; the first field-service provider's staff sign in to
    the provider portal. The 回访 agent is an agent too (the sixth), so the workbench's dial
    button rings a desk phone; the settlement clerk settles providers' claims.
    """
    caller = center_agents[5] if len(center_agents) > 5 else None
    users: list[tuple[str, list[str], str | None]] = [
        ("admin", ["admin"], None),
        ("manager", ["manager"], None),
        ("supervisor", ["supervisor"], None),
        ("teamlead", ["team_lead"], first_team_lead),
        ("qa", ["qa"], None),
        ("wfm", ["wfm"], None),
    ]
    users += [(agent, ["agent"], agent) for agent in center_agents[:5]]
    users += [(name, ["provider"], None) for name in (provider_staff or [])]
    users += [
        ("followup", ["followup", "agent"] if caller else ["followup"], caller),
        ("settlement", ["settlement"], None),
    ]
    return users


def demo(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    home: Path = typer.Option(
        Path("var/demo"), "--home", help="Where the demo keeps its database."
    ),
    traffic: bool = typer.Option(
        True,
        "--traffic/--no-traffic",
        help="Run simulated callers and agents on the live engine (a001-a005 stay for you).",
    ),
    rate: float = typer.Option(
        1.0, "--rate", min=0.0, help="Scale the simulated arrival rate (2 = twice the calls)."
    ),
    seed: int = typer.Option(7, "--seed", help="Seed of the simulated traffic."),
    respect_hours: bool = typer.Option(
        False,
        "--respect-hours",
        help="Close queues outside the sample center's opening hours (off: open around the clock).",
    ),
    secure_cookies: bool = typer.Option(
        False,
        "--secure-cookies",
        envvar="HOTLINE_SECURE_COOKIES",
        help="Served over HTTPS (e.g. behind a TLS proxy): mark cookies Secure and send HSTS.",
    ),
    trusted_proxy: list[str] = typer.Option(
        [],
        "--trusted-proxy",
        help="A reverse proxy's address or network (repeatable; also HOTLINE_TRUSTED_PROXIES, "
        "comma-separated) whose X-Forwarded-For names the client, for sign-in throttling and "
        "the audit log; the header is ignored from anyone else.",
    ),
) -> None:
    """Start the platform with the sample center (SQLite), live routing and demo traffic."""
    try:
        load_settings().with_trusted_proxies(trusted_proxy)  # refused before anything starts
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--trusted-proxy") from None
    os.environ["HOTLINE_HOME"] = str(home)
    os.environ.setdefault("HOTLINE_DATABASE_URL", f"sqlite:///{home.resolve() / 'hotline.db'}")
    center = load_center(center_path(home, None))
    engine = make_engine(os.environ["HOTLINE_DATABASE_URL"])
    upgrade(engine)
    factory = make_session_factory(engine)
    leads = [team.lead for team in center.teams if team.lead]
    staff = center.service_providers[0].staff if center.service_providers else []
    accounts = demo_users([a.id for a in center.agents], leads[0] if leads else None, staff)
    with session_scope(factory) as session:
        for username, roles, agent_id in accounts:
            if identity.get_user(session, username=username) is None:
                identity.create_user(
                    session,
                    username=username,
                    password=DEMO_PASSWORD,
                    roles=roles,
                    agent_id=agent_id,
                    actor="hotline demo",
                )
    table = Table("username", "roles", title=f"Demo sign-ins (password: {DEMO_PASSWORD})")
    for username, roles, _ in accounts:
        table.add_row(username, ", ".join(roles))
    console.print(table)
    console.print(
        f"Center: {center.center.name} — {len(center.queues)} queues, {len(center.agents)} agents"
    )
    console.print(
        f"Open http://{host}:{port}/ in a browser (Ctrl-C stops the demo).", highlight=False
    )

    from hotline.live.driver import LiveDriver, attach
    from hotline.live.followup_sweep import attach_followup_sweeper
    from hotline.live.history import ContactHistoryRecorder
    from hotline.live.sla import attach_sla_sweeper
    from hotline.live.traffic import DemoTraffic
    from hotline.web.app import create_app
    from hotline.web.serving import serve_app
    from hotline.web.sms_bridge import attach_sms_line

    settings = load_settings()
    if secure_cookies:
        settings = settings.model_copy(update={"secure_cookies": True})
    settings = settings.with_trusted_proxies(trusted_proxy)
    app = create_app(settings=settings, session_factory=factory, center=center)
    # Finished contacts join their customer's history; SLA clocks are swept on a schedule.
    history = ContactHistoryRecorder(session_factory=factory)
    driver = LiveDriver(center=center, honour_hours=respect_hours, seed=seed, on_finished=[history])
    # The team lead signs in as their own agent (a001 leads t-install): list each agent once.
    humans = list(dict.fromkeys(agent for _, _, agent in accounts if agent))
    parts = [DemoTraffic(driver, seed=seed, rate=rate, human_agents=humans)] if traffic else []
    attach(app, driver, history, *parts)
    attach_sla_sweeper(app)
    attach_followup_sweeper(app)
    attach_sms_line(app)
    if traffic:
        console.print(
            f"Simulated traffic: seed {seed}, rate x{rate:g}; agents {', '.join(humans)} "
            "are yours to drive from the agent desktop (/desk)."
        )
    serve_app(app, host=host, port=port)


def register(app: typer.Typer) -> None:
    """Add ``hotline demo``."""
    app.command("demo")(demo)
