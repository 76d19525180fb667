"""Typed dependencies the routes share."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from pressqa.settings import Settings
from service.api.startup import Startup


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_startup(request: Request) -> Startup:
    return request.app.state.startup


def get_runtime(request: Request) -> Any:
    """The loaded runtime; 503 while models and index are still loading (the page shows /readyz)."""
    startup: Startup = request.app.state.startup
    if startup.error:
        raise HTTPException(503, f"pressqa could not start: {startup.error}")
    if not startup.ready.is_set():
        raise HTTPException(503, "pressqa is still loading its models and index; retry in a few seconds.", headers={"Retry-After": "2"})
    return request.app.state.runtime


SettingsDep = Annotated[Settings, Depends(get_settings)]
StartupDep = Annotated[Startup, Depends(get_startup)]
RuntimeDep = Annotated[Any, Depends(get_runtime)]
