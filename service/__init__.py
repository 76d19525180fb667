"""Service: retrieve → select evidence → generate → verify → cite, and the HTTP API over it. Imports core, never ingest."""
