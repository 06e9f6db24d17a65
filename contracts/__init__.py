"""Contracts: SLA agreements that sales define for all of a customer's users. Drafts, activation,
amendments and termination, documents, tickets under a contract with their priority clocks, breaches
and the credits they earn, included session hours, the monthly report and its invoice, and the events
the line raises.

This module is the part's public surface: the other parts import from ``contracts`` only, never
from its modules (an import contract in pyproject.toml holds that)."""

from contracts.agreements import (
    activate_contract,
    amend_contract,
    create_draft,
    list_contracts,
    load_contract,
    terminate_contract,
    update_draft,
)
from contracts.documents import attach_document, get_document
from contracts.errors import (
    ContractIncomplete,
    ContractNotDraft,
    ContractNotInForce,
    ContractsOverlap,
    IllegalContractTransition,
    IncludedHoursExhausted,
    NotCovered,
)
from contracts.invoicing import invoice_month
from contracts.notices import ContractActivated, ContractBreach, ContractReportReady
from contracts.queue import QueueFilter, queue_marker, work_queue
from contracts.report_formats import report_csv, report_html
from contracts.reports import Report, breaches_of, monthly_report
from contracts.schemas import (
    AmendmentIn,
    AssigneeIn,
    ContractIn,
    ContractOut,
    ContractPatch,
    DocumentOut,
    Priority,
    PriorityChangeIn,
    QueueItemOut,
    SlaMessageOut,
    SlaTicketIn,
    SlaTicketOut,
    TerminationIn,
    Terms,
)
from contracts.sessions import book_contract_session
from contracts.sla import SLA, change_priority, file_ticket, list_tickets, load_sla_ticket
from contracts.views import contract_out, sla_ticket_out

__all__ = [
    "SLA",
    "AmendmentIn",
    "AssigneeIn",
    "ContractActivated",
    "ContractBreach",
    "ContractIn",
    "ContractIncomplete",
    "ContractNotDraft",
    "ContractNotInForce",
    "ContractOut",
    "ContractPatch",
    "ContractReportReady",
    "ContractsOverlap",
    "DocumentOut",
    "IllegalContractTransition",
    "IncludedHoursExhausted",
    "NotCovered",
    "Priority",
    "PriorityChangeIn",
    "QueueFilter",
    "QueueItemOut",
    "Report",
    "SlaMessageOut",
    "SlaTicketIn",
    "SlaTicketOut",
    "TerminationIn",
    "Terms",
    "activate_contract",
    "amend_contract",
    "attach_document",
    "book_contract_session",
    "breaches_of",
    "change_priority",
    "contract_out",
    "create_draft",
    "file_ticket",
    "get_document",
    "invoice_month",
    "list_contracts",
    "list_tickets",
    "load_contract",
    "load_sla_ticket",
    "monthly_report",
    "queue_marker",
    "report_csv",
    "report_html",
    "sla_ticket_out",
    "terminate_contract",
    "update_draft",
    "work_queue",
]
