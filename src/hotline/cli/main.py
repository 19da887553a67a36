"""Entry point of the ``hotline`` command: registers each capability's sub-commands."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="hotline",
    help="Hotline contact-center platform (呼叫中心一站式服务平台).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # Each capability owns a module in hotline.cli; adding one is one line here.
    from hotline.cli import demo, platform

    platform.register(app)
    demo.register(app)
    from hotline.cli import wfm

    wfm.register(app)
    from hotline.cli import importing, report

    importing.register(app)
    report.register(app)
    from hotline.cli import simulate

    simulate.register(app)
    from hotline.cli import sweep

    sweep.register(app)
    from hotline.cli import campaign_sim

    campaign_sim.register(app)
    from hotline.cli import telephony

    telephony.register(app)
    from hotline.cli import servicedesk

    servicedesk.register(app)
    from hotline.cli import routing

    routing.register(app)
    from hotline.cli import quality

    quality.register(app)
    from hotline.cli import surveys

    surveys.register(app)
    from hotline.cli import campaigns

    campaigns.register(app)
    from hotline.cli import mail

    mail.register(app)
    from hotline.cli import wechat

    wechat.register(app)
    from hotline.cli import chat

    chat.register(app)
    from hotline.cli import sms

    sms.register(app)
    from hotline.cli import followup

    followup.register(app)
    from hotline.cli import cluster

    cluster.register(app)
    from hotline.cli import people

    people.register(app)


_register()

if __name__ == "__main__":
    app()
