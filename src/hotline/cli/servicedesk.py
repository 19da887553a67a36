"""Service-desk commands: ``customers``, ``tickets`` and ``kb``.

Every change names its ``--actor`` (written to the audit log). Run ``hotline init`` first so
the database exists and is migrated.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.orm import Session

from hotline.config.center import TicketTypeCategories
from hotline.core.documents import decode_text
from hotline.core.errors import HotlineError, Problem, ValidationFailed
from hotline.core.settings import load_settings
from hotline.crm import imports
from hotline.crm import service as crm
from hotline.desk import customers as desk
from hotline.kb import service as kb
from hotline.store.db import make_engine, make_session_factory, session_scope, writing
from hotline.store.jobs import JobLease
from hotline.tickets import service as tickets
from hotline.tickets.workflow import escalation_path

console = Console()
error_console = Console(stderr=True)

customers_app = typer.Typer(help="Customers: screen pop, import, duplicates.", no_args_is_help=True)
tickets_app = typer.Typer(help="Tickets and work orders, SLA, figures.", no_args_is_help=True)
kb_app = typer.Typer(help="Knowledge base: articles, review, search.", no_args_is_help=True)

ACTOR = typer.Option("cli", "--actor", help="Who is doing this (written to the audit log).")


@contextmanager
def _session() -> Iterator[Session]:
    """A session on the configured database; errors become a message and exit status 1."""
    engine = make_engine(load_settings().resolved_database_url())
    try:
        with session_scope(make_session_factory(engine)) as session:
            yield session
    except ValidationFailed as failure:
        for problem in failure.problems:
            error_console.print(f"[red]error[/red] {problem}", highlight=False, soft_wrap=True)
        error_console.print(f"{len(failure.problems)} problem(s); nothing was written")
        raise typer.Exit(1) from None
    except HotlineError as error:
        error_console.print(f"[red]error[/red] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


def _print_json(value: Any) -> None:
    console.print_json(json.dumps(value, ensure_ascii=False, default=str))


CENTER = typer.Option(
    None,
    "--center",
    envvar="HOTLINE_CENTER_CONFIG",
    help="Center configuration with the ticket categories (default: the sample).",
)
FIELD = typer.Option(
    [], "--field", help="A custom field as name=value (repeatable; name= removes it)."
)


def _schema(center: Path | None) -> list[TicketTypeCategories]:
    """The ticket categories of the center configuration (the sample when none is named)."""
    from hotline.cli.platform import SAMPLE_CENTER
    from hotline.config.validate import load_center

    try:
        return list(load_center(center or SAMPLE_CENTER).ticket_categories)
    except ValidationFailed as failure:
        for problem in failure.problems:
            error_console.print(f"[red]error[/red] {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _fields(pairs: list[str]) -> dict[str, Any]:
    """``["model_number=JSQ25", "fault="]`` → ``{"model_number": "JSQ25", "fault": None}``."""
    fields: dict[str, Any] = {}
    problems = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            problems.append(Problem(f"{pair!r} must look like name=value", field="--field"))
            continue
        fields[name.strip()] = value.strip() or None
    if problems:
        for problem in problems:
            error_console.print(f"[red]error[/red] {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    return fields


# ---------------------------------------------------------------- customers


@customers_app.command("add")
def customer_add(
    name: str = typer.Argument(..., help="Customer name."),
    phone: list[str] = typer.Option([], "--phone", help="A phone number (repeatable)."),
    email: list[str] = typer.Option([], "--email", help="An e-mail address (repeatable)."),
    address: list[str] = typer.Option([], "--address", help="A postal address (repeatable)."),
    area_code: str = typer.Option(None, "--area-code", help="Area code for local numbers."),
    actor: str = ACTOR,
) -> None:
    """Create a customer with phones (normalised to E.164), e-mails and addresses."""
    with _session() as session:
        customer = crm.create_customer(
            session,
            name=name,
            phones=phone,
            emails=email,
            addresses=address,
            default_area_code=area_code,
            actor=actor,
        )
        console.print(f"customer {customer.id} created")
        for pair in crm.likely_duplicates_of(session, customer_id=customer.id):
            other = pair.right if pair.left == customer.id else pair.left
            console.print(
                f"[yellow]possible duplicate[/yellow] of customer {other} "
                f"(score {pair.score:g}: {', '.join(pair.reasons)})"
            )


@customers_app.command("pop")
def customer_pop(
    number: str = typer.Argument(..., help="Calling number as caller ID shows it."),
    area_code: str = typer.Option(None, "--area-code", help="Area code for local numbers."),
    masked: bool = typer.Option(False, "--masked", help="Hide personal data."),
) -> None:
    """Screen pop: who is calling, what they own, last contacts, open tickets."""
    with _session() as session:
        pop = desk.screen_pop(
            session, calling_number=number, default_area_code=area_code, masked=masked
        )
        _print_json(pop.__dict__)


@customers_app.command("import")
def customer_import(
    file: Path = typer.Argument(..., help="CSV: name, phones, emails, address, site, vip_level."),
    products: bool = typer.Option(
        False, "--products", help="The file holds products (customer_phone, model, …)."
    ),
    area_code: str = typer.Option(None, "--area-code", help="Area code for local numbers."),
    actor: str = ACTOR,
) -> None:
    """Import customers or products from CSV; a bad row rejects the whole file.

    Customers go in as an import job (checked, staged in short transactions, published in
    one swap), so a big file never stops a running server's writers; a progress bar follows it.
    """
    try:
        decoded = decode_text(file.read_bytes(), source=str(file))
    except ValidationFailed as refused:
        error_console.print(f"[red]error[/red] {refused}", highlight=False)
        raise typer.Exit(1) from None
    text = decoded.text
    if decoded.encoding != "utf-8":
        console.print(f"{file}: read as {decoded.encoding} (not UTF-8)", highlight=False)
    if products:
        with _session() as session:
            ids = crm.import_products_csv(
                session, text=text, file=str(file), default_area_code=area_code, actor=actor
            )
            console.print(f"{len(ids)} products imported")
        return
    engine = make_engine(load_settings().resolved_database_url())
    factory = make_session_factory(engine)
    try:
        with session_scope(factory) as session:
            job = imports.create_job(
                writing(session), kind="customers", file=str(file), actor=actor
            )
            job_id = job.id
        with Progress(console=error_console, transient=True) as progress:
            task = progress.add_task("checking", total=None)

            def show(job: dict[str, Any]) -> None:
                total = job["rows_total"] or None
                progress.update(
                    task, description=job["state"], total=total, completed=job["rows_done"]
                )

            with JobLease(factory):  # renews the job's heartbeat while it runs
                ended = imports.run_customer_import(
                    factory,
                    job_id=job_id,
                    text=text,
                    file=str(file),
                    actor=actor,
                    default_area_code=area_code,
                    on_progress=show,
                )
    finally:
        engine.dispose()
    result = ended["result"]
    if ended["state"] != "done":
        for found in result.get("problems", []):
            located = Problem(found["problem"], found["file"], found["line"], found["field"])
            error_console.print(f"[red]error[/red] {located}", highlight=False, soft_wrap=True)
        if "message" in result:
            error_console.print(f"[red]error[/red] {result['message']}", highlight=False)
        error_console.print(f"import job {job_id} failed; nothing was written")
        raise typer.Exit(1)
    console.print(f"{result['imported']} customers imported (job {job_id})")


@customers_app.command("duplicates")
def customer_duplicates(
    limit: int = typer.Option(20, help="Clusters to list."),
) -> None:
    """Report likely duplicate customers and the duplication rate."""
    with _session() as session, Progress(transient=True) as progress:
        progress.add_task("matching customers…", total=None)
        report = crm.duplicate_report(session)
    table = Table(title=f"{len(report.clusters)} duplicate clusters")
    table.add_column("customers")
    table.add_column("evidence")
    evidence = {(p.left, p.right): ", ".join(p.reasons) for p in report.pairs}
    for cluster in report.clusters[:limit]:
        reasons = {evidence.get((a, b), "") for a in cluster for b in cluster if a < b} - {""}
        table.add_row(" ".join(map(str, cluster)), "; ".join(sorted(reasons)))
    console.print(table)
    console.print(
        f"{report.customers} customers, duplication rate {report.duplication_rate:.2%}, "
        f"{len(report.skipped_blocks)} oversized blocks skipped"
    )


@customers_app.command("merge")
def customer_merge(
    survivor: int = typer.Argument(..., help="Customer id that stays."),
    merged: int = typer.Argument(..., help="Customer id merged into it."),
    actor: str = ACTOR,
) -> None:
    """Merge one customer into another, keeping all history (undo with ``undo-merge``)."""
    with _session() as session:
        merge = desk.merge_customers(session, survivor_id=survivor, merged_id=merged, actor=actor)
        console.print(f"merge {merge.id}: moved {json.dumps(merge.moved)}")


@customers_app.command("undo-merge")
def customer_undo_merge(
    merge_id: int = typer.Argument(..., help="Merge id printed by ``merge``."),
    actor: str = ACTOR,
) -> None:
    """Undo a merge: move everything back and revive the merged customer."""
    with _session() as session:
        desk.undo_merge(session, merge_id=merge_id, actor=actor)
        console.print(f"merge {merge_id} undone")


# ---------------------------------------------------------------- tickets


@tickets_app.command("create")
def ticket_create(
    type: str = typer.Argument(..., help="inquiry, installation, repair, complaint, suggestion."),
    subject: str = typer.Argument(..., help="One line describing the problem."),
    customer: int = typer.Option(None, help="Customer id."),
    product: int = typer.Option(None, help="Product id (sets warranty)."),
    priority: str = typer.Option("normal", help="low, normal, high, urgent."),
    queue: str = typer.Option("", help="Team queue."),
    level: str = typer.Option(None, help="Complaint level 1, 2 or 3."),
    category: str = typer.Option("", help="Category (see `hotline tickets categories`)."),
    field: list[str] = FIELD,
    description: str = typer.Option("", help="Longer description."),
    center: Path = CENTER,
    actor: str = ACTOR,
) -> None:
    """Open a ticket or work order; its SLA targets are fixed now.

    Category and custom fields are checked against the center's ticket categories, e.g.
    ``--category water_heater --field model_number=JSQ25 --field serial_number=SN1``.
    """
    custom = {k: v for k, v in _fields(field).items() if v is not None}
    schema = _schema(center)
    with _session() as session:
        ticket = tickets.create_ticket(
            session,
            type=type,
            subject=subject,
            customer_id=customer,
            product_id=product,
            priority=priority,
            queue=queue,
            complaint_level=level,
            category=category,
            custom_fields=custom,
            description=description,
            schema=schema,
            actor=actor,
        )
        console.print(f"ticket {ticket.number} (id {ticket.id}) created, due {ticket.due_at}")


@tickets_app.command("list")
def ticket_list(
    queue: list[str] = typer.Option([], "--queue", help="Only these queues (repeatable)."),
    state: list[str] = typer.Option([], "--state", help="Only these states (repeatable)."),
    limit: int = typer.Option(50, help="Most tickets to show."),
) -> None:
    """List tickets, newest first."""
    with _session() as session:
        rows = tickets.list_tickets(
            session, queues=queue or None, states=state or None, limit=limit
        )
        table = Table()
        for column in ("id", "number", "type", "state", "queue", "assignee", "due", "subject"):
            table.add_column(column)
        for t in rows:
            table.add_row(
                str(t.id),
                t.number,
                t.type,
                t.state,
                t.queue,
                t.assignee or "",
                f"{t.due_at:%Y-%m-%d %H:%M}" if t.due_at else "",
                t.subject,
            )
        console.print(table)


@tickets_app.command("show")
def ticket_show(ticket_id: int = typer.Argument(..., help="Ticket id.")) -> None:
    """Show a ticket, its SLA clocks and its history."""
    with _session() as session:
        ticket = tickets.get_ticket(session, ticket_id=ticket_id)
        clocks = tickets.sla_status(session, ticket=ticket, now=datetime.now().astimezone())
        _print_json(
            tickets.ticket_view(ticket)
            | {
                "sla": [
                    {"clock": c.clock, "state": c.state, "elapsed_s": c.elapsed_s, "due": c.due_at}
                    for c in clocks
                ],
                "history": [
                    {"at": e.at, "actor": e.actor, "action": e.action, "note": e.note}
                    for e in tickets.history(session, ticket_id=ticket_id)
                ],
            }
        )


@tickets_app.command("act")
def ticket_act(
    ticket_id: int = typer.Argument(..., help="Ticket id."),
    action: str = typer.Argument(
        ...,
        help="assign, start, wait_customer, customer_replied, dispatch, resolve, reopen, "
        "close, cancel, escalate.",
    ),
    target: str = typer.Option(None, help="Assignee, provider code or escalation role."),
    note: str = typer.Option("", help="Note for the history."),
    actor: str = ACTOR,
) -> None:
    """Apply an action to a ticket (refused with the reason when the rules forbid it)."""
    with _session() as session:
        ticket = tickets.act(
            session, ticket_id=ticket_id, action=action, target=target, note=note, actor=actor
        )
        console.print(f"ticket {ticket.number} is {ticket.state}")


@tickets_app.command("respond")
def ticket_respond(
    ticket_id: int = typer.Argument(..., help="Ticket id."),
    note: str = typer.Argument(..., help="What the customer was told."),
    actor: str = ACTOR,
) -> None:
    """Record an update sent to the customer (first response / next update clocks)."""
    with _session() as session:
        tickets.respond(session, ticket_id=ticket_id, note=note, actor=actor)
        console.print("update recorded")


@tickets_app.command("verify")
def ticket_verify(
    ticket_id: int = typer.Argument(..., help="Ticket id."),
    reached: bool = typer.Option(..., "--reached/--not-reached", help="Customer answered?"),
    confirmed: bool = typer.Option(False, "--confirmed/--not-confirmed", help="Work confirmed?"),
    part_replaced: bool = typer.Option(False, help="A part was replaced."),
    part_matches: bool = typer.Option(
        None, "--part-matches/--part-mismatch", help="Replaced part matches the fault."
    ),
    note: str = typer.Option("", help="Note."),
    actor: str = ACTOR,
) -> None:
    """Record the verification callback (回访) of a resolved work order."""
    with _session() as session:
        tickets.record_verification(
            session,
            ticket_id=ticket_id,
            actor=actor,
            reached=reached,
            customer_confirmed=confirmed,
            part_replaced=part_replaced,
            part_matches_fault=part_matches,
            note=note,
        )
        console.print(f"ticket is {tickets.get_ticket(session, ticket_id=ticket_id).state}")


@tickets_app.command("provider-add")
def provider_add(
    code: str = typer.Argument(..., help="Short provider code."),
    name: str = typer.Argument(..., help="Provider name."),
    region: str = typer.Option("", help="Region served."),
    actor: str = ACTOR,
) -> None:
    """Register a field-service provider that work orders can be dispatched to."""
    with _session() as session:
        tickets.create_provider(session, code=code, name=name, region=region, actor=actor)
        console.print(f"provider {code} added")


@tickets_app.command("fields")
def ticket_fields(
    ticket_id: int = typer.Argument(..., help="Ticket id."),
    category: str = typer.Option(None, help="New category."),
    field: list[str] = FIELD,
    center: Path = CENTER,
    actor: str = ACTOR,
) -> None:
    """Change a ticket's category and custom fields (checked against the categories)."""
    changes = _fields(field)
    schema = _schema(center)
    with _session() as session:
        ticket = tickets.update_fields(
            session,
            ticket_id=ticket_id,
            category=category,
            custom_fields=changes,
            schema=schema,
            actor=actor,
        )
        console.print(f"ticket {ticket.number}: category {ticket.category or '-'}")
        _print_json(ticket.custom_fields)


@tickets_app.command("categories")
def ticket_categories(center: Path = CENTER) -> None:
    """List the configured categories of each ticket type and their custom fields."""
    table = Table("type", "category", "name", "fields")
    for section in _schema(center):
        for category in section.categories:
            fields = ", ".join(
                f"{f.name}{'*' if f.required else ''} ({f.type})" for f in category.fields
            )
            table.add_row(section.type, category.id, category.name, fields)
    console.print(table)
    console.print("* required")


@tickets_app.command("level")
def ticket_level(
    ticket_id: int = typer.Argument(..., help="Complaint ticket id."),
    level: str = typer.Argument(..., help="New complaint level: 1, 2 or 3 (only upwards)."),
    actor: str = ACTOR,
) -> None:
    """Raise a complaint's level; its mandatory escalation path grows with it."""
    with _session() as session:
        ticket = tickets.raise_complaint_level(
            session, ticket_id=ticket_id, level=level, actor=actor
        )
        assert ticket.complaint_level is not None
        path = escalation_path(ticket.complaint_level)
        console.print(
            f"ticket {ticket.number} is complaint level {ticket.complaint_level}; "
            f"must be escalated to: {' → '.join(path) or '-'}",
            highlight=False,
            soft_wrap=True,
        )


@tickets_app.command("provider-update")
def ticket_provider_update(
    ticket_id: int = typer.Argument(..., help="Ticket id."),
    provider: str = typer.Argument(..., help="Code of the provider the order went to."),
    note: str = typer.Argument(..., help="What the provider reports (arrived, part ordered…)."),
    completed: bool = typer.Option(False, "--completed", help="The provider finished the work."),
    part: list[str] = typer.Option([], "--part", help="A part replaced (repeatable)."),
) -> None:
    """Record a field-service provider's update on a dispatched work order."""
    with _session() as session:
        ticket = tickets.provider_update(
            session,
            ticket_id=ticket_id,
            provider=provider,
            note=note,
            completed=completed,
            parts=part,
        )
        console.print(f"ticket {ticket.number} is {ticket.state}")


@tickets_app.command("sla-check")
def ticket_sla_check() -> None:
    """Escalate tickets whose SLA clocks warn or breach (each escalation once)."""
    with _session() as session:
        sent = tickets.check_sla(session, now=datetime.now().astimezone())
        for item in sent:
            console.print(
                f"{item['ticket']}: {item['clock']} {item['stage']} → {item['role']}",
                highlight=False,
            )
        console.print(f"{len(sent)} escalation(s)")


@tickets_app.command("figures")
def ticket_figures(
    start: datetime = typer.Argument(..., help="Interval start (ISO, UTC if no zone)."),
    end: datetime = typer.Argument(..., help="Interval end."),
    queue: str = typer.Option(None, help="Only this queue."),
) -> None:
    """Deferred-work figures (METRICS.md): on-time rate, backlog by age, delay, durations."""
    from datetime import UTC

    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    with _session() as session:
        _print_json(tickets.deferred_work(session, start=start, end=end, queue=queue).__dict__)


# ---------------------------------------------------------------- knowledge base


@kb_app.command("add")
def kb_add(
    title: str = typer.Argument(..., help="Article title."),
    body_file: Path = typer.Argument(..., help="File with the article body (UTF-8)."),
    category: str = typer.Option(None, help="Category name."),
    tag: list[str] = typer.Option([], "--tag", help="A tag (repeatable)."),
    actor: str = ACTOR,
) -> None:
    """Write a new article as a draft."""
    with _session() as session:
        article = kb.create_article(
            session,
            title=title,
            body=body_file.read_text(encoding="utf-8"),
            author=actor,
            category_name=category,
            tags=tag,
        )
        console.print(f"article {article.id} created as draft")


@kb_app.command("submit")
def kb_submit(
    article_id: int = typer.Argument(..., help="Article id."), actor: str = ACTOR
) -> None:
    """Send an article's draft to review."""
    with _session() as session:
        kb.submit_for_review(session, article_id=article_id, actor=actor)
        console.print("in review")


@kb_app.command("review")
def kb_review(
    article_id: int = typer.Argument(..., help="Article id."),
    approve: bool = typer.Option(..., "--approve/--reject", help="Publish or send back."),
    note: str = typer.Option("", help="Reviewer's note."),
    actor: str = ACTOR,
) -> None:
    """Publish the article in review, or send it back (the author may not review)."""
    with _session() as session:
        article = kb.review(
            session, article_id=article_id, reviewer=actor, approve=approve, note=note
        )
        console.print(f"article {article.id} is {article.state}")


@kb_app.command("edit")
def kb_edit(
    article_id: int = typer.Argument(..., help="Article id."),
    title: str = typer.Option(None, help="New title."),
    body_file: Path = typer.Option(None, "--body-file", help="File with the new body (UTF-8)."),
    tag: list[str] = typer.Option(None, "--tag", help="Replace the tags (repeatable)."),
    note: str = typer.Option("", help="What changed."),
    actor: str = ACTOR,
) -> None:
    """Write a new version as a draft (the published version stays live until reviewed)."""
    body = body_file.read_text(encoding="utf-8") if body_file else None
    with _session() as session:
        new = kb.edit_article(
            session,
            article_id=article_id,
            author=actor,
            title=title,
            body=body,
            tags=tag or None,
            note=note,
        )
        console.print(f"article {article_id} version {new.version} saved as draft")


@kb_app.command("retire")
def kb_retire(
    article_id: int = typer.Argument(..., help="Article id."), actor: str = ACTOR
) -> None:
    """Take an article out of service and out of search."""
    with _session() as session:
        article = kb.retire(session, article_id=article_id, actor=actor)
        console.print(f"article {article.id} is {article.state}")


@kb_app.command("feedback")
def kb_feedback(
    article_id: int = typer.Argument(..., help="Article id."),
    helpful: bool = typer.Option(..., "--helpful/--not-helpful", help="Did the article help?"),
    comment: str = typer.Option("", help="Why (optional)."),
    actor: str = ACTOR,
) -> None:
    """Record a "was this helpful?" answer."""
    with _session() as session:
        kb.feedback(session, article_id=article_id, helpful=helpful, comment=comment, actor=actor)
        article = kb.get_article(session, article_id=article_id)
        console.print(
            f"article {article_id}: {article.helpful_yes} helpful, {article.helpful_no} not"
        )


@kb_app.command("attach")
def kb_attach(
    article_id: int = typer.Argument(..., help="Article id."),
    file: Path = typer.Argument(..., help="The local file (size and SHA-256 are read from it)."),
    uri: str = typer.Option(..., help="Where the file is kept (object storage URI)."),
    media_type: str = typer.Option(None, help="Media type (default: guessed from the name)."),
    actor: str = ACTOR,
) -> None:
    """Record an attachment's metadata; the file itself lives in object storage at ``--uri``."""
    digest = hashlib.sha256()
    size = 0
    with file.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    kind = media_type or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    with _session() as session:
        attachment = kb.add_attachment(
            session,
            article_id=article_id,
            filename=file.name,
            media_type=kind,
            size_bytes=size,
            sha256=digest.hexdigest(),
            uri=uri,
            actor=actor,
        )
        console.print(f"attachment {attachment.id} ({file.name}, {kind}, {size} bytes) recorded")


@kb_app.command("attachments")
def kb_attachments(article_id: int = typer.Argument(..., help="Article id.")) -> None:
    """List an article's attachments."""
    with _session() as session:
        table = Table("id", "file", "type", "bytes", "sha256", "uri")
        for a in kb.attachments(session, article_id=article_id):
            table.add_row(
                str(a.id), a.filename, a.media_type, str(a.size_bytes), a.sha256[:12], a.uri
            )
        console.print(table)


@kb_app.command("search")
def kb_search(
    query: str = typer.Argument(..., help="Question in Chinese or English."),
    limit: int = typer.Option(5, help="Results to show."),
) -> None:
    """Search published articles (Chinese bigrams, traditional/simplified folded)."""
    with _session() as session:
        table = Table()
        for column in ("id", "version", "score", "title"):
            table.add_column(column)
        for hit in kb.search(session, query=query, limit=limit):
            table.add_row(str(hit.article_id), str(hit.version), f"{hit.score:.3f}", hit.title)
        console.print(table)


@kb_app.command("reindex")
def kb_reindex() -> None:
    """Rebuild the search index from the published versions."""
    with _session() as session:
        console.print(f"{kb.reindex(session)} articles indexed")


def register(app: typer.Typer) -> None:
    """Add the service-desk commands to the ``hotline`` command."""
    app.add_typer(customers_app, name="customers")
    app.add_typer(tickets_app, name="tickets")
    app.add_typer(kb_app, name="kb")
