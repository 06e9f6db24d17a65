"""The files of an agreement: sales attach them to the contract; whoever may read the contract reads
them. A file whose recording fails is deleted with the transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Actor, record_audit
from contracts.agreements import load_contract
from contracts.models import ContractDocument
from core.errors import InvalidInput, NotFound
from core.storage import LocalStorage, StoredFile
from core.text import cleaned
from core.transactions import on_rollback
from support import sanitize_filename


async def attach_document(
    session: AsyncSession,
    actor: Actor,
    contract_id: uuid.UUID,
    *,
    filename: str,
    content_type: str,
    stored: StoredFile,
    storage: LocalStorage,
    now: datetime,
) -> ContractDocument:
    on_rollback(session, lambda: storage.delete(stored.key))
    contract = await load_contract(session, actor, contract_id)
    if stored.size_bytes == 0:
        raise InvalidInput("The file is empty.")
    document = ContractDocument(
        contract_id=contract.id,
        filename=sanitize_filename(filename),
        content_type=cleaned(content_type)[:255] or "application/octet-stream",
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        storage_key=stored.key,
        uploaded_by=actor.id,
        created_at=now,
    )
    session.add(document)
    await session.flush()
    await record_audit(
        session,
        actor,
        "contract_document_added",
        subject_type="contract",
        subject_id=contract.id,
        organization_id=contract.organization_id,
        now=now,
        data={"filename": document.filename, "sha256": document.sha256},
    )
    return document


async def documents_of(session: AsyncSession, contract_id: uuid.UUID) -> list[ContractDocument]:
    rows = await session.scalars(
        sa.select(ContractDocument)
        .where(col(ContractDocument.contract_id) == contract_id)
        .order_by(col(ContractDocument.created_at))
    )
    return list(rows.all())


async def get_document(
    session: AsyncSession, actor: Actor, contract_id: uuid.UUID, document_id: uuid.UUID
) -> ContractDocument:
    await load_contract(session, actor, contract_id)
    document = await session.get(ContractDocument, document_id)
    if document is None or document.contract_id != contract_id:
        raise NotFound("No document with this id on this contract.")
    return document
