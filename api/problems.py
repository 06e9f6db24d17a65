"""RFC 9457 problem responses with a stable machine ``code`` and titles in English and Russian."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.plugins.problem_details import ProblemDetailsException

from api.field_messages import describe
from api.problem_details_ru import DETAILS_RU

PROBLEM_TYPE_BASE = "urn:deskline:problem:"


@dataclass(frozen=True, slots=True)
class ProblemKind:
    status: int
    code: str
    title_en: str
    title_ru: str


class Problem(ProblemDetailsException):
    """A problem with a code and both titles; the response picks the title by ``Accept-Language``."""

    def __init__(
        self,
        kind: ProblemKind,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,  # Any: JSON-serialisable context for machines
    ) -> None:
        body: dict[str, Any] = {"code": kind.code}
        if errors:
            body["errors"] = errors
        # Each field problem's English sentence, as raised: its code and its words in the caller's
        # language are made from it when the response is (api/field_messages.py).
        self.sentences = [error["message"] for error in errors or []]
        body.update(extra or {})
        super().__init__(
            detail=detail,
            status_code=kind.status,
            headers=headers,
            extra=body,
            type_=PROBLEM_TYPE_BASE + kind.code,
            title=kind.title_en,
        )
        self.kind = kind

    def to_response(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        """Localise the title, the detail and each field's message to the caller's language, then let
        the plugin shape the body."""
        self._public_field_names(request)
        language = preferred_language(request.headers.get("accept-language"))
        self.title = self.kind.title_ru if language == "ru" else self.kind.title_en
        if language == "ru":
            self.detail = DETAILS_RU.get(self.kind.code, self.detail)
        errors = self.extra.get("errors", []) if isinstance(self.extra, dict) else []
        for error, sentence in zip(errors, self.sentences, strict=False):
            said = describe(sentence)
            error["code"], error["message"] = said.code, said.ru if language == "ru" else said.en
        response = super().to_response(request)
        response.headers["Content-Language"] = language
        return response

    def _public_field_names(self, request: Request[Any, Any, Any]) -> None:
        """Name query, path and header fields as the client sent them (``from``, not ``from_``)."""
        errors = self.extra.get("errors") if isinstance(self.extra, dict) else None
        if not errors:
            return
        try:
            parameters = request.route_handler.parsed_fn_signature.parameters
        except (AttributeError, KeyError):  # no route matched
            return
        for error in errors:
            if error.get("source") in PARAMETER_SOURCES and (found := parameters.get(error["field"])):
                error["field"] = getattr(found.kwarg_definition, "name", None) or error["field"]


PARAMETER_SOURCES = frozenset({"query", "path", "header", "cookie"})


def preferred_language(accept_language: str | None) -> str:
    """'ru' or 'en', whichever the caller ranks higher (RFC 9110 weights); English by default."""
    best, best_q = "en", 0.0
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        language = tag.strip().lower().split("-")[0]
        # Earlier entries win ties, as browsers list them in order of preference.
        if language in {"en", "ru"} and (quality > best_q or (quality == best_q and position == 0)):
            best, best_q = language, quality
    return best
