"""Purchase records: the evidence that a company may use free basic support."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime

import msgspec
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import audit
from accounts.actor import Actor
from accounts.directory import get_organization
from accounts.errors import DuplicatePurchase, PurchaseImportFailed
from accounts.models import Purchase, PurchaseChannel
from accounts.schemas import PurchaseIn
from core.errors import FieldProblem, InvalidInput
from core.pagination import Page, paginate
from core.text import first_forbidden

CSV_COLUMNS = ("product", "purchased_on", "channel", "partner_name", "reference")
MAX_IMPORT_ROWS = 10_000


async def list_purchases(
    session: AsyncSession, actor: Actor, organization_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page[Purchase]:
    await get_organization(session, actor, organization_id)
    statement = sa.select(Purchase).where(col(Purchase.organization_id) == organization_id)
    return await paginate(session, statement, col(Purchase.id), limit=limit, cursor=cursor)


def _rule_problems(data: PurchaseIn, prefix: str = "") -> list[FieldProblem]:
    problems = []
    if data.channel is PurchaseChannel.PARTNER and not data.partner_name:
        problems.append(FieldProblem(f"{prefix}partner_name", "required when channel is partner"))
    if data.channel is PurchaseChannel.DIRECT and data.partner_name:
        problems.append(FieldProblem(f"{prefix}partner_name", "must be empty when channel is direct"))
    return problems


async def _taken_references(session: AsyncSession, references: list[str]) -> set[str]:
    if not references:
        return set()
    rows = await session.scalars(
        sa.select(col(Purchase.reference)).where(col(Purchase.reference).in_(references))
    )
    return set(rows.all())


async def record_purchase(
    session: AsyncSession, actor: Actor, organization_id: uuid.UUID, data: PurchaseIn, *, now: datetime
) -> Purchase:
    await get_organization(session, actor, organization_id)
    if problems := _rule_problems(data):
        raise InvalidInput("The purchase record is inconsistent.", errors=problems)
    if await _taken_references(session, [data.reference]):
        raise DuplicatePurchase(
            f"A purchase with reference {data.reference!r} is already recorded.",
            errors=[FieldProblem("reference", "already recorded")],
        )
    purchases = await _insert(session, actor, organization_id, [data], now=now)
    return purchases[0]


async def import_purchases_csv(
    session: AsyncSession,
    actor: Actor,
    organization_id: uuid.UUID,
    text: str,
    *,
    now: datetime,
    preview: bool = False,
) -> list[Purchase]:
    """All-or-nothing CSV import: every row is checked, and any bad row rejects the whole file. A
    ``preview`` checks the file the same way and answers the purchases it would record, storing none."""
    await get_organization(session, actor, organization_id)
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in ("product", "purchased_on", "channel", "reference") if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if missing or unknown:
        raise PurchaseImportFailed(
            f"The header must be {','.join(CSV_COLUMNS)} (partner_name optional).",
            errors=[FieldProblem("header", f"missing column {c}") for c in missing]
            + [FieldProblem("header", f"unknown column {c}") for c in unknown],
        )
    rows: list[PurchaseIn] = []
    problems: list[FieldProblem] = []
    seen: dict[str, int] = {}
    for line_no, raw in enumerate(reader, start=2):
        if line_no - 1 > MAX_IMPORT_ROWS:
            raise PurchaseImportFailed(f"At most {MAX_IMPORT_ROWS} rows per file.")
        prefix = f"line {line_no}."
        if None in raw:
            problems.append(FieldProblem(f"{prefix}row", "more values than columns"))
            continue
        controls = [(k, found) for k, v in raw.items() if v and (found := first_forbidden(v)) is not None]
        if controls:
            problems += [
                FieldProblem(f"{prefix}{k}", f"contains the control character {c}") for k, c in controls
            ]
            continue
        try:
            item = PurchaseIn(
                product=(raw.get("product") or "").strip(),
                purchased_on=date.fromisoformat((raw.get("purchased_on") or "").strip()),
                channel=PurchaseChannel((raw.get("channel") or "").strip()),
                reference=(raw.get("reference") or "").strip(),
                partner_name=(raw.get("partner_name") or "").strip() or None,
            )
            item = msgspec.convert(msgspec.to_builtins(item), PurchaseIn)  # apply the field constraints
        except (ValueError, msgspec.ValidationError) as exc:
            problems.append(FieldProblem(f"{prefix}row", str(exc)))
            continue
        problems.extend(_rule_problems(item, prefix))
        if item.reference in seen:
            problems.append(FieldProblem(f"{prefix}reference", f"duplicates line {seen[item.reference]}"))
        seen.setdefault(item.reference, line_no)
        rows.append(item)
    for reference in sorted(await _taken_references(session, list(seen))):
        problems.append(FieldProblem(f"line {seen[reference]}.reference", "already recorded"))
    if not rows and not problems:
        raise PurchaseImportFailed("The file has no purchase rows.")
    if problems:
        raise PurchaseImportFailed(
            f"{len(problems)} problem(s) in the file; nothing was imported.", errors=problems
        )
    if preview:
        return [_purchase(organization_id, item, actor, now=now) for item in rows]
    return await _insert(session, actor, organization_id, rows, now=now)


def _purchase(organization_id: uuid.UUID, item: PurchaseIn, actor: Actor, *, now: datetime) -> Purchase:
    return Purchase(
        organization_id=organization_id,
        product=item.product,
        purchased_on=item.purchased_on,
        channel=item.channel,
        partner_name=item.partner_name,
        reference=item.reference,
        created_at=now,
        created_by=actor.id,
    )


async def _insert(
    session: AsyncSession, actor: Actor, organization_id: uuid.UUID, items: list[PurchaseIn], *, now: datetime
) -> list[Purchase]:
    purchases = [_purchase(organization_id, item, actor, now=now) for item in items]
    session.add_all(purchases)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent request recorded one of the references first
        raise DuplicatePurchase(
            "One of the purchase references was recorded concurrently; nothing was imported."
        ) from exc
    await audit.record_audit(
        session,
        actor,
        "purchases_recorded",
        subject_type="organization",
        subject_id=organization_id,
        organization_id=organization_id,
        now=now,
        data={"references": [p.reference for p in purchases]},
    )
    return purchases
