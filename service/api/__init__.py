"""HTTP face of pressqa: OpenAI-compatible chat API, native API and the chat page."""

from service.api.app import create_app

__all__ = ["create_app"]
