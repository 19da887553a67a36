"""Customers on a database session: records, products, history, number lookup, duplicates, import.

Screen pop is the moment an agent's desktop shows who is calling: the calling number is
normalised (:mod:`hotline.crm.phones`) and looked up in ``customer_phones.e164``
(:func:`lookup_number`); the answer holds the customer, their products and their last
contacts. The desk (:mod:`hotline.desk.customers`) adds their open tickets from the tickets
domain: CRM never reads another domain's tables.

Merging two customers moves every phone, e-mail, address, product and contact of the merged
record to the survivor, with the rows other domains keep per customer (tickets), which the
caller names as :class:`FollowingRecords`; the merged record is marked ``merged_into_id`` and
the moved row ids are kept in ``customer_merges.moved`` so :func:`undo_merge` can move them
back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from hotline.core.documents import check_size, csv_records
from hotline.core.errors import Conflict, NotFound, Problem, ValidationFailed
from hotline.crm import matching, rules
from hotline.crm.phones import PhoneKind, normalize, try_normalize
from hotline.crm.privacy import mask_address, mask_email, mask_name, mask_phone
from hotline.identity.audit import record as audit
from hotline.store.db import UTCDateTime, utcnow
from hotline.store.models.crm import (
    Customer,
    CustomerAddress,
    CustomerContact,
    CustomerEmail,
    CustomerIdentity,
    CustomerMerge,
    CustomerPhone,
    Product,
)
from hotline.store.models.imports import StagedContactPoint, StagedCustomer

# CRM's public face: other domains and the compositions above them (hotline.desk) use these,
# with the merge record they return.
__all__ = [
    "CUSTOMER_COLUMNS",
    "IDENTITY_KINDS",
    "MOVABLE",
    "PRODUCT_COLUMNS",
    "CustomerMerge",
    "DuplicateReport",
    "FollowingRecords",
    "Identity",
    "NumberLookup",
    "Reach",
    "add_phone",
    "add_product",
    "check_customers_csv",
    "contacts_since",
    "create_customer",
    "customer_view",
    "customers_of_key",
    "customers_with_number",
    "discard_staged_customers",
    "duplicate_report",
    "find_customers",
    "get_customer",
    "get_product",
    "identity_linked",
    "identity_of",
    "import_customers_csv",
    "import_products_csv",
    "in_warranty",
    "likely_duplicates_of",
    "link_identity",
    "lookup_identity",
    "lookup_number",
    "merge_customers",
    "profiles",
    "publish_staged_customers",
    "reach",
    "record_contact",
    "record_finished_contact",
    "stage_customers",
    "undo_merge",
    "unlink_identity",
]

# Tables whose rows follow their customer in a merge, by the name used in ``moved``.
MOVABLE: dict[str, Any] = {
    "phones": CustomerPhone,
    "emails": CustomerEmail,
    "addresses": CustomerAddress,
    "products": Product,
    "contacts": CustomerContact,
    "identities": CustomerIdentity,
}


@dataclass(frozen=True)
class FollowingRecords:
    """Rows another domain keeps per customer, which follow their customer through a merge.

    ``name`` is the key of their ids in ``customer_merges.moved``; ``ids_of(session,
    customer_id)`` lists a customer's rows; ``move(session, ids, from_customer_id,
    to_customer_id)`` gives the rows among ``ids`` still on ``from_customer_id`` to
    ``to_customer_id``. The tickets domain offers its tickets this way
    (:data:`hotline.tickets.service.CUSTOMER_TICKETS`).
    """

    name: str
    ids_of: Callable[[Session, int], list[int]]
    move: Callable[[Session, Sequence[int], int, int], None]


def create_customer(
    session: Session,
    *,
    name: str,
    phones: Sequence[str] = (),
    emails: Sequence[str] = (),
    addresses: Sequence[str] = (),
    site: str | None = None,
    vip_level: int = 0,
    language: str = "zh-CN",
    default_area_code: str | None = None,
    actor: str = "system",
) -> Customer:
    """Create a customer with phones (normalised), e-mails and addresses.

    Example: ``create_customer(session, name="张伟", phones=["138 1234 5678"], actor="agent7")``.
    """
    problems = rules.customer_problems(
        name=name,
        phones=phones,
        emails=emails,
        addresses=addresses,
        site=site,
        vip_level=vip_level,
        default_area_code=default_area_code,
    )
    if problems:
        raise ValidationFailed(problems)
    customer = Customer(
        name=name.strip(),
        name_folded=matching.fold(name),
        name_pinyin=matching.pinyin_key(name),
        site=site,
        vip_level=vip_level,
        language=language,
        note="",
        kind="person",
    )
    session.add(customer)
    session.flush()
    for raw in phones:
        add_phone(session, customer_id=customer.id, raw=raw, default_area_code=default_area_code)
    for address in emails:
        session.add(CustomerEmail(customer_id=customer.id, address=address.strip().lower()))
    for text in addresses:
        session.add(CustomerAddress(customer_id=customer.id, text=text.strip(), city="", label=""))
    audit(session, actor=actor, action="customer.create", target=f"customer:{customer.id}")
    session.flush()
    return customer


def add_phone(
    session: Session,
    *,
    customer_id: int,
    raw: str,
    label: str = "",
    default_area_code: str | None = None,
) -> CustomerPhone:
    """Add a phone number to a customer, stored as written and in E.164.

    Raises :class:`ValidationFailed` (field ``phones``) for something that is not a number.
    """
    try:
        number = normalize(raw, default_area_code=default_area_code)
    except ValueError as error:
        raise ValidationFailed([Problem(str(error), field="phones")]) from None
    phone = CustomerPhone(
        customer_id=customer_id, e164=number.e164, raw=raw.strip(), kind=number.kind, label=label
    )
    session.add(phone)
    return phone


def get_customer(session: Session, *, customer_id: int, follow_merges: bool = True) -> Customer:
    """Return a customer; a merged one leads to its survivor unless ``follow_merges`` is off."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    seen = {customer.id}
    while follow_merges and customer.merged_into_id is not None:
        survivor = session.get(Customer, customer.merged_into_id)
        if survivor is None or survivor.id in seen:
            break
        seen.add(survivor.id)
        customer = survivor
    return customer


def add_product(
    session: Session,
    *,
    customer_id: int,
    model: str,
    serial_number: str | None = None,
    category: str = "",
    purchased_on: date | None = None,
    installed_on: date | None = None,
    warranty_until: date | None = None,
    actor: str = "system",
) -> Product:
    """Record a product the customer owns (fields checked by :func:`rules.product_problems`)."""
    problems = rules.product_problems(model=model, serial_number=serial_number, category=category)
    if problems:
        raise ValidationFailed(problems)
    get_customer(session, customer_id=customer_id, follow_merges=False)
    product = Product(
        customer_id=customer_id,
        model=model,
        category=category,
        serial_number=serial_number,
        purchased_on=purchased_on,
        installed_on=installed_on,
        warranty_until=warranty_until,
    )
    session.add(product)
    session.flush()
    audit(session, actor=actor, action="product.create", target=f"product:{product.id}")
    return product


def get_product(session: Session, *, product_id: int) -> Product:
    """Return a product, or raise :class:`~hotline.core.errors.NotFound`."""
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(f"product {product_id} does not exist")
    return product


def products_by_id(session: Session, *, product_ids: Iterable[int]) -> dict[int, Product]:
    """The products of ``product_ids`` that exist, by id (one query per 500 ids)."""
    wanted = sorted(set(product_ids))
    found: dict[int, Product] = {}
    for first in range(0, len(wanted), 500):
        chunk = wanted[first : first + 500]
        found.update(
            (p.id, p) for p in session.scalars(select(Product).where(Product.id.in_(chunk)))
        )
    return found


def in_warranty(product: Product, on: date) -> bool:
    """True when ``product`` is under warranty on ``on``."""
    return product.warranty_until is not None and on <= product.warranty_until


def record_contact(
    session: Session,
    *,
    customer_id: int,
    channel: str,
    at: datetime | None = None,
    direction: str = "inbound",
    contact_id: str | None = None,
    agent_id: str | None = None,
    summary: str = "",
) -> CustomerContact:
    """Add a contact to the customer's history (any channel)."""
    contact = CustomerContact(
        customer_id=customer_id,
        at=at or utcnow(),
        channel=channel,
        direction=direction,
        contact_id=contact_id,
        agent_id=agent_id,
        summary=summary,
    )
    session.add(contact)
    return contact


def customers_with_number(
    session: Session, *, number: str, default_area_code: str | None = None
) -> list[int]:
    """Ids of the customers reachable at ``number`` (normalised; merged records followed)."""
    normalised = try_normalize(number, default_area_code=default_area_code)
    if normalised is None:
        return []
    owners = session.scalars(
        select(CustomerPhone.customer_id).where(CustomerPhone.e164 == normalised.e164)
    ).all()
    ids = (get_customer(session, customer_id=owner).id for owner in owners)
    return list(dict.fromkeys(ids))


def customers_with_email(session: Session, *, address: str) -> list[Customer]:
    """The customers (merged ones followed to their survivor) with this e-mail address.

    Example: ``customers_with_email(session, address="Li.Lei@example.com")`` (case ignored).
    """
    ids = session.scalars(
        select(CustomerEmail.customer_id)
        .where(CustomerEmail.address == address.strip().lower())
        .order_by(CustomerEmail.customer_id)
    )
    found = {get_customer(session, customer_id=customer_id).id for customer_id in ids}
    return [get_customer(session, customer_id=customer_id) for customer_id in sorted(found)]


def record_finished_contact(
    session: Session,
    *,
    key: str,
    channel: str,
    at: datetime,
    contact_id: str,
    direction: str = "inbound",
    agent_id: str | None = None,
    summary: str = "",
    queue: str | None = None,
    outcome: str | None = None,
    default_area_code: str | None = None,
) -> list[CustomerContact]:
    """Add a contact handled elsewhere (the live engine) to the history of its customers.

    ``key`` is the customer the contact was attached with, on any channel: a calling or
    texting number, an e-mail sender's (or chat visitor's) address, or a WeChat follower's
    ``wechat:<openid>``; :func:`customers_of_key` finds who is behind it. Every customer
    sharing a number (a family landline) gets the contact, since the engine cannot tell which
    of them called. A contact already in a customer's history (same ``contact_id``) is not
    added twice, so a replay of the event log is harmless. Unknown keys record nothing.
    Example::

        record_finished_contact(session, key="138 1234 5678", channel="voice",
                                at=utcnow(), contact_id="L2611230900-000001")
    """
    ids = customers_of_key(session, key=key, default_area_code=default_area_code)
    if not ids:
        return []
    known = set(
        session.scalars(
            select(CustomerContact.customer_id).where(
                CustomerContact.contact_id == contact_id, CustomerContact.customer_id.in_(ids)
            )
        )
    )
    added = []
    for customer_id in ids:
        if customer_id in known:
            continue
        contact = record_contact(
            session,
            customer_id=customer_id,
            channel=channel,
            at=at,
            direction=direction,
            contact_id=contact_id,
            agent_id=agent_id,
            summary=summary,
        )
        contact.queue, contact.outcome = queue, outcome
        added.append(contact)
    return added


def contacts_since(
    session: Session, *, since: datetime, channels: Sequence[str]
) -> list[CustomerContact]:
    """The customers' contacts on ``channels`` from ``since`` on, oldest first (a contact
    shared by a family's landline is listed once per customer)."""
    query = (
        select(CustomerContact)
        .where(
            CustomerContact.channel.in_(list(channels)),
            CustomerContact.at >= since,
            CustomerContact.contact_id.is_not(None),
        )
        .order_by(CustomerContact.at, CustomerContact.id)
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class Reach:
    """Where a customer can be sent a message: their first e-mail address and mobile number."""

    email: str | None
    mobile: str | None


def reach(session: Session, *, customer_id: int) -> Reach:
    """The customer's (merges followed) first e-mail address and first mobile number."""
    customer = get_customer(session, customer_id=customer_id)
    email = session.scalars(
        select(CustomerEmail.address)
        .where(CustomerEmail.customer_id == customer.id)
        .order_by(CustomerEmail.id)
    ).first()
    mobile = session.scalars(
        select(CustomerPhone.e164)
        .where(
            CustomerPhone.customer_id == customer.id,
            CustomerPhone.kind == PhoneKind.MOBILE.value,
        )
        .order_by(CustomerPhone.id)
    ).first()
    return Reach(email, mobile)


_customers = Customer.__table__.c
_phones = CustomerPhone.__table__.c
_products = Product.__table__.c
_contacts = CustomerContact.__table__.c
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_POP_CUSTOMER_IDS = (
    select(_customers.id, _customers.merged_into_id)
    .join_from(Customer.__table__, CustomerPhone.__table__, _phones.customer_id == _customers.id)
    .where(_phones.e164 == bindparam("e164"))
)
_POP_CUSTOMERS = select(
    _customers.id, _customers.name, _customers.vip_level, _customers.site, _customers.merged_into_id
).where(_customers.id.in_(_IDS))
_POP_PRODUCTS = select(
    _products.id,
    _products.customer_id,
    _products.model,
    _products.serial_number,
    _products.warranty_until,
).where(_products.customer_id.in_(_IDS))
_POP_CONTACTS = (
    select(
        _contacts.at,
        _contacts.channel,
        _contacts.direction,
        _contacts.contact_id,
        _contacts.agent_id,
        _contacts.queue,
        _contacts.outcome,
        _contacts.summary,
    )
    .where(_contacts.customer_id.in_(_IDS))
    .order_by(_contacts.at.desc())
    .limit(bindparam("limit"))
)


@dataclass
class NumberLookup:
    """CRM's part of a screen pop: who is behind a calling number, what they own, past contacts.

    ``customer_ids`` are the customers found (merges followed), in the order of ``customers``.
    """

    calling_number: str
    e164: str | None
    customers: list[dict[str, Any]] = field(default_factory=list)
    products: list[dict[str, Any]] = field(default_factory=list)
    last_contacts: list[dict[str, Any]] = field(default_factory=list)
    customer_ids: list[int] = field(default_factory=list)


def lookup_number(
    session: Session,
    *,
    calling_number: str,
    default_area_code: str | None = None,
    contacts: int = 5,
    masked: bool = False,
) -> NumberLookup:
    """Look up a calling number: customer(s), their products and last contacts.

    Several customers can share a number (a family landline); all are returned, newest
    contact first in each list. The screen pop (:func:`hotline.desk.customers.screen_pop`)
    adds their open tickets. Example::

        found = lookup_number(session, calling_number="+86 138 1234 5678")
        found.customers[0]["name"]
    """
    number = try_normalize(calling_number, default_area_code=default_area_code)
    pop = NumberLookup(calling_number=calling_number, e164=number.e164 if number else None)
    if number is None:
        return pop
    # Prebuilt Core statements on the session's connection, not ORM queries: this runs on
    # every inbound call (p99 target 5 ms) and statement building was half the time.
    session.flush()  # the connection does not autoflush as session.execute would
    connection = session.connection()
    ids: list[int] = []
    for row in connection.execute(_POP_CUSTOMER_IDS, {"e164": number.e164}):
        customer_id = row.merged_into_id or row.id
        if customer_id not in ids:
            ids.append(customer_id)
    return _popped(session, pop, ids, contacts=contacts, masked=masked)


def _popped(
    session: Session, pop: NumberLookup, ids: list[int], *, contacts: int, masked: bool
) -> NumberLookup:
    """``pop`` with the customers ``ids`` (merges followed), their products and contacts."""
    if not ids:
        return pop
    connection = session.connection()
    customers = connection.execute(_POP_CUSTOMERS, {"ids": ids}).all()
    if any(c.merged_into_id is not None for c in customers):
        # A survivor that was itself merged later: follow the chain (rare, so the slow way).
        ids = list(dict.fromkeys(get_customer(session, customer_id=i).id for i in ids))
        customers = connection.execute(_POP_CUSTOMERS, {"ids": ids}).all()
    pop.customer_ids = ids
    pop.customers = [
        {
            "id": c.id,
            "name": mask_name(c.name) if masked else c.name,
            "vip_level": c.vip_level,
            "site": c.site,
        }
        for c in customers
    ]
    pop.products = [
        {
            "id": p.id,
            "customer_id": p.customer_id,
            "model": p.model,
            "serial_number": p.serial_number,
            "warranty_until": p.warranty_until.isoformat() if p.warranty_until else None,
        }
        for p in connection.execute(_POP_PRODUCTS, {"ids": ids})
    ]
    pop.last_contacts = [
        {
            "at": c.at.isoformat(),
            "channel": c.channel,
            "direction": c.direction,
            "contact_id": c.contact_id,
            "agent_id": c.agent_id,
            "queue": c.queue,
            "outcome": c.outcome,
            "summary": c.summary,
        }
        for c in connection.execute(_POP_CONTACTS, {"ids": ids, "limit": contacts})
    ]
    return pop


# ---------------------------------------------------------------- channel identities

#: How a customer is known on a digital channel: a WeChat follower's openid, the e-mail
#: address or number a web chat visitor gave (as an agent matched it to the customer, or as
#: the visitor proved with a one-time code), or their id on the company's web site where they
#: were signed in when they chatted (``chat_login``, vouched for by the site's signed token).
IDENTITY_KINDS = ("wechat", "email", "phone", "chat_login")
#: The prefix a WeChat follower's contacts carry as their customer (``wechat:<openid>``).
WECHAT_PREFIX = "wechat:"
#: The prefix of a signed-in web chat visitor's customer key (``chatlogin:<site's id>``).
CHAT_LOGIN_PREFIX = "chatlogin:"


@dataclass(frozen=True)
class Identity:
    """A channel identity and the customer it is linked to (``None``: linked to nobody)."""

    kind: str
    value: str
    customer_id: int | None = None
    #: Who made the link: an agent's username, or ``chat-login`` / ``chat-code`` when the
    #: customer's own proof did (``None`` while linked to nobody).
    linked_by: str | None = None

    def shown(self, *, masked: bool) -> str:
        """The identity as a person reads it, masked for roles that don't need it."""
        if not masked:
            return self.value
        if self.kind == "email":
            return mask_email(self.value)
        if self.kind == "phone":
            return mask_phone(self.value)
        return "…" + self.value[-6:]


def identity_of(key: str, *, default_area_code: str | None = None) -> Identity | None:
    """The channel identity a contact's customer key names, or ``None`` when it names none.

    A WeChat follower's key is ``wechat:<openid>``, a signed-in web chat visitor's
    ``chatlogin:<id on the company's site>``; a web chat's is otherwise the e-mail address or the
    number its visitor gave (the number normalised to E.164, the address in lower case).
    Example: ``identity_of("wechat:oLVPpjqs9Bhv")`` is ``Identity("wechat", "oLVPpjqs9Bhv")``.
    """
    key = key.strip()
    if key.startswith(WECHAT_PREFIX):
        open_id = key[len(WECHAT_PREFIX) :]
        return Identity("wechat", open_id) if open_id else None
    if key.startswith(CHAT_LOGIN_PREFIX):
        external_id = key[len(CHAT_LOGIN_PREFIX) :]
        return Identity("chat_login", external_id) if external_id else None
    if "@" in key:
        return Identity("email", key.lower())
    number = try_normalize(key, default_area_code=default_area_code)
    return Identity("phone", number.e164) if number is not None else None


def identity_linked(session: Session, *, identity: Identity) -> Identity:
    """``identity`` with the customer it is linked to (a merged one followed to its survivor)
    and who linked it."""
    row = session.execute(
        select(CustomerIdentity.customer_id, CustomerIdentity.linked_by).where(
            CustomerIdentity.kind == identity.kind, CustomerIdentity.value == identity.value
        )
    ).first()
    if row is None:
        return Identity(identity.kind, identity.value)
    customer_id = get_customer(session, customer_id=row.customer_id).id
    return Identity(identity.kind, identity.value, customer_id, row.linked_by)


def link_identity(
    session: Session, *, customer_id: int, identity: Identity, actor: str
) -> Identity:
    """Link a channel identity to a customer, so their next chat or WeChat message pops them.

    De-duplicated: an identity belongs to one customer at most; linking it again to the same
    customer changes nothing, and linking it to another is refused until it is unlinked.
    Audited (``customer.identity_link``). Example::

        link_identity(session, customer_id=7, identity=Identity("wechat", "oLVP…"), actor="a004")
    """
    if identity.kind not in IDENTITY_KINDS:
        rule = f"identity kind must be one of {', '.join(IDENTITY_KINDS)}"
        raise ValidationFailed([Problem(rule, field="kind")])
    customer = get_customer(session, customer_id=customer_id)
    linked = identity_linked(session, identity=identity)
    if linked.customer_id == customer.id:
        return linked
    if linked.customer_id is not None:
        raise Conflict(
            f"this {identity.kind} identity is linked to customer {linked.customer_id}: "
            "unlink it first"
        )
    session.add(
        CustomerIdentity(
            customer_id=customer.id, kind=identity.kind, value=identity.value, linked_by=actor
        )
    )
    session.flush()
    audit(
        session,
        actor=actor,
        action="customer.identity_link",
        target=f"customer:{customer.id}",
        detail={"kind": identity.kind},
    )
    return Identity(identity.kind, identity.value, customer.id, actor)


def unlink_identity(session: Session, *, identity: Identity, actor: str) -> Identity:
    """Unlink a channel identity from its customer; the identity as it was linked.

    Audited (``customer.identity_unlink``); 404 (:class:`NotFound`) when it is linked to
    nobody.
    """
    row = session.scalars(
        select(CustomerIdentity).where(
            CustomerIdentity.kind == identity.kind, CustomerIdentity.value == identity.value
        )
    ).first()
    if row is None:
        raise NotFound(f"this {identity.kind} identity is linked to no customer")
    customer_id = row.customer_id
    session.delete(row)
    session.flush()
    audit(
        session,
        actor=actor,
        action="customer.identity_unlink",
        target=f"customer:{customer_id}",
        detail={"kind": identity.kind},
    )
    return Identity(identity.kind, identity.value, customer_id)


def customers_of_key(
    session: Session, *, key: str, default_area_code: str | None = None
) -> list[int]:
    """Ids of the customers behind a contact's customer key, on any channel (merges followed).

    The customer an agent linked the key's identity to comes first (a WeChat follower's
    ``wechat:<openid>``, a chat visitor's address or number), then those on file with the
    e-mail address or phone number. Example: ``customers_of_key(session, key="li@example.com")``.
    """
    identity = identity_of(key, default_area_code=default_area_code)
    if identity is None:
        return []
    linked = identity_linked(session, identity=identity)
    ids = [linked.customer_id] if linked.customer_id is not None else []
    if identity.kind == "email":
        ids += [c.id for c in customers_with_email(session, address=identity.value)]
    elif identity.kind == "phone":
        ids += customers_with_number(session, number=identity.value)
    return list(dict.fromkeys(ids))


def lookup_identity(
    session: Session,
    *,
    key: str,
    default_area_code: str | None = None,
    contacts: int = 5,
    masked: bool = False,
) -> NumberLookup:
    """Look up a chat's or a WeChat follower's customer key, as :func:`lookup_number` does
    a calling number: the customer linked to the identity first, then those on file with the
    address or number. Example: ``lookup_identity(session, key="wechat:oLVP…").customers``.
    """
    identity = identity_of(key, default_area_code=default_area_code)
    pop = NumberLookup(
        calling_number=key,
        e164=identity.value if identity is not None and identity.kind == "phone" else None,
    )
    if identity is None:
        return pop
    ids = customers_of_key(session, key=key, default_area_code=default_area_code)
    session.flush()
    return _popped(session, pop, ids, contacts=contacts, masked=masked)


def customer_view(session: Session, *, customer: Customer, masked: bool) -> dict[str, Any]:
    """A customer with phones, e-mails, addresses and products, masked when asked."""
    phones = session.scalars(
        select(CustomerPhone)
        .where(CustomerPhone.customer_id == customer.id)
        .order_by(CustomerPhone.id)
    )
    emails = session.scalars(select(CustomerEmail).where(CustomerEmail.customer_id == customer.id))
    addresses = session.scalars(
        select(CustomerAddress).where(CustomerAddress.customer_id == customer.id)
    )
    products = session.scalars(select(Product).where(Product.customer_id == customer.id))
    return {
        "id": customer.id,
        "name": mask_name(customer.name) if masked else customer.name,
        "vip_level": customer.vip_level,
        "site": customer.site,
        "merged_into_id": customer.merged_into_id,
        "phones": [
            {"e164": mask_phone(p.e164) if masked else p.e164, "kind": p.kind} for p in phones
        ],
        "emails": [mask_email(e.address) if masked else e.address for e in emails],
        "addresses": [mask_address(a.text) if masked else a.text for a in addresses],
        "products": [
            {
                "id": p.id,
                "model": p.model,
                "serial_number": p.serial_number,
                "warranty_until": p.warranty_until.isoformat() if p.warranty_until else None,
            }
            for p in products
        ],
    }


def find_customers(
    session: Session, *, name: str | None = None, phone: str | None = None, limit: int = 20
) -> list[Customer]:
    """Find active customers by exact folded name and/or phone number."""
    query = select(Customer).where(Customer.merged_into_id.is_(None))
    if name:
        query = query.where(Customer.name_folded == matching.fold(name))
    if phone:
        number = try_normalize(phone)
        if number is None:
            return []
        query = query.join(CustomerPhone, CustomerPhone.customer_id == Customer.id).where(
            CustomerPhone.e164 == number.e164
        )
    return list(session.scalars(query.order_by(Customer.id).limit(limit)).unique())


def search_customers(session: Session, *, text: str, limit: int = 20) -> list[Customer]:
    """Active customers that ``text`` names: a phone number (normalised), a product's serial
    number, or a name, compared folded (full/half width, traditional or simplified Chinese,
    case and spaces ignored) from its start, so 张 finds 张伟 and 張偉 finds 张伟.

    Merged records lead to their survivor; each customer is listed once, oldest first.

    Example: ``search_customers(session, text="138 1234 5678")``.
    """
    text = text.strip()
    owners: list[int] = []
    number = try_normalize(text)
    if number is not None:
        owners += session.scalars(
            select(CustomerPhone.customer_id).where(CustomerPhone.e164 == number.e164)
        ).all()
    owners += session.scalars(select(Product.customer_id).where(Product.serial_number == text))
    folded = matching.fold(text)
    if folded:
        owners += session.scalars(
            select(Customer.id)
            .where(Customer.merged_into_id.is_(None), _starts_with(Customer.name_folded, folded))
            .order_by(Customer.id)
            .limit(limit)
        ).all()
    if folded.isascii() and folded.isalpha():
        # Latin letters may be a name spelt in pinyin: zhangwei, zhang wei, ZHANG Wei.
        owners += session.scalars(
            select(Customer.id)
            .where(Customer.merged_into_id.is_(None), _starts_with(Customer.name_pinyin, folded))
            .order_by(Customer.id)
            .limit(limit)
        ).all()
    found: dict[int, Customer] = {}
    for owner in owners:
        customer = get_customer(session, customer_id=owner)
        found.setdefault(customer.id, customer)
    return sorted(found.values(), key=lambda c: c.id)[:limit]


def _starts_with(column: Any, prefix: str) -> Any:
    """``column`` starts with ``prefix``, as a range an index answers on SQLite and PostgreSQL.

    SQLite's LIKE ignores case, so it cannot use a plain index and reads every customer;
    a range between the prefix and the prefix followed by the highest character can. The
    range is exact where text sorts by code point (SQLite; PostgreSQL under the C or
    C.UTF-8 collation, as ``scripts/postgres.sh`` sets up); the LIKE repeats the test, so a
    collation that sorts otherwise can narrow the answer but never widen it (its wildcards
    escaped: a % typed by a user is a character here).
    """
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return and_(column >= prefix, column < prefix + "\U0010ffff", column.like(pattern, escape="\\"))


def contact_history(
    session: Session, *, customer_id: int, limit: int = 100
) -> list[CustomerContact]:
    """The customer's contacts on every channel, newest first."""
    return list(
        session.scalars(
            select(CustomerContact)
            .where(CustomerContact.customer_id == customer_id)
            .order_by(CustomerContact.at.desc(), CustomerContact.id.desc())
            .limit(limit)
        )
    )


def contacts_with_ids(
    session: Session, *, customer_id: int, contact_ids: Sequence[str]
) -> list[CustomerContact]:
    """The customer's contacts recorded under ``contact_ids`` (the engine's contact ids),
    oldest first: the contacts a ticket of theirs was opened or worked in."""
    wanted = sorted({c for c in contact_ids if c})
    if not wanted:
        return []
    return list(
        session.scalars(
            select(CustomerContact)
            .where(
                CustomerContact.customer_id == customer_id,
                CustomerContact.contact_id.in_(wanted),
            )
            .order_by(CustomerContact.at, CustomerContact.id)
        )
    )


# ---------------------------------------------------------------- duplicates and merging


def profiles(
    session: Session, *, customer_ids: Sequence[int] | None = None
) -> list[matching.CustomerProfile]:
    """Active customers (all, or ``customer_ids``) as matching profiles, in four bulk queries."""
    query = select(Customer.id, Customer.name).where(Customer.merged_into_id.is_(None))
    if customer_ids is not None:
        query = query.where(Customer.id.in_(list(customer_ids)))
    names: dict[int, str] = {customer_id: name for customer_id, name in session.execute(query)}
    if customer_ids is not None and not names:
        return []
    wanted = list(names) if customer_ids is not None else None
    mobiles: dict[int, list[str]] = {}
    landlines: dict[int, list[str]] = {}
    phone_query = select(CustomerPhone.customer_id, CustomerPhone.e164, CustomerPhone.kind)
    email_query = select(CustomerEmail.customer_id, CustomerEmail.address)
    address_query = select(CustomerAddress.customer_id, CustomerAddress.text)
    if wanted is not None:
        phone_query = phone_query.where(CustomerPhone.customer_id.in_(wanted))
        email_query = email_query.where(CustomerEmail.customer_id.in_(wanted))
        address_query = address_query.where(CustomerAddress.customer_id.in_(wanted))
    for customer_id, e164, kind in session.execute(phone_query):
        target = mobiles if kind == PhoneKind.MOBILE else landlines
        target.setdefault(customer_id, []).append(e164)
    emails: dict[int, list[str]] = {}
    for customer_id, address in session.execute(email_query):
        emails.setdefault(customer_id, []).append(address)
    addresses: dict[int, list[str]] = {}
    for customer_id, text in session.execute(address_query):
        addresses.setdefault(customer_id, []).append(text)
    return [
        matching.CustomerProfile(
            id=customer_id,
            name=name,
            mobiles=tuple(mobiles.get(customer_id, ())),
            landlines=tuple(landlines.get(customer_id, ())),
            emails=tuple(emails.get(customer_id, ())),
            addresses=tuple(addresses.get(customer_id, ())),
        )
        for customer_id, name in names.items()
    ]


def likely_duplicates_of(
    session: Session, *, customer_id: int, threshold: float = matching.THRESHOLD
) -> list[matching.PairScore]:
    """Existing customers that are probably the same person as ``customer_id``, best first.

    The same rules as :func:`duplicate_report`, for one record: run when an agent creates a
    customer, so a duplicate is caught before it is used. Candidates are the customers
    sharing a phone, an e-mail or the folded name.
    """
    (subject,) = profiles(session, customer_ids=[customer_id]) or (None,)
    if subject is None:
        return []
    phones = [*subject.mobiles, *subject.landlines]
    candidates: set[int] = set()
    if phones:
        candidates.update(
            session.scalars(select(CustomerPhone.customer_id).where(CustomerPhone.e164.in_(phones)))
        )
    if subject.emails:
        candidates.update(
            session.scalars(
                select(CustomerEmail.customer_id).where(
                    CustomerEmail.address.in_([e.lower() for e in subject.emails])
                )
            )
        )
    candidates.update(
        session.scalars(
            select(Customer.id)
            .where(Customer.name_folded == matching.fold(subject.name))
            .limit(matching.MAX_BLOCK)
        )
    )
    candidates.discard(customer_id)
    scored = [
        matching.score_pair(subject, other)
        for other in profiles(session, customer_ids=sorted(candidates))
    ]
    return sorted((p for p in scored if p.score >= threshold), key=lambda p: -p.score)


@dataclass
class DuplicateReport:
    """Likely duplicate customers and the duplication rate of the customer base."""

    customers: int
    clusters: list[list[int]]
    pairs: list[matching.PairScore]
    duplication_rate: float
    skipped_blocks: list[str]


def duplicate_report(session: Session, *, threshold: float = matching.THRESHOLD) -> DuplicateReport:
    """Find likely duplicates among active customers."""
    people = profiles(session)
    result = matching.find_duplicates(people, threshold=threshold)
    return DuplicateReport(
        customers=len(people),
        clusters=result.clusters,
        pairs=result.pairs,
        duplication_rate=result.duplication_rate(len(people)),
        skipped_blocks=result.skipped_blocks,
    )


def merge_customers(
    session: Session,
    *,
    survivor_id: int,
    merged_id: int,
    actor: str,
    following: Sequence[FollowingRecords],
) -> CustomerMerge:
    """Merge ``merged_id`` into ``survivor_id`` keeping all history (see :func:`undo_merge`).

    ``following`` names the other domains' rows that move with the customer; it has no
    default, so that no caller forgets them (:func:`hotline.desk.customers.merge_customers`
    passes the tickets).
    """
    if survivor_id == merged_id:
        raise Conflict("cannot merge a customer into itself")
    survivor = get_customer(session, customer_id=survivor_id, follow_merges=False)
    merged = get_customer(session, customer_id=merged_id, follow_merges=False)
    if survivor.merged_into_id is not None:
        raise Conflict(f"customer {survivor_id} is itself merged into {survivor.merged_into_id}")
    if merged.merged_into_id is not None:
        raise Conflict(f"customer {merged_id} is already merged into {merged.merged_into_id}")
    moved: dict[str, list[int]] = {}
    for name, model in MOVABLE.items():
        ids = list(session.scalars(select(model.id).where(model.customer_id == merged_id)))
        moved[name] = ids
        if ids:
            session.execute(
                update(model).where(model.id.in_(ids)).values(customer_id=survivor_id),
                execution_options={"synchronize_session": False},
            )
    for records in following:
        ids = records.ids_of(session, merged_id)
        moved[records.name] = ids
        if ids:
            records.move(session, ids, merged_id, survivor_id)
    merged.merged_into_id = survivor_id
    merged.updated_at = utcnow()
    merge = CustomerMerge(
        survivor_id=survivor_id, merged_id=merged_id, actor=actor, moved=moved, active=True
    )
    session.add(merge)
    session.flush()
    session.expire_all()
    audit(
        session,
        actor=actor,
        action="customer.merge",
        target=f"customer:{merged_id}",
        detail={"survivor": survivor_id, "merge": merge.id},
    )
    return merge


def undo_merge(
    session: Session, *, merge_id: int, actor: str, following: Sequence[FollowingRecords]
) -> CustomerMerge:
    """Move everything a merge moved back to the merged customer and revive it.

    ``following`` are the other domains' rows, as :func:`merge_customers` takes them.
    """
    merge = session.get(CustomerMerge, merge_id)
    if merge is None:
        raise NotFound(f"merge {merge_id} does not exist")
    if not merge.active:
        raise Conflict(f"merge {merge_id} was already undone")
    survivor = get_customer(session, customer_id=merge.survivor_id, follow_merges=False)
    if survivor.merged_into_id is not None:
        raise Conflict(
            f"customer {survivor.id} has since been merged into {survivor.merged_into_id}: "
            "undo that merge first"
        )
    for name, model in MOVABLE.items():
        ids = merge.moved.get(name, [])
        if ids:
            session.execute(
                update(model)
                .where(model.id.in_(ids), model.customer_id == merge.survivor_id)
                .values(customer_id=merge.merged_id),
                execution_options={"synchronize_session": False},
            )
    for records in following:
        ids = merge.moved.get(records.name, [])
        if ids:
            records.move(session, ids, merge.survivor_id, merge.merged_id)
    merged = get_customer(session, customer_id=merge.merged_id, follow_merges=False)
    merged.merged_into_id = None
    merge.active = False
    merge.undone_at = utcnow()
    merge.undone_by = actor
    session.flush()
    session.expire_all()
    audit(session, actor=actor, action="customer.merge_undo", target=f"merge:{merge_id}")
    return merge


# ---------------------------------------------------------------- CSV import

CUSTOMER_COLUMNS = ("name", "phones", "emails", "address", "site", "vip_level")
PRODUCT_COLUMNS = (
    "customer_phone",
    "model",
    "serial_number",
    "category",
    "purchased_on",
    "installed_on",
    "warranty_until",
)


def _rows(text: str, *, file: str, required: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    # Bounded parsing: an unclosed quote is refused at its line instead of eating the rows
    # after it (hotline.core.documents).
    check_size(len(text), source=file)
    header, records = csv_records(text, source=file)
    missing = [c for c in required if c not in header]
    if missing:
        raise ValidationFailed([Problem(f"missing column {c!r}", file, 1, c) for c in missing])
    # Line numbers count the header as line 1 (what a spreadsheet shows).
    rows: list[tuple[int, dict[str, str]]] = []
    for line, row in records:
        if None in row:
            raise ValidationFailed([Problem("the row has more cells than the header", file, line)])
        rows.append((line, {k: (v or "").strip() for k, v in row.items() if k}))
    return rows


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace("；", ";").split(";") if part.strip()]


@dataclass(frozen=True)
class CheckedCustomer:
    """One customer row of an import file that passed every check, phones normalised."""

    line: int
    name: str
    phones: tuple[tuple[str, str, str], ...]  # (as written, E.164, kind)
    emails: tuple[str, ...]
    address: str | None
    site: str | None
    vip_level: int


def check_customers_csv(
    *, text: str, file: str = "customers.csv", default_area_code: str | None = None
) -> list[CheckedCustomer]:
    """Parse and check a customers CSV without touching the database.

    Raises :class:`ValidationFailed` listing every bad row (file, line, field, rule); else
    returns the rows, ready to write. Columns: ``name`` (required), ``phones`` and ``emails``
    (``;``-separated), ``address``, ``site``, ``vip_level``.
    """
    rows = _rows(text, file=file, required=("name",))
    problems: list[Problem] = []
    seen_phones: dict[str, int] = {}
    vip_levels: dict[int, int] = {}
    for line, row in rows:
        phones = _split(row.get("phones", ""))
        try:
            vip_levels[line] = vip_level = rules.parse_vip_level(row.get("vip_level", ""))
        except ValueError as error:
            problems.append(Problem(str(error), file, line, "vip_level"))
            vip_level = 0
        # The same rules as a customer created through the API (hotline.crm.rules).
        problems += rules.customer_problems(
            name=row.get("name", ""),
            phones=phones,
            emails=_split(row.get("emails", "")),
            addresses=[row["address"]] if row.get("address") else [],
            site=row.get("site") or None,
            vip_level=vip_level,
            default_area_code=default_area_code,
            line=line,
            file=file,
        )
        for raw in phones:
            number = try_normalize(raw, default_area_code=default_area_code)
            if number is not None and number.e164 in seen_phones:
                first = seen_phones[number.e164]
                problems.append(
                    Problem(
                        f"phone {raw!r} repeats line {first} of this file", file, line, "phones"
                    )
                )
            elif number is not None:
                seen_phones[number.e164] = line
    if problems:
        raise ValidationFailed(problems)
    checked = []
    for line, row in rows:
        numbers: list[tuple[str, str, str]] = []
        for raw in _split(row.get("phones", "")):
            number = normalize(raw, default_area_code=default_area_code)
            numbers.append((raw.strip(), number.e164, str(number.kind)))
        checked.append(
            CheckedCustomer(
                line=line,
                name=row["name"].strip(),
                phones=tuple(numbers),
                emails=tuple(e.strip().lower() for e in _split(row.get("emails", ""))),
                address=row.get("address") or None,
                site=row.get("site") or None,
                vip_level=vip_levels[line],
            )
        )
    return checked


def import_customers_csv(
    session: Session,
    *,
    text: str,
    file: str = "customers.csv",
    default_area_code: str | None = None,
    actor: str = "import",
) -> list[int]:
    """Import customers from CSV in the caller's transaction; any bad row rejects the file.

    Rows are checked first (:func:`check_customers_csv`), then written in one savepoint that
    is rolled back on error. For a file of thousands of rows use the background job
    (:mod:`hotline.crm.imports`): this holds the caller's write transaction for every row.
    """
    checked = check_customers_csv(text=text, file=file, default_area_code=default_area_code)
    ids: list[int] = []
    with session.begin_nested():
        for row in checked:
            customer = create_customer(
                session,
                name=row.name,
                phones=[raw for raw, _, _ in row.phones],
                emails=list(row.emails),
                addresses=[row.address] if row.address else [],
                site=row.site,
                vip_level=row.vip_level,
                default_area_code=default_area_code,
                actor=actor,
            )
            ids.append(customer.id)
    audit(session, actor=actor, action="customer.import", target=file, detail={"rows": len(ids)})
    return ids


def stage_customers(
    session: Session, *, job_id: str, customers: Sequence[CheckedCustomer], first_seq: int
) -> None:
    """Write checked rows to the job's staging tables (invisible to the rest of the center).

    ``first_seq`` numbers them in file order across chunks: 1 for the file's first row.
    """
    staged = []
    points: list[dict[str, Any]] = []
    for offset, row in enumerate(customers):
        seq = first_seq + offset
        staged.append(
            {
                "job_id": job_id,
                "seq": seq,
                "line": row.line,
                "name": row.name,
                "name_folded": matching.fold(row.name),
                "name_pinyin": matching.pinyin_key(row.name),
                "site": row.site,
                "vip_level": row.vip_level,
            }
        )
        point = {"job_id": job_id, "seq": seq, "e164": None, "phone_kind": None}
        points += [
            point | {"point": "phone", "value": raw, "e164": e164, "phone_kind": kind}
            for raw, e164, kind in row.phones
        ]
        points += [point | {"point": "email", "value": email} for email in row.emails]
        if row.address:
            points.append(point | {"point": "address", "value": row.address.strip()})
    if staged:
        session.execute(insert(StagedCustomer), staged)
    if points:
        session.execute(insert(StagedContactPoint), points)


CUSTOMER_SWAP_COLUMNS = (
    *("id", "name", "name_folded", "name_pinyin", "kind", "vip_level", "language", "site"),
    "note",
    *("created_at", "updated_at"),
)


def publish_staged_customers(session: Session, *, job_id: str, file: str, actor: str) -> range:
    """Move a job's staged customers into the customer tables: the import's one swap.

    Set-based (``INSERT … SELECT``), so even 40,000 rows take the write lock only briefly.
    The new ids are consecutive, in file order; returns them. On PostgreSQL the customers
    table is locked against other inserts for the swap and its id sequence moved past it.
    """
    count = session.scalar(
        select(func.count()).select_from(StagedCustomer).where(StagedCustomer.job_id == job_id)
    )
    if not count:
        return range(0)
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(sql("LOCK TABLE customers IN EXCLUSIVE MODE"))
        base = session.scalar(
            sql(
                "SELECT GREATEST(COALESCE(MAX(id), 0), "
                "nextval(pg_get_serial_sequence('customers', 'id'))) FROM customers"
            )
        )
    else:
        base = session.scalar(select(func.coalesce(func.max(Customer.id), 0)))
    assert base is not None
    now = utcnow()
    staged = select(StagedCustomer).where(StagedCustomer.job_id == job_id).subquery()
    session.execute(
        insert(Customer).from_select(
            CUSTOMER_SWAP_COLUMNS,
            select(
                staged.c.seq + base,
                staged.c.name,
                staged.c.name_folded,
                staged.c.name_pinyin,
                literal("person"),
                staged.c.vip_level,
                literal("zh-CN"),
                staged.c.site,
                literal(""),
                literal(now, UTCDateTime()),
                literal(now, UTCDateTime()),
            ),
        )
    )
    points = StagedContactPoint
    mine = points.job_id == job_id
    session.execute(
        insert(CustomerPhone).from_select(
            ["customer_id", "e164", "raw", "kind", "label"],
            select(
                points.seq + base, points.e164, points.value, points.phone_kind, literal("")
            ).where(mine, points.point == "phone"),
        )
    )
    session.execute(
        insert(CustomerEmail).from_select(
            ["customer_id", "address"],
            select(points.seq + base, points.value).where(mine, points.point == "email"),
        )
    )
    session.execute(
        insert(CustomerAddress).from_select(
            ["customer_id", "text", "city", "label"],
            select(points.seq + base, points.value, literal(""), literal("")).where(
                mine, points.point == "address"
            ),
        )
    )
    if postgres:
        session.execute(
            sql("SELECT setval(pg_get_serial_sequence('customers', 'id'), :top)"),
            {"top": base + count},
        )
    discard_staged_customers(session, job_id=job_id)
    ids = range(base + 1, base + count + 1)
    audit(
        session,
        actor=actor,
        action="customer.import",
        target=file,
        detail={"rows": count, "job": job_id, "first_id": ids[0], "last_id": ids[-1]},
    )
    return ids


def discard_staged_customers(session: Session, *, job_id: str) -> None:
    """Delete a job's staged rows (after its swap, or when it failed)."""
    session.execute(delete(StagedContactPoint).where(StagedContactPoint.job_id == job_id))
    session.execute(delete(StagedCustomer).where(StagedCustomer.job_id == job_id))


def import_products_csv(
    session: Session,
    *,
    text: str,
    file: str = "products.csv",
    default_area_code: str | None = None,
    actor: str = "import",
) -> list[int]:
    """Import products from CSV, each attached to the customer found by ``customer_phone``.

    Dates are ISO (``2026-03-01``). All rows are checked before any is written.
    """
    rows = _rows(text, file=file, required=("customer_phone", "model"))
    problems: list[Problem] = []
    resolved: list[tuple[int, dict[str, str], dict[str, date | None]]] = []
    for line, row in rows:
        number = try_normalize(row.get("customer_phone", ""), default_area_code=default_area_code)
        customer_id: int | None = None
        if number is None:
            problems.append(Problem("not a phone number", file, line, "customer_phone"))
        else:
            owners = list(
                session.scalars(
                    select(CustomerPhone.customer_id)
                    .join(Customer, Customer.id == CustomerPhone.customer_id)
                    .where(CustomerPhone.e164 == number.e164, Customer.merged_into_id.is_(None))
                )
            )
            if not owners:
                problems.append(
                    Problem(f"no customer has phone {number.e164}", file, line, "customer_phone")
                )
            elif len(set(owners)) > 1:
                problems.append(
                    Problem(
                        f"{len(set(owners))} customers share phone {number.e164}",
                        file,
                        line,
                        "customer_phone",
                    )
                )
            else:
                customer_id = owners[0]
        problems += rules.product_problems(
            model=row.get("model", ""),
            serial_number=row.get("serial_number") or None,
            category=row.get("category", ""),
            line=line,
            file=file,
        )
        dates: dict[str, date | None] = {}
        for column in ("purchased_on", "installed_on", "warranty_until"):
            value = row.get(column, "")
            try:
                dates[column] = date.fromisoformat(value) if value else None
            except ValueError:
                problems.append(Problem(f"not a date (YYYY-MM-DD): {value!r}", file, line, column))
        if customer_id is not None:
            resolved.append((customer_id, row, dates))
    if problems:
        raise ValidationFailed(problems)
    ids: list[int] = []
    with session.begin_nested():
        for customer_id, row, dates in resolved:
            product = add_product(
                session,
                customer_id=customer_id,
                model=row["model"],
                serial_number=row.get("serial_number") or None,
                category=row.get("category", ""),
                actor=actor,
                **dates,
            )
            ids.append(product.id)
    return ids


@dataclass(frozen=True)
class CallTarget:
    """A customer to call about one of their products (a campaign list built from a query)."""

    customer_id: int
    name: str
    phone: str
    product_model: str
    serial_number: str | None


def customers_owning(
    session: Session,
    *,
    category: str | None = None,
    model: str | None = None,
    installed_from: date | None = None,
    installed_to: date | None = None,
    warranty_ends_by: date | None = None,
    limit: int = 50_000,
) -> list[CallTarget]:
    """Active customers owning a product that matches, each once, with their first number.

    Mobiles come before landlines; a customer without a number is left out (there is no one
    to call). ``warranty_ends_by`` keeps products whose warranty ends on or before that day.
    """
    query = (
        select(Customer.id, Customer.name, Product.model, Product.serial_number)
        .join(Product, Product.customer_id == Customer.id)
        .where(Customer.merged_into_id.is_(None))
    )
    if category:
        query = query.where(Product.category == category)
    if model:
        query = query.where(Product.model == model)
    if installed_from:
        query = query.where(Product.installed_on >= installed_from)
    if installed_to:
        query = query.where(Product.installed_on <= installed_to)
    if warranty_ends_by:
        query = query.where(Product.warranty_until <= warranty_ends_by)
    owners: dict[int, tuple[str, str, str | None]] = {}
    for customer_id, name, product_model, serial in session.execute(
        query.order_by(Customer.id, Product.id)
    ):
        owners.setdefault(customer_id, (name, product_model, serial))
        if len(owners) >= limit:
            break
    phone_rows: list[tuple[int, str, str]] = []
    ids = list(owners)
    for start in range(0, len(ids), 1000):  # bounded IN lists (SQLite's parameter limit)
        phone_rows += [
            (customer_id, e164, kind)
            for customer_id, e164, kind in session.execute(
                select(CustomerPhone.customer_id, CustomerPhone.e164, CustomerPhone.kind)
                .where(CustomerPhone.customer_id.in_(ids[start : start + 1000]))
                .order_by(CustomerPhone.id)
            )
        ]
    phones: dict[int, str] = {}
    for customer_id, e164, _kind in sorted(phone_rows, key=lambda row: row[2] != PhoneKind.MOBILE):
        phones.setdefault(customer_id, e164)
    return [
        CallTarget(customer_id, name, phones[customer_id], product_model, serial)
        for customer_id, (name, product_model, serial) in owners.items()
        if customer_id in phones
    ]


def normalized_number(raw: str) -> str | None:
    """A phone number as written → its E.164 form (``None``: not a phone number).

    >>> normalized_number("138-1234-5678"), normalized_number("hello")
    ('+8613812345678', None)
    """
    number = try_normalize(raw)
    return number.e164 if number is not None else None
