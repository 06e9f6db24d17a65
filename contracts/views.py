"""How a contract reads from outside: its derived status and the terms in force today, with history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import terms as rules
from contracts.agreements import in_force, local_today, status_of, version_in_force, versions_of
from contracts.models import Contract, ContractVersion
from contracts.schemas import ContractOut, VersionOut


def version_out(version: ContractVersion) -> VersionOut:
    return VersionOut(
        version=version.version,
        effective_from=version.effective_from,
        reason=version.reason,
        terms=version.terms,
        created_at=version.created_at,
    )


async def contract_out(session: AsyncSession, contract: Contract, *, now: datetime) -> ContractOut:
    versions = await versions_of(session, contract.id)
    today = local_today(rules.loaded(versions[-1].terms), now)
    current = version_in_force(versions, today)
    return ContractOut(
        id=contract.id,
        organization_id=contract.organization_id,
        number=contract.number,
        status=status_of(contract, today),
        in_force=in_force(contract, today),
        signed_on=contract.signed_on,
        starts_on=contract.starts_on,
        ends_on=contract.ends_on,
        terminated_on=contract.terminated_on,
        termination_reason=contract.termination_reason,
        revision=contract.revision,
        terms=current.terms,
        version_in_force=current.version,
        versions=[version_out(v) for v in versions],
        created_at=contract.created_at,
        updated_at=contract.updated_at,
        activated_at=contract.activated_at,
    )
