"""One error shape for the whole API, in Chinese.

This is the project's one translation of pydantic/FastAPI validation errors into Chinese:
the app process (``yiwen.app``) serves the knowledge API from the ticket service's app,
so these handlers answer for its routes too. The texts are in ``tickets/messages.yml``.

* 422: ``{"detail": [{"field", "message"}, …]}`` for every validation problem, whether it
  comes from the schema, from malformed JSON, from a missing header or from the Art. 9
  pre-checks. When the schema rejects a body, the pre-checks still run on the raw JSON so
  the citizen hears about every missing field in one round.
* everything else: ``{"detail": "一句中文"}``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tickets.services.messages import api_field_label, message
from tickets.services.prechecks import FieldProblem, PrecheckFailed, missing_fields

log = logging.getLogger("tickets.errors")


class ApiError(Exception):
    """An error with an HTTP status and a Chinese explanation."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers


class FieldErrors(Exception):
    """A 422 with specific per-field problems raised by our own code."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(p.field for p in problems))
        self.problems = problems


_KIND_BY_TYPE = {
    "missing": "missing",
    "string_too_short": "string_too_short",
    "string_too_long": "string_too_long",
    "too_long": "too_long",
    "too_short": "string_too_short",
    "literal_error": "choice",
    "enum": "choice",
    "bool_parsing": "bool",
    "bool_type": "bool",
    "string_type": "string",
    "string_unicode": "string",
    "list_type": "list",
    "model_type": "object",
    "model_attributes_type": "object",
    "dict_type": "object",
    "int_parsing": "integer",
    "int_type": "integer",
    "int_from_float": "integer",
    "string_pattern_mismatch": "pattern",
    "phone_invalid": "phone",
    "control_char": "control_char",
    "json_invalid": "json_invalid",
    "json_type": "json_invalid",
}


def _field_of(loc: Sequence[Any]) -> tuple[str, str]:
    """(field path shown to the client, path used to look up its label)."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    shown = ""
    plain: list[str] = []
    for part in parts:
        if isinstance(part, int):
            shown += f"[{part}]"
        else:
            shown = f"{shown}.{part}" if shown else str(part)
            plain.append(str(part))
    return shown or "body", ".".join(plain) or "body"


def _message_for(error: Mapping[str, Any], label_path: str, location: str) -> str:
    err_type = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if location == "header" and label_path.lower() == "idempotency-key":
        return message("validation.idempotency_key")
    if err_type == "json_invalid":
        return message("validation.json_invalid")
    if err_type == "value_error":
        # A validator that already explains itself in Chinese keeps its own words.
        text = str(error.get("msg", "")).removeprefix("Value error, ")
        if any("\u4e00" <= ch <= "\u9fff" for ch in text):
            return text
    if label_path == "ticket_no" and err_type == "string_pattern_mismatch":
        return message("validation.ticket_ref")
    if label_path == "body" and err_type in ("model_attributes_type", "model_type", "dict_type"):
        return message("validation.body")
    kind = _KIND_BY_TYPE.get(err_type)
    if kind is None:
        if err_type.startswith(("date", "datetime")):
            kind = "date"
        elif err_type.startswith("decimal") or err_type.startswith("float"):
            kind = "decimal"
        elif err_type.startswith(("greater_than", "less_than")):
            kind = "number_range"
        else:
            kind = "other"
    expected = ctx.get("expected", "")
    return message(
        f"validation.{kind}",
        label=api_field_label(label_path),
        max_length=ctx.get("max_length", ""),
        expected=str(expected).replace("'", ""),
    )


def problems_from_validation(
    errors: Sequence[Mapping[str, Any]], body: Any = None, *, art9: bool = False
) -> list[dict[str, str]]:
    """Translate pydantic errors (plus Art. 9 gaps found in ``body``) into the 422 shape."""
    problems: dict[str, str] = {}
    for error in errors:
        loc = error.get("loc", ())
        location = str(loc[0]) if loc else "body"
        if error.get("type") == "json_invalid":
            shown, label_path = "body", "body"
        else:
            shown, label_path = _field_of(loc)
        if location == "header" and label_path.lower() == "idempotency-key":
            shown = "Idempotency-Key"
        problems.setdefault(shown, _message_for(error, label_path, location))
    if art9 and isinstance(body, Mapping):
        for gap in missing_fields(body):
            problems.setdefault(gap.field, gap.message)
    return [{"field": field, "message": text} for field, text in problems.items()]


def _json(status: int, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


async def validation_error_response(request: Request, exc: RequestValidationError) -> JSONResponse:
    """The 422 for a schema error; for a ticket submission the Art. 9 gaps are added.

    Exposed so that an app embedding this service can delegate to it when it installs a
    ``RequestValidationError`` handler of its own (the last one installed wins).
    """
    is_submission = request.method == "POST" and request.url.path.rstrip("/").endswith(
        "/api/tickets"
    )
    problems = problems_from_validation(exc.errors(), exc.body, art9=is_submission)
    return _json(422, problems)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error_response)  # type: ignore[arg-type]

    @app.exception_handler(PrecheckFailed)
    async def _precheck(_request: Request, exc: PrecheckFailed) -> JSONResponse:
        return _json(422, [{"field": p.field, "message": p.message} for p in exc.problems])

    @app.exception_handler(FieldErrors)
    async def _fields(_request: Request, exc: FieldErrors) -> JSONResponse:
        return _json(422, [{"field": p.field, "message": p.message} for p in exc.problems])

    @app.exception_handler(ApiError)
    async def _api(_request: Request, exc: ApiError) -> JSONResponse:
        return _json(exc.status, exc.detail, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Framework errors (unknown route, wrong method, unparsable body) in our shape.
        if exc.status_code == 400:
            return _json(422, [{"field": "body", "message": message("validation.json_invalid")}])
        if exc.status_code == 404:
            text = message("errors.route_not_found")
        elif exc.status_code == 405:
            text = message("errors.method_not_allowed")
        else:
            text = message("errors.http", status=exc.status_code)
        return _json(exc.status_code, text, getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    async def _database(request: Request, _exc: OperationalError) -> JSONResponse:
        log.exception("database error on %s %s", request.method, request.url.path)
        return _json(503, message("errors.database"), {"Retry-After": "30"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _json(500, message("errors.internal"))
