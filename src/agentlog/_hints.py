"""How to install what is missing, said both ways: the published name (after release) and the
command that works from a checkout of the repository (before it)."""

from __future__ import annotations

__all__ = ["install_hint", "integration_hint"]


def install_hint(extra: str) -> str:
    """``pip install 'agentlog[otlp]'`` and its checkout form, for an extra of agentlog."""
    return f"pip install 'agentlog[{extra}]' (from a checkout: pip install '.[{extra}]')"


def integration_hint(name: str) -> str:
    """The install command of the integration package ``agentlog-<name>``."""
    return f"pip install agentlog-{name} (from a checkout: pip install ./integrations/{name})"
