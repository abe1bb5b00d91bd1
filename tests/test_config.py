from __future__ import annotations

import pytest

import agentlog
from agentlog._config import build_config


def test_defaults() -> None:
    cfg = build_config({}, environ={})
    assert (cfg.exporter, cfg.path, cfg.max_batch, cfg.idle_flush) == (
        "file",
        ".agentlog/events.jsonl",
        512,
        1.0,
    )


def test_environment_is_read_and_arguments_win() -> None:
    env = {"AGENTLOG_MAX_BATCH": "64", "AGENTLOG_IDLE_FLUSH": "0.5", "AGENTLOG_REDACT": "false",
           "AGENTLOG_EXPORTER": "console,memory", "AGENTLOG_INSTRUMENT": "openai,langchain"}  # fmt: skip
    cfg = build_config({"max_batch": 8}, environ=env)
    assert cfg.max_batch == 8 and cfg.idle_flush == 0.5 and cfg.redact is False
    assert cfg.exporter == ["console", "memory"] and cfg.instrument == ["openai", "langchain"]


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"max_batch": 0}, "max_batch"),
        ({"idle_flush": -1}, "idle_flush"),
        ({"redact": "yes"}, "redact"),
        ({"path": ""}, "path"),
        ({"bogus": 1}, "bogus"),
        ({"max_batch": 10, "max_queue": 5}, "max_batch"),
        ({"instrument": 3}, "instrument"),
    ],
)
def test_bad_options_raise_value_error_naming_the_option(
    options: dict[str, object], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        agentlog.init(**options)


def test_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTLOG_MAX_QUEUE", "lots")
    with pytest.raises(ValueError, match="AGENTLOG_MAX_QUEUE"):
        agentlog.init()


def test_unknown_exporter_name() -> None:
    with pytest.raises(ValueError, match="exporter"):
        agentlog.init(exporter="carrier-pigeon")


def test_unknown_integration_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no integration named 'nope'"):
        agentlog.init(exporter="memory", instrument=["nope"])


def test_disabled_makes_everything_pass_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTLOG_DISABLED", "1")
    agentlog.init(exporter="memory")

    @agentlog.tool
    def f() -> int:
        return 1

    with agentlog.session("s"):
        assert f() == 1
    assert agentlog.status().observed == 0 and agentlog.flush()


def test_path_may_be_a_pathlike(tmp_path: object) -> None:
    from pathlib import Path

    target = Path(str(tmp_path)) / "runs" / "events.jsonl"
    agentlog.init(path=target)
    agentlog.track_error("x")
    assert agentlog.flush()
    assert target.read_text().count("\n") == 1


def test_instrument_true_switches_on_every_installed_integration_quietly() -> None:
    from agentlog._instrument import _entry_points, uninstrument

    installed = sorted(n for n in _entry_points() if n != "threading")
    try:
        agentlog.init(exporter="memory", instrument=True)
        from agentlog._instrument import _instances

        assert sorted(n for n in _instances if n != "threading") == installed
    finally:
        for name in installed:
            uninstrument(name)


def test_a_named_integration_whose_library_is_missing_is_an_error_at_init(tmp_path: object) -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['openai'] = None\n"  # as if openai were not installed
        "import agentlog\n"
        "try:\n"
        "    agentlog.init(exporter='memory', instrument=['openai'])\n"
        "except ValueError as exc:\n"
        "    print('ValueError:', exc)\n"
        "agentlog.init(exporter='memory', instrument=True)\n"  # quietly skipped
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (
        "ValueError: instrument: the library that 'openai' instruments is not installed"
        in out.stdout
    )
    assert out.stdout.strip().endswith("ok"), out.stderr
