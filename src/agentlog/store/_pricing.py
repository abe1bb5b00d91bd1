"""What an ``llm_call`` cost: priced once, at ingest, from its provider, model and token usage.

Prices come from the ``genai-prices`` package's bundled data (never the network), or from the
user's overrides, which win; a ``cost_usd`` the caller recorded wins over both. Money is kept as
integer picodollars (1e-12 USD) so sums are exact on both backends (SQLite has no decimal type),
and shown as decimal strings. A model no price list knows is ``unpriced``: never guessed.

Usage follows DESIGN §2 (the OpenAI convention): ``input_tokens`` is the whole prompt, cached
reads and cache writes included; ``output_tokens`` includes reasoning tokens, which every
provider bills at the output rate. Raw Anthropic usage (``cache_read_input_tokens``,
``cache_creation_input_tokens``, with ``input_tokens`` the uncached rest) is read as Anthropic
bills it.

``genai_prices.calc_price`` takes ~0.5 ms a call, far too slow for ingest, so a model's prices
are resolved through it once per (provider, model, day) and the arithmetic is done here.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NamedTuple

__all__ = [
    "PICO",
    "Priced",
    "Pricer",
    "load_prices",
    "pico_to_usd",
    "usd_to_pico",
]

PICO = 10**12
_PER_TOKEN = 10**6  # a price per million tokens, in USD, is this many picodollars per token
_KEYS = ("input_mtok", "cache_read_mtok", "cache_write_mtok", "output_mtok")
_DAY_US = 86_400_000_000

# A unit price in picodollars per token: a plain number, or (base, ((start, price), ...)) when
# the rate depends on the prompt size (a tier applies above ``start`` input tokens).
_Rate = int | Decimal
_Price = _Rate | tuple[_Rate, tuple[tuple[int, _Rate], ...]]
# input, cache read, cache write, output; None where the list has no price of its own.
_Prices = tuple[_Price | None, _Price | None, _Price | None, _Price | None]


def usd_to_pico(value: Any) -> int:
    """USD (a number or a decimal string) as integer picodollars, rounded half-even."""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    return int((d * PICO).to_integral_value(rounding=ROUND_HALF_EVEN))


def pico_to_usd(value: int | Decimal) -> Decimal:
    """Picodollars as an exact USD decimal (``Decimal('0.0025')``)."""
    d = (Decimal(value) / PICO).normalize()
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d


def _usd_text(value: int | None) -> str | None:
    """Picodollars as a plain decimal string ("0.0025"), by integer arithmetic (ingest calls
    this three times per priced call)."""
    if value is None:
        return None
    whole, frac = divmod(abs(value), PICO)
    text = f"{whole}.{f'{frac:012d}'.rstrip('0')}" if frac else str(whole)
    return f"-{text}" if value < 0 else text


def _usd_json(value: int | None) -> str:
    return "null" if value is None else f'"{_usd_text(value)}"'


def _rate(mtok: Any) -> _Rate:
    d = mtok if isinstance(mtok, Decimal) else Decimal(str(mtok))
    if not d.is_finite() or d < 0:
        raise ValueError(f"not a price: {mtok!r}")
    p = d * _PER_TOKEN
    return int(p) if p == p.to_integral_value() else p


def _price(value: Any) -> _Price | None:
    if value is None:
        return None
    base = getattr(value, "base", None)
    if base is not None:  # genai_prices TieredPrices
        return (_rate(base), tuple((int(t.start), _rate(t.price)) for t in value.tiers))
    return _rate(value)


def _at(price: _Price, prompt: int) -> _Rate:
    if isinstance(price, tuple):
        rate = price[0]
        for start, tier in reversed(price[1]):
            if prompt > start:
                return tier
        return rate
    return price


class Priced(NamedTuple):
    """One call's cost: picodollars (None when unpriced) and where the price came from. A
    NamedTuple: ingest makes one per call, and a frozen dataclass costs several times more."""

    provider: str | None
    model: str | None
    input_tokens: int
    output_tokens: int
    input_p: int | None
    output_p: int | None
    total_p: int | None
    source: str  # "caller", "override", "genai-prices" or "unpriced"

    def as_json(self) -> dict[str, Any]:
        """The ``cost`` object an event carries: USD as exact decimal strings."""
        return {
            "input_usd": _usd_text(self.input_p),
            "output_usd": _usd_text(self.output_p),
            "total_usd": _usd_text(self.total_p),
            "source": self.source,
        }

    def as_json_text(self) -> str:
        """``as_json()`` as the JSON text orjson writes for it, without building the dict (ingest
        makes one per priced call). The source is one of four plain words, the amounts are
        digits: nothing needs escaping."""
        return (f'{{"input_usd":{_usd_json(self.input_p)},"output_usd":'
                f'{_usd_json(self.output_p)},"total_usd":{_usd_json(self.total_p)},'
                f'"source":"{self.source}"}}')  # fmt: skip


# The most tokens one count of one call may hold, and the most USD a caller may give for one
# call: no model reads or writes that many tokens in a call, and a larger value (a broken
# integration, a hostile client) would overflow the 64-bit picodollar columns and sums, failing
# every batch that carries it. Beyond them a value is not a count or a cost, like a negative one.
MAX_TOKENS = 100_000_000
_MAX_GIVEN_P = 10_000 * PICO


def _n(value: Any) -> int | None:
    """A token count: an int (or float) from 0 to ``MAX_TOKENS``, else None (bools and strings
    too)."""
    kind = type(value)
    if (kind is int or kind is float) and 0 <= value <= MAX_TOKENS:
        return int(value)
    return None


def _first(get: Any, name: str, alias: str) -> int | None:
    """The count under ``name``, else under ``alias`` (``_n`` of each); a plain int and an
    absent key cost no further call (ingest reads four per priced call)."""
    value = get(name)
    if type(value) is int and 0 <= value <= MAX_TOKENS:
        return value
    if value is not None:
        value = _n(value)
        if value is not None:
            return value
    value = get(alias)
    return None if value is None else _n(value)


def _tokens(usage: Mapping[str, Any]) -> tuple[int, int, int, int] | None:
    """(uncached input, cache read, cache write, output), or None when nothing was counted."""
    g = usage.get
    inp = _first(g, "input_tokens", "prompt_tokens")
    out = _first(g, "output_tokens", "completion_tokens")
    read = _first(g, "cache_read_tokens", "cached_tokens")
    write = _first(g, "cache_write_tokens", "cache_creation_tokens")
    if read is None and write is None:
        raw_read, raw_write = g("cache_read_input_tokens"), g("cache_creation_input_tokens")
        if raw_read is not None or raw_write is not None:
            raw_read, raw_write = _n(raw_read), _n(raw_write)
            if raw_read is not None or raw_write is not None:
                # Anthropic's own shape: input_tokens excludes what was read from or written
                # to the cache.
                read, write = raw_read or 0, raw_write or 0
                inp = (inp or 0) + read + write
    if inp is None and out is None:
        return None
    inp, out, read, write = inp or 0, out or 0, read or 0, write or 0
    return max(inp - read - write, 0), read, write, out


def load_prices(source: str | os.PathLike[str] | Mapping[str, Any] | None) -> dict[str, _Prices]:
    """User price overrides: a dict, or a JSON or TOML file, of model -> per-million-token USD
    prices (``input_mtok``, ``output_mtok``, ``cache_read_mtok``, ``cache_write_mtok``); a key
    is ``model`` or ``provider/model`` (case-insensitive). A top-level ``models`` table is read
    the same way. Raises ``ValueError`` naming the bad entry."""
    if source is None:
        return {}
    if isinstance(source, Mapping):
        raw: Any = source
    else:
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"prices: cannot read {path}: {exc}") from None
        try:
            if path.suffix.lower() == ".toml":
                raw = _toml(text)
            else:
                raw = json.loads(text)
        except ValueError as exc:
            raise ValueError(
                f"prices: {path} is not valid {path.suffix[1:] or 'JSON'}: {exc}"
            ) from None
    if isinstance(raw, Mapping) and isinstance(raw.get("models"), Mapping):
        raw = raw["models"]
    if not isinstance(raw, Mapping):
        raise ValueError("prices: expected a mapping of model name to prices")
    out: dict[str, _Prices] = {}
    for model, entry in raw.items():
        if not isinstance(entry, Mapping):
            raise ValueError(f"prices: {model!r} must map to a table of prices")
        unknown = set(entry) - set(_KEYS)
        if unknown:
            raise ValueError(f"prices: {model!r} has unknown keys {sorted(unknown)}; "
                             f"known: {', '.join(_KEYS)}")  # fmt: skip
        if "input_mtok" not in entry and "output_mtok" not in entry:
            raise ValueError(f"prices: {model!r} needs input_mtok or output_mtok")
        try:
            prices = tuple(None if entry.get(k) is None else _rate(entry[k]) for k in _KEYS)
        except (ValueError, InvalidOperation):
            raise ValueError(f"prices: {model!r} has a price that is not a non-negative "
                             "number") from None  # fmt: skip
        out[str(model).lower()] = prices  # type: ignore[assignment]
    return out


def _toml(text: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found]
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(str(exc)) from None


@functools.lru_cache(maxsize=4096)
def _bundled(provider: str | None, model: str, day: int) -> _Prices | None:
    """The bundled prices of a model on a day (prices change over time); None if unknown."""
    from genai_prices import data_snapshot

    snap = data_snapshot.get_snapshot()
    when = datetime.fromtimestamp(day * 86_400 + 43_200, tz=timezone.utc)
    found = None
    for pid in (provider, None) if provider else (None,):
        try:
            found = snap.find_provider_model(model, None, pid, None)
            break
        except LookupError:
            continue
    if found is None:
        return None
    mp = found[1].get_prices(when)
    return tuple(_price(getattr(mp, k, None)) for k in _KEYS)  # type: ignore[return-value]


class Pricer:
    """Prices ``llm_call`` data; one instance per store, holding its overrides."""

    def __init__(self, overrides: str | os.PathLike[str] | Mapping[str, Any] | None = None) -> None:
        self.overrides = load_prices(overrides)
        # (provider, model, day) -> (source, prices) or None: resolved once, as ingest meets
        # the same few models over and over.
        self._resolved: dict[tuple[str | None, str, int], tuple[str, _Prices] | None] = {}

    def _prices(self, provider: str | None, model: str, day: int) -> tuple[str, _Prices] | None:
        key = (provider, model, day)
        try:
            return self._resolved[key]
        except KeyError:
            pass
        found = self.overrides.get(f"{provider}/{model}") if provider else None
        if found is None:
            found = self.overrides.get(model)
        got: tuple[str, _Prices] | None = None
        if found is not None:
            got = ("override", found)
        else:
            bundled = _bundled(provider, model, day)
            if bundled is not None:
                got = ("genai-prices", bundled)
        if len(self._resolved) >= 4096:
            self._resolved.clear()
        self._resolved[key] = got
        return got

    def price(self, data: Mapping[str, Any], ts_us: int) -> Priced:
        provider = data.get("provider")
        provider = provider.lower() if isinstance(provider, str) and provider else None
        model = data.get("model") or data.get("request_model")
        model = model if isinstance(model, str) and model else None
        usage = data.get("usage")
        tokens = _tokens(usage) if type(usage) is dict or isinstance(usage, Mapping) else None
        n_in = 0 if tokens is None else tokens[0] + tokens[1] + tokens[2]
        n_out = 0 if tokens is None else tokens[3]
        given = data.get("cost_usd")
        if given is not None and type(given) in (int, float, str):
            try:
                total = usd_to_pico(given)
            except (InvalidOperation, ValueError):
                total = -1
            if 0 <= total <= _MAX_GIVEN_P:
                return Priced(provider, model, n_in, n_out, None, None, total, "caller")
        if model is None or tokens is None:
            return Priced(provider, model, n_in, n_out, None, None, None, "unpriced")
        found = self._prices(provider, model.lower(), ts_us // _DAY_US)
        if found is None:
            return Priced(provider, model, n_in, n_out, None, None, None, "unpriced")
        source, (inp_price, read_price, write_price, out_price) = found
        uncached, read, write, out = tokens
        if (inp_price is None and (uncached or read or write)) or (out_price is None and out):
            return Priced(provider, model, n_in, n_out, None, None, None, "unpriced")
        # Cache tokens are part of the prompt: without a cache price they cost the input rate.
        fallback = inp_price if inp_price is not None else 0
        in_cost = uncached * _at(fallback, n_in)
        if read:
            in_cost += read * _at(read_price if read_price is not None else fallback, n_in)
        if write:
            in_cost += write * _at(write_price if write_price is not None else fallback, n_in)
        out_cost = out * _at(out_price, n_in) if out_price is not None else 0
        in_p, out_p = _whole(in_cost), _whole(out_cost)
        return Priced(provider, model, n_in, n_out, in_p, out_p, in_p + out_p, source)


def _whole(value: int | Decimal) -> int:
    if isinstance(value, int):
        return value
    return int(value.to_integral_value(rounding=ROUND_HALF_EVEN))
