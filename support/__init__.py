"""Support: the free basic line. Tickets filed by an organisation's designated contact (web, phone,
e-mail), their lifecycle and the regulation's business-time clock, messages and attachments,
explanations, the knowledge base, monthly statistics, and the events the line raises (``notices``).

This module is the part's public surface: the other parts import from ``support`` only, never from
its modules (an import contract in pyproject.toml holds that)."""

from support.attachments import attach_file, attachments_of, get_attachment, sanitize_filename
from support.clock import pauses_of_tickets
from support.errors import AttachmentRejected, ExplanationTooEarly, IllegalTransition, InboundEmailRejected
from support.explanations import list_explanations, request_explanation
from support.filing import create_phone_ticket, create_ticket
from support.inbound_email import receive_email
from support.kb import (
    create_article,
    delete_article,
    get_article,
    list_articles,
    search_articles,
    update_article,
)
from support.lifecycle import transition_ticket
from support.lines import line_of, register_line
from support.models import BASIC, Attachment, AttachmentKind, Ticket, TicketEvent, TicketMessage, TicketStatus
from support.notices import (
    EmailRejected,
    ExplanationRequested,
    FirstResponseBreached,
    FirstResponseDeadline,
    FirstResponseDueSoon,
    TicketAnswered,
    TicketClockStarted,
    TicketReceived,
    TicketWaitingForCustomer,
    ticket_received,
    warning_still_due,
    watch_first_response,
)
from support.parties import is_support_staff, load_ticket
from support.regulation import (
    INTAKE_ITEM_NAMES,
    current_regulation,
    names_holiday_calendar,
    publish_regulation,
)
from support.retention import expired_attachments
from support.schemas import (
    ArticleIn,
    ArticleOut,
    ArticlePatch,
    AttachmentOut,
    ExplanationIn,
    ExplanationOut,
    HolidayOut,
    MessageIn,
    MessageOut,
    MonthStatsOut,
    PhoneTicketIn,
    RegulationIn,
    RegulationOut,
    SessionProposalIn,
    StatsOut,
    TicketIn,
    TicketOut,
    TicketPatch,
    TicketSummaryOut,
    TransitionIn,
)
from support.stats import monthly_stats
from support.tickets import add_message, list_tickets, record_session_proposal, touch_ticket, update_intake
from support.views import filed_ticket_view, ticket_detail, ticket_summaries

__all__ = [
    "BASIC",
    "INTAKE_ITEM_NAMES",
    "ArticleIn",
    "ArticleOut",
    "ArticlePatch",
    "Attachment",
    "AttachmentKind",
    "AttachmentOut",
    "AttachmentRejected",
    "EmailRejected",
    "ExplanationIn",
    "ExplanationOut",
    "ExplanationRequested",
    "ExplanationTooEarly",
    "FirstResponseBreached",
    "FirstResponseDeadline",
    "FirstResponseDueSoon",
    "HolidayOut",
    "IllegalTransition",
    "InboundEmailRejected",
    "MessageIn",
    "MessageOut",
    "MonthStatsOut",
    "PhoneTicketIn",
    "RegulationIn",
    "RegulationOut",
    "SessionProposalIn",
    "StatsOut",
    "Ticket",
    "TicketAnswered",
    "TicketClockStarted",
    "TicketEvent",
    "TicketIn",
    "TicketMessage",
    "TicketOut",
    "TicketPatch",
    "TicketReceived",
    "TicketStatus",
    "TicketSummaryOut",
    "TicketWaitingForCustomer",
    "TransitionIn",
    "add_message",
    "attach_file",
    "attachments_of",
    "create_article",
    "create_phone_ticket",
    "create_ticket",
    "current_regulation",
    "delete_article",
    "expired_attachments",
    "filed_ticket_view",
    "get_article",
    "get_attachment",
    "is_support_staff",
    "line_of",
    "list_articles",
    "list_explanations",
    "list_tickets",
    "load_ticket",
    "monthly_stats",
    "names_holiday_calendar",
    "pauses_of_tickets",
    "publish_regulation",
    "receive_email",
    "record_session_proposal",
    "register_line",
    "request_explanation",
    "sanitize_filename",
    "search_articles",
    "ticket_detail",
    "ticket_received",
    "ticket_summaries",
    "touch_ticket",
    "transition_ticket",
    "update_article",
    "update_intake",
    "warning_still_due",
    "watch_first_response",
]
