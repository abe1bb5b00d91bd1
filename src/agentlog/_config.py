"""Configuration: ``init()`` keyword options, each also readable from an ``AGENTLOG_*`` variable.

Explicit arguments win over the environment; the environment wins over defaults. Every
validation error is a ``ValueError`` that names the option, and only ``init()`` raises it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["Config", "build_config", "env_flag"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_flag(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in _TRUE


@dataclass
class Config:
    exporter: Any = "file"
    path: str = ".agentlog/events.jsonl"
    endpoint: str | None = None
    api_key: str | None = None
    max_batch: int = 512
    idle_flush: float = 1.0
    max_delay: float = 5.0
    max_queue: int = 100_000
    redact: bool = True
    redact_patterns: Sequence[str] = ()
    redact_keys: Sequence[str] = ()
    redact_callback: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None
    capture: bool = True
    max_payload_bytes: int = 1_000_000
    shutdown_timeout: float = 5.0
    instrument: Any = None
    rotate_bytes: int = 100 * 1024 * 1024
    spool_dir: str = ".agentlog/spool"
    spool_max_bytes: int = 256 * 1024 * 1024
    export_timeout: float = 10.0
    disabled: bool = False
    sample_rate: float = 1.0
    keep_errors: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


_INT = {"max_batch", "max_queue", "max_payload_bytes", "rotate_bytes", "spool_max_bytes"}
_FLOAT = {"idle_flush", "max_delay", "shutdown_timeout", "export_timeout"}
_BOOL = {"redact", "capture", "disabled", "keep_errors"}
_STR = {"path", "endpoint", "api_key", "spool_dir"}
_LIST = {"redact_patterns", "redact_keys"}
_NAMES = {f.name for f in fields(Config)} - {"extra"}


def _from_env(name: str, raw: str) -> Any:
    if name in _INT:
        try:
            return int(raw.replace("_", ""))
        except ValueError:
            raise ValueError(f"AGENTLOG_{name.upper()}={raw!r}: expected an integer") from None
    if name in _FLOAT:
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"AGENTLOG_{name.upper()}={raw!r}: expected a number") from None
    if name == "sample_rate":
        try:
            return float(raw)
        except ValueError:
            raise ValueError(
                f"AGENTLOG_SAMPLE_RATE={raw!r}: expected a number from 0 to 1"
            ) from None
    if name in _BOOL:
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError(f"AGENTLOG_{name.upper()}={raw!r}: expected true or false")
    if name in _LIST:
        return tuple(p for p in raw.split(",") if p)
    if name == "exporter":
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        return parts[0] if len(parts) == 1 else parts
    if name == "instrument":
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return None
        return [p.strip() for p in raw.split(",") if p.strip()]
    return raw


def build_config(options: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name in sorted(_NAMES):
        raw = env.get(f"AGENTLOG_{name.upper()}")
        if raw is not None and name not in ("redact_callback",):
            values[name] = _from_env(name, raw)
    extra: dict[str, Any] = {}
    for name, value in options.items():
        if name in _NAMES:
            values[name] = value
        else:
            raise ValueError(f"init(): unknown option {name!r}")
    cfg = Config(**values, extra=extra)
    _validate(cfg)
    return cfg


def _validate(cfg: Config) -> None:
    def positive_int(name: str) -> None:
        value = getattr(cfg, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")

    def positive_float(name: str) -> None:
        value = getattr(cfg, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        setattr(cfg, name, float(value))

    for name in sorted(_INT):
        positive_int(name)
    for name in sorted(_FLOAT):
        positive_float(name)
    for name in sorted(_BOOL):
        if not isinstance(getattr(cfg, name), bool):
            raise ValueError(f"{name} must be True or False, got {getattr(cfg, name)!r}")
    if isinstance(cfg.path, os.PathLike):
        cfg.path = os.fspath(cfg.path)
    if isinstance(cfg.spool_dir, os.PathLike):
        cfg.spool_dir = os.fspath(cfg.spool_dir)
    for name in sorted(_STR):
        value = getattr(cfg, name)
        if value is not None and (not isinstance(value, str) or (name == "path" and not value)):
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    rate = cfg.sample_rate
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ValueError(f"sample_rate must be a number from 0 to 1, got {rate!r}")
    cfg.sample_rate = float(rate)
    if cfg.max_batch > cfg.max_queue:
        raise ValueError(f"max_batch ({cfg.max_batch}) must not exceed max_queue ({cfg.max_queue})")
    if cfg.redact_callback is not None and not callable(cfg.redact_callback):
        raise ValueError("redact_callback must be callable")
    inst = cfg.instrument
    if inst is not None and inst is not True and inst is not False:
        if isinstance(inst, str):
            cfg.instrument = [inst]
        elif not isinstance(inst, (list, tuple)) or not all(isinstance(i, str) for i in inst):
            raise ValueError(
                f"instrument must be None, True or a list of integration names, got {inst!r}"
            )
