"""Install hints name the published package and the command that works from a checkout."""

from __future__ import annotations

import subprocess
import sys

from agentlog._hints import install_hint, integration_hint


def test_hints_say_both_ways() -> None:
    assert install_hint("otlp") == (
        "pip install 'agentlog[otlp]' (from a checkout: pip install '.[otlp]')"
    )
    assert integration_hint("openai") == (
        "pip install agentlog-openai (from a checkout: pip install ./integrations/openai)"
    )


def test_the_otlp_exporter_without_its_extra_says_how_to_install_it() -> None:
    code = ("import sys; sys.modules['opentelemetry'] = None\n"
            "import agentlog\n"
            "try:\n"
            "    agentlog.init(exporter='otlp', endpoint='http://127.0.0.1:1')\n"
            "except ValueError as exc:\n"
            "    print(exc)\n")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "pip install 'agentlog[otlp]' (from a checkout: pip install '.[otlp]')" in done.stdout


def test_an_unknown_integration_says_how_to_install_one() -> None:
    import pytest

    import agentlog

    with pytest.raises(ValueError) as err:
        agentlog.instrument("no-such-integration")
    assert "pip install ./integrations/no-such-integration" in str(err.value)
