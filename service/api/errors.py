"""Every error becomes JSON in OpenAI's `{"error": {...}}` shape; no traceback ever reaches a client."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("pressqa.api")

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "invalid_request_error",
    503: "service_unavailable",
    504: "timeout",
}


class ParameterError(StarletteHTTPException):
    """A 400 naming the request parameter at fault, as OpenAI's `error.param`."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(400, message)
        self.param = param


def error_response(
    status: int, message: str, *, details: list | None = None, headers: dict | None = None, param: str | None = None
) -> JSONResponse:
    body: dict = {"message": message, "type": ERROR_TYPES.get(status, "api_error"), "code": status}
    if param is not None:
        body["param"] = param
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return error_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None), param=getattr(exc, "param", None))


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    # Only location, message and kind: the offending input may be huge, binary or hostile.
    details = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))} for e in exc.errors()]
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    where = ".".join(first["loc"][1:] if len(first["loc"]) > 1 else first["loc"])
    message = f"Invalid request: {where + ': ' if where else ''}{first['msg']}"
    return error_response(422, message, details=details)


def _is_timeout(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimeoutError) or "timeout" in type(seen).__name__.lower() or "timed out" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def llm_error_response(exc: BaseException) -> JSONResponse:
    if _is_timeout(exc):
        return error_response(504, f"The language model did not answer in time: {exc}")
    return error_response(503, f"The language model is unavailable: {exc}")


async def _llm_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("LLM unavailable on %s: %s", request.url.path, exc)
    return llm_error_response(exc)


async def _store_unreachable(request: Request, exc: Exception) -> JSONResponse:
    # A Chroma server that is down or restarting: the client reconnects by itself once it is back.
    log.warning("Release store unreachable on %s: %s", request.url.path, exc)
    return error_response(503, f"The release index is unreachable ({type(exc).__name__}); retry shortly.", headers={"Retry-After": "5"})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("Unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "Internal server error; the server log has the details.")


def llm_unavailable_class() -> type[Exception] | None:
    """The chain's backend error, when service.llm is importable."""
    try:
        from service.llm import LLMUnavailable
    except ImportError:
        return None
    return LLMUnavailable


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    llm_error = llm_unavailable_class()
    if llm_error is not None:
        app.add_exception_handler(llm_error, _llm_unavailable)
    import httpx  # the Chroma HTTP client's transport; LLM transport errors arrive as LLMUnavailable

    app.add_exception_handler(httpx.TransportError, _store_unreachable)
    app.add_exception_handler(Exception, _unexpected)
