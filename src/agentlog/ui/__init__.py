"""The web UI: static pages (``static/``) over the collector's HTTP API.

``agentlog ui`` serves it over a store or a collector (``_app``), ``agentlog serve`` at ``/``
(``mount_ui`` from ``_pages``). Nothing is imported here, so the collector can use the
security helpers without loading the UI's app.
"""

from __future__ import annotations

__all__: list[str] = []
