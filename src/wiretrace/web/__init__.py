"""The web viewer: ``create_app(db)`` serves a store read-only (``wiretrace serve``)."""

from .app import create_app

__all__ = ["create_app"]
