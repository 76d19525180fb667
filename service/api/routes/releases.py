"""The indexed releases: list, read, upload, delete."""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import date
from pathlib import PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Query, UploadFile
from fastapi.concurrency import run_in_threadpool

from service.api.deps import RuntimeDep, StartupDep
from service.api.schemas import ErrorResponse, IngestReport, ReleaseDeleted, ReleaseDetail, ReleasePage, ReleaseSummary

log = logging.getLogger("pressqa.api")
router = APIRouter(prefix="/api/releases", tags=["releases"])

UPLOAD_TYPES = (".txt", ".md", ".markdown", ".html", ".htm", ".rss", ".xml", ".atom", ".json", ".jsonl")
MAX_FILES = 20
NOT_FOUND = {404: {"model": ErrorResponse, "description": "No release has this id."}}


def safe_upload_name(name: str | None) -> str:
    """A display name for the loader (its extension picks the format); never used as a path."""
    raw = unicodedata.normalize("NFKC", name or "")
    base = re.split(r"[\\/]", raw)[-1]
    base = re.sub(r"[^A-Za-z0-9._ -]+", "_", base).strip(" .")
    base = re.sub(r"\.{2,}", ".", base)
    stem, suffix = PurePosixPath(base).stem[:100], PurePosixPath(base).suffix.lower()[:12]
    return f"{stem or 'upload'}{suffix}"


def summarize(meta: Any) -> dict:
    return {
        "id": meta.id,
        "title": meta.title or "",
        "published": str(meta.published) if getattr(meta, "published", None) else None,
        "source": getattr(meta, "source", None),
        "url": getattr(meta, "url", None),
        "place": getattr(meta, "place", None),
        "origin": getattr(meta, "origin", None),
        "chunk_count": getattr(meta, "chunk_count", 0) or 0,
    }


@router.get("", response_model=ReleasePage)
def list_releases(
    runtime: RuntimeDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    since: Annotated[date | None, Query(description="Only releases published on/after this date.")] = None,
    until: Annotated[date | None, Query(description="Only releases published on/before this date.")] = None,
) -> ReleasePage:
    """List the indexed releases, newest first, one page at a time.

    `offset`/`limit` page through the list (`has_more` says whether another page exists for the same
    filter); `since`/`until` (ISO dates, inclusive) keep only releases published in that range.
    `total` counts every indexed release. Each item has the id to pass to `GET /api/releases/{id}`;
    ids are usually URLs, so URL-encode them (slashes may stay or be `%2F`).
    """
    if since and until and since > until:
        raise HTTPException(422, "'since' is after 'until'.")
    items = runtime.store.list_releases(since, until, offset, limit + 1)
    return ReleasePage(
        items=[ReleaseSummary(**summarize(m)) for m in items[:limit]],
        offset=offset,
        limit=limit,
        total=runtime.store.count_releases(),
        has_more=len(items) > limit,
    )


@router.get("/{release_id:path}", response_model=ReleaseDetail, responses=NOT_FOUND)
def get_release(release_id: str, runtime: RuntimeDep) -> ReleaseDetail:
    """One release: its metadata and its full cleaned text.

    Every citation's `start`/`end` offsets point into `text`, so a client can show the quoted
    sentence in context (`text[start:end] == quote`). The text is the release as published and must be
    rendered as text, never as HTML.
    """
    meta = runtime.store.release_meta(release_id)
    if meta is None:
        raise HTTPException(404, "No release has this id.")
    text = runtime.store.release_text(release_id) or ""
    return ReleaseDetail(**summarize(meta), text=text)


@router.delete("/{release_id:path}", response_model=ReleaseDeleted, responses=NOT_FOUND)
def delete_release(release_id: str, runtime: RuntimeDep, startup: StartupDep) -> ReleaseDeleted:
    """Delete a release with all its chunks; later answers can no longer cite it.

    Deletes wait for any running ingest (uploads or the bundled corpus) so the index never holds half
    a release.
    """
    with startup.write_lock:
        deleted = runtime.store.delete(release_id)
    if not deleted:
        raise HTTPException(404, "No release has this id.")
    return ReleaseDeleted(deleted=release_id)


@router.post(
    "",
    response_model=IngestReport,
    responses={
        400: {"model": ErrorResponse, "description": "A file could not be read (broken, wrong encoding, no release in it)."},
        413: {"model": ErrorResponse, "description": "The upload is larger than PRESSQA_MAX_UPLOAD_BYTES."},
        415: {"model": ErrorResponse, "description": "A file type that pressqa does not read."},
    },
)
async def upload_releases(
    runtime: RuntimeDep,
    startup: StartupDep,
    files: Annotated[list[UploadFile], File(description="Press releases: .txt .md .html .rss .xml .atom .json .jsonl")],
) -> IngestReport:
    """Upload press-release files and index them; answers what was added, updated or left unchanged.

    Accepts plain text, Markdown (with front matter), HTML pages, RSS/Atom feeds (one release per
    item) and JSON/JSONL exports, up to 20 files and `PRESSQA_MAX_UPLOAD_BYTES` in all (413 beyond).
    A file of another type is refused with 415 and a broken one with 400, before anything is
    indexed. File names only label the releases (their origin); they are never used as paths. A file
    already indexed with the same content is left unchanged.
    """
    from pressqa.uploads import BrokenFile, UnsupportedFile, load_bytes

    if len(files) > MAX_FILES:
        raise HTTPException(400, f"At most {MAX_FILES} files per upload.")
    loaded = []
    for upload in files:
        name = safe_upload_name(upload.filename)
        if not name.lower().endswith(UPLOAD_TYPES):
            raise HTTPException(415, f"{name}: unsupported file type; pressqa reads {' '.join(UPLOAD_TYPES)}.")
        data = await upload.read()
        try:
            loaded.extend(await run_in_threadpool(load_bytes, name, data))
        except UnsupportedFile as exc:
            raise HTTPException(415, f"{name}: {exc}") from exc
        except BrokenFile as exc:
            raise HTTPException(400, f"{name}: {exc}") from exc
        except Exception as exc:  # a loader bug on odd input is still the file's problem to the client
            log.exception("loading upload %s failed", name)
            raise HTTPException(400, f"{name}: could not be read ({type(exc).__name__})") from exc
    if not loaded:
        raise HTTPException(400, "No press release found in the uploaded files.")

    def ingest() -> dict:
        with startup.write_lock:
            return runtime.indexer.ingest_releases(loaded).to_dict()

    return IngestReport(**await run_in_threadpool(ingest))
