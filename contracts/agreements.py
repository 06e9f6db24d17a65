"""SLA contracts: sales draft them, activate them, amend them, terminate them. Who may call what is the
access table's business (api/access.py); this module decides what each change may do to a contract."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Actor, Organization, User, organization_scope, record_audit, scoped
from billing import Invoice
from contracts import notices
from contracts import terms as rules
from contracts.errors import ContractIncomplete, ContractNotDraft, ContractsOverlap, IllegalContractTransition
from contracts.models import Contract, ContractState, ContractVersion
from contracts.schemas import AmendmentIn, ContractIn, ContractPatch, ContractStatus, TerminationIn, Terms
from core.errors import Conflict, FieldProblem, InvalidInput, NotFound, check_revision
from core.pagination import Page, paginate

ONE_DAY = timedelta(days=1)
MAX_TERM = timedelta(days=10 * 365 + 3)  # ten years, leap days included


def local_today(terms: Terms, now: datetime) -> date:
    """Contracts count days in their service calendar's zone (UTC while a draft has none)."""
    zone = ZoneInfo(terms.calendar.time_zone) if terms.calendar is not None else ZoneInfo("UTC")
    return now.astimezone(zone).date()


def status_of(contract: Contract, today: date) -> ContractStatus:
    """Derived at read time from stored dates: no job has to expire or end a contract."""
    if contract.state == ContractState.DRAFT:
        return ContractStatus.DRAFT
    if contract.terminated_on is not None and today >= contract.terminated_on:
        return ContractStatus.TERMINATED
    if today >= contract.ends_before:
        return ContractStatus.EXPIRED
    return ContractStatus.ACTIVE


def in_force(contract: Contract, today: date) -> bool:
    return contract.state == ContractState.ACTIVE and contract.starts_on <= today < contract.ends_before


def version_in_force(versions: list[ContractVersion], today: date) -> ContractVersion:
    """The newest version effective by ``today``; before the contract starts, the signed terms."""
    ordered = sorted(versions, key=lambda v: v.version)
    effective = [v for v in ordered if v.effective_from <= today]
    return effective[-1] if effective else ordered[0]


async def versions_of(session: AsyncSession, contract_id: uuid.UUID) -> list[ContractVersion]:
    statement = (
        sa.select(ContractVersion)
        .where(col(ContractVersion.contract_id) == contract_id)
        .order_by(col(ContractVersion.version))
    )
    return list((await session.scalars(statement)).all())


async def _latest(session: AsyncSession, contract_id: uuid.UUID) -> ContractVersion:
    return (await versions_of(session, contract_id))[-1]


def readable_contracts(actor: Actor) -> sa.Select[Contract]:
    """The contracts the actor may see: staff and integrations any; customers their organisation's
    (accounts.tenancy), once more than a draft (a draft is the vendor's work in progress)."""
    statement = scoped(sa.select(Contract), col(Contract.organization_id), actor)
    if organization_scope(actor) is not None:
        statement = statement.where(col(Contract.state) != ContractState.DRAFT)
    return statement


async def load_contract(session: AsyncSession, actor: Actor, contract_id: uuid.UUID) -> Contract:
    """A contract the actor may see; another tenant's (or, for a customer, a draft) answers NotFound."""
    found = await session.scalars(readable_contracts(actor).where(col(Contract.id) == contract_id))
    contract = found.first()
    if contract is None:
        raise NotFound("No contract with this id.")
    return contract


async def list_contracts(
    session: AsyncSession,
    actor: Actor,
    *,
    organization_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> Page[Contract]:
    statement = readable_contracts(actor)
    if organization_id is not None:
        statement = statement.where(col(Contract.organization_id) == organization_id)
    return await paginate(session, statement, col(Contract.id), limit=limit, cursor=cursor)


def _check_dates(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise InvalidInput(
            "A contract ends on or after the day it starts.",
            errors=[FieldProblem("ends_on", "before starts_on")],
        )
    if ends_on - starts_on > MAX_TERM or starts_on.year < 2000:
        raise InvalidInput(
            f"A contract runs at most {MAX_TERM.days // 365} years, from 2000 on.",
            errors=[FieldProblem("ends_on", "too far from starts_on")],
        )


async def _terms_problems(
    session: AsyncSession, organization_id: uuid.UUID, terms: Terms, *, complete: bool
) -> list[FieldProblem]:
    problems = rules.problems_of(terms, complete=complete)
    if terms.coverage is not None and terms.coverage.user_ids:
        members = set(
            (
                await session.scalars(
                    sa.select(col(User.id)).where(
                        col(User.id).in_(terms.coverage.user_ids),
                        col(User.organization_id) == organization_id,
                    )
                )
            ).all()
        )
        problems += [
            FieldProblem("terms.coverage.user_ids", f"{user_id} is not a user of the organisation")
            for user_id in terms.coverage.user_ids
            if user_id not in members
        ]
    return problems


def _refuse(problems: list[FieldProblem]) -> None:
    """Missing terms make the contract incomplete; otherwise the terms break a rule."""
    if any(p.message == rules.MISSING for p in problems):
        raise ContractIncomplete(
            f"The contract cannot take effect yet: {len(problems)} problem(s) to correct.", errors=problems
        )
    if problems:
        raise InvalidInput("The contract's terms are not valid.", errors=problems)


async def create_draft(session: AsyncSession, actor: Actor, data: ContractIn, *, now: datetime) -> Contract:
    if await session.get(Organization, data.organization_id) is None:
        raise InvalidInput(
            "No organisation with this id.", errors=[FieldProblem("organization_id", "unknown organisation")]
        )
    _check_dates(data.starts_on, data.ends_on)
    _refuse(await _terms_problems(session, data.organization_id, data.terms, complete=False))
    contract = Contract(
        organization_id=data.organization_id,
        number=data.number,
        state=ContractState.DRAFT,
        signed_on=data.signed_on,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        ends_before=data.ends_on + ONE_DAY,
        created_by=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(contract)
    session.add(
        ContractVersion(
            contract_id=contract.id,
            version=1,
            effective_from=data.starts_on,
            reason="signed",
            terms=rules.stored(data.terms),
            created_by=actor.id,
            created_at=now,
        )
    )
    await _flush_or_number_taken(session)
    await record_audit(
        session,
        actor,
        "contract_drafted",
        subject_type="contract",
        subject_id=contract.id,
        organization_id=contract.organization_id,
        now=now,
        data={"number": contract.number},
    )
    return contract


async def _flush_or_number_taken(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        if "number" not in str(exc.orig).lower():
            raise
        raise Conflict("Another contract has this number.", errors=[FieldProblem("number", "taken")]) from exc


async def update_draft(
    session: AsyncSession,
    actor: Actor,
    contract_id: uuid.UUID,
    data: ContractPatch,
    *,
    now: datetime,
    expected_revision: int | None,
) -> Contract:
    contract = await load_contract(session, actor, contract_id)
    if contract.state != ContractState.DRAFT:
        raise ContractNotDraft(
            "An active contract is not edited: amend it (POST /v1/contracts/{id}/amendments) with the new "
            "terms and the day they take effect.",
            amendments=f"/v1/contracts/{contract.id}/amendments",
        )
    check_revision("contract", contract.revision, expected_revision)
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    terms_change = changes.pop("terms", None)
    for field, value in changes.items():
        setattr(contract, field, value)
    _check_dates(contract.starts_on, contract.ends_on)
    contract.ends_before = contract.ends_on + ONE_DAY
    signed = await _latest(session, contract.id)
    signed.effective_from = contract.starts_on
    if terms_change is not None:
        new_terms = rules.merged(rules.loaded(signed.terms), terms_change)
        _refuse(await _terms_problems(session, contract.organization_id, new_terms, complete=False))
        signed.terms = rules.stored(new_terms)
    contract.revision += 1
    contract.updated_at = now
    await _flush_or_number_taken(session)
    return contract


async def _overlapping(session: AsyncSession, contract: Contract) -> Contract | None:
    statement = sa.select(Contract).where(
        col(Contract.organization_id) == contract.organization_id,
        col(Contract.state) == ContractState.ACTIVE,
        col(Contract.id) != contract.id,
        col(Contract.starts_on) < contract.ends_before,
        col(Contract.ends_before) > contract.starts_on,
    )
    return (await session.scalars(statement)).first()


async def activate_contract(
    session: AsyncSession,
    actor: Actor,
    contract_id: uuid.UUID,
    *,
    now: datetime,
    expected_revision: int | None,
) -> Contract:
    contract = await load_contract(session, actor, contract_id)
    if contract.state != ContractState.DRAFT:
        raise IllegalContractTransition("The contract is already active.")
    check_revision("contract", contract.revision, expected_revision)
    signed = await _latest(session, contract.id)
    terms = rules.loaded(signed.terms)
    problems = await _terms_problems(session, contract.organization_id, terms, complete=True)
    if contract.signed_on is None:
        problems.append(FieldProblem("signed_on", rules.MISSING))
    _refuse(problems)
    if contract.ends_on < local_today(terms, now):
        raise InvalidInput(
            "The contract ended before today; correct its dates.",
            errors=[FieldProblem("ends_on", "in the past")],
        )
    other = await _overlapping(session, contract)
    if other is not None:
        raise ContractsOverlap(
            f"The organisation's contract {other.number} is active on some of these days.",
            contract_id=str(other.id),
        )
    contract.state = ContractState.ACTIVE
    contract.activated_at = now
    contract.revision += 1
    contract.updated_at = now
    try:
        await session.flush()
    except IntegrityError as exc:  # PostgreSQL's exclusion constraint: a concurrent activation won
        raise ContractsOverlap("Another contract of the organisation became active on these days.") from exc
    await record_audit(
        session,
        actor,
        "contract_activated",
        subject_type="contract",
        subject_id=contract.id,
        organization_id=contract.organization_id,
        now=now,
        data={"number": contract.number, "starts_on": contract.starts_on.isoformat()},
    )
    await notices.contract_activated(session, contract, now=now)
    return contract


async def _in_force_terms(session: AsyncSession, contract: Contract, now: datetime) -> tuple[Terms, date]:
    versions = await versions_of(session, contract.id)
    terms = rules.loaded(versions[-1].terms)
    return terms, local_today(terms, now)


async def terminate_contract(
    session: AsyncSession, actor: Actor, contract_id: uuid.UUID, data: TerminationIn, *, now: datetime
) -> Contract:
    contract = await load_contract(session, actor, contract_id)
    _, today = await _in_force_terms(session, contract, now)
    status = status_of(contract, today)
    if status != ContractStatus.ACTIVE or contract.terminated_on is not None:
        already = "is being terminated" if contract.terminated_on is not None else f"is {status.value}"
        raise IllegalContractTransition(f"Only an active contract is terminated; this one {already}.")
    if not max(today, contract.starts_on) <= data.effective_on <= contract.ends_on:
        raise InvalidInput(
            "A termination takes effect from today (or the start) up to the contract's last day.",
            errors=[FieldProblem("effective_on", "outside the contract or in the past")],
        )
    contract.terminated_on = data.effective_on
    contract.termination_reason = data.reason
    contract.ends_before = data.effective_on
    contract.revision += 1
    contract.updated_at = now
    await session.flush()
    await record_audit(
        session,
        actor,
        "contract_terminated",
        subject_type="contract",
        subject_id=contract.id,
        organization_id=contract.organization_id,
        now=now,
        data={"effective_on": data.effective_on.isoformat(), "reason": data.reason},
    )
    return contract


async def amend_contract(
    session: AsyncSession, actor: Actor, contract_id: uuid.UUID, data: AmendmentIn, *, now: datetime
) -> ContractVersion:
    contract = await load_contract(session, actor, contract_id)
    current, today = await _in_force_terms(session, contract, now)
    status = status_of(contract, today)
    if status != ContractStatus.ACTIVE:
        detail = "edit the draft instead" if status == ContractStatus.DRAFT else f"it is {status.value}"
        raise IllegalContractTransition(f"Only an active contract is amended; {detail}.")
    latest = await _latest(session, contract.id)
    earliest = max(today, latest.effective_from + ONE_DAY)
    if not earliest <= data.effective_from < contract.ends_before:
        raise InvalidInput(
            f"An amendment takes effect from {earliest.isoformat()} (not in the past, after the previous "
            "version) and before the contract ends: tickets already opened keep the terms they opened under.",
            errors=[FieldProblem("effective_from", "outside the allowed range")],
        )
    invoiced = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Invoice)
        .where(
            col(Invoice.source) == "contract",
            col(Invoice.source_id) == contract.id,
            col(Invoice.period) >= data.effective_from.strftime("%Y-%m"),
        )
    )
    if invoiced:
        raise InvalidInput(
            "That month is already invoiced: an amendment takes effect in a month not invoiced yet.",
            errors=[FieldProblem("effective_from", "inside an invoiced period")],
        )
    amended = rules.merged(current, data.terms)
    _refuse(await _terms_problems(session, contract.organization_id, amended, complete=True))
    version = ContractVersion(
        contract_id=contract.id,
        version=latest.version + 1,
        effective_from=data.effective_from,
        reason=data.reason,
        terms=rules.stored(amended),
        created_by=actor.id,
        created_at=now,
    )
    session.add(version)
    contract.revision += 1
    contract.updated_at = now
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("Another amendment was made at the same moment; read the contract again.") from exc
    await record_audit(
        session,
        actor,
        "contract_amended",
        subject_type="contract",
        subject_id=contract.id,
        organization_id=contract.organization_id,
        now=now,
        data={"version": version.version, "effective_from": data.effective_from.isoformat()},
    )
    return version
