"""Streaming multipart uploads: the file part goes to storage chunk by chunk, never into memory whole."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.datastructures import UploadFile
from litestar.response import File
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy.ext.asyncio import AsyncSession

from api.context import AppContext
from core.errors import FieldProblem, InvalidInput
from core.storage import FileWriter, LocalStorage, StoredFile, UploadTooLarge
from core.transactions import begin_request_transaction, end_transaction
from support import AttachmentRejected

MAX_FIELD_BYTES = 64 * 1024


@dataclass
class ReceivedUpload:
    fields: dict[str, str] = field(default_factory=dict)
    stored: StoredFile | None = None
    filename: str = ""
    content_type: str = "application/octet-stream"


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    buffer: bytearray = field(default_factory=bytearray)
    writer: FileWriter | None = None


async def receive_file(
    request: Request[Any, Any, Any], storage: LocalStorage, *, file_field: str, max_bytes: int
) -> ReceivedUpload:
    """Parse ``multipart/form-data`` from the request stream; exactly one file under ``file_field``."""
    media_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise InvalidInput(
            "Send the file as multipart/form-data.", errors=[FieldProblem(file_field, "required")]
        )
    result = ReceivedUpload()
    current = _Part()
    header_field = bytearray()
    header_value = bytearray()

    def on_part_begin() -> None:
        nonlocal current
        current = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        current.headers[bytes(header_field).lower()] = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(current.headers.get(b"content-disposition", b""))
        current.name = disposition.get(b"name", b"").decode("utf-8", "replace")
        raw_filename = disposition.get(b"filename")
        current.filename = raw_filename.decode("utf-8", "replace") if raw_filename is not None else None
        if current.filename is not None and current.name == file_field:
            if result.stored is not None or current.writer is not None:
                raise AttachmentRejected("Send one file per request.")
            current.writer = storage.writer(max_bytes)
            result.filename = current.filename
            result.content_type = current.headers.get(b"content-type", b"application/octet-stream").decode(
                "latin-1"
            )

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if current.writer is not None:
            current.writer.write(data[start:end])
        elif current.filename is None:
            current.buffer.extend(data[start:end])
            if len(current.buffer) > MAX_FIELD_BYTES:
                raise InvalidInput(f"The form field {current.name!r} is too long.")

    def on_part_end() -> None:
        if current.writer is not None:
            result.stored = current.writer.finish()
            current.writer = None
        elif current.filename is None and current.name:
            result.fields[current.name] = current.buffer.decode("utf-8", "replace")

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
        },
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except BaseException as exc:
        # Nothing half-written survives a failed upload.
        if current.writer is not None:
            current.writer.abort()
        if result.stored is not None:
            storage.delete(result.stored.key)
        if isinstance(exc, UploadTooLarge):
            raise AttachmentRejected(
                f"The file is larger than the limit of {max_bytes} bytes.", limit_bytes=max_bytes
            ) from exc
        if isinstance(exc, ValueError):  # python-multipart reports malformed bodies as ValueError
            raise InvalidInput(f"The multipart body is malformed: {exc}") from exc
        raise
    if result.stored is None:
        raise InvalidInput(
            f"No file was sent in the form field {file_field!r}.",
            errors=[FieldProblem(file_field, "required")],
        )
    return result


def storage_of(ctx: AppContext) -> LocalStorage:
    return LocalStorage(ctx.settings.attachments_dir)


async def receive_streamed(
    request: Request[Any, Any, Any], db: AsyncSession, ctx: AppContext, *, file_field: str = "file"
) -> tuple[ReceivedUpload, StoredFile, LocalStorage]:
    """A multipart upload streamed to storage with no transaction open (however slowly it comes); the
    request's transaction begins again once it is stored, for the caller to record it."""
    storage = storage_of(ctx)
    await end_transaction(db)
    upload = await receive_file(
        request, storage, file_field=file_field, max_bytes=ctx.settings.attachment_max_bytes
    )
    await begin_request_transaction(db, request.method, is_sqlite=ctx.settings.is_sqlite)
    assert upload.stored is not None  # receive_file refuses a request without the file
    return upload, upload.stored, storage


def stored_download(
    ctx: AppContext, *, storage_key: str, filename: str, content_type: str, sha256: str
) -> File:
    """A stored file as a download, with its digest; never sniffed as something else."""
    return File(
        path=storage_of(ctx).path(storage_key),
        filename=filename,
        media_type=content_type,
        headers={"Digest": f"sha-256={sha256}", "X-Content-Type-Options": "nosniff"},
    )


async def document_body(request: Request[Any, Any, Any]) -> bytes:
    """The document an operation takes whole (a calendar, a CSV file, an e-mail): the raw body in its own
    media type, or the ``file`` part of a ``multipart/form-data`` body (what generated clients send).
    The operation's body-size limit holds for both."""
    if request.content_type[0] != "multipart/form-data":
        return await request.body()
    form = await request.form()
    found = form.get("file")
    if not isinstance(found, UploadFile):
        raise InvalidInput(
            "A multipart/form-data body carries the document as a file part named file.",
            errors=[FieldProblem("file", "required")],
        )
    return await found.read()
