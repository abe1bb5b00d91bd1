"""``agentlog serve`` and ``agentlog keys``: the collector's commands.

``add_commands(subparsers)`` adds them to the ``agentlog`` command; each sets
``opens_client=False`` (they need no Client) and a ``handler(args, client) -> int``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from pathlib import Path
from typing import Any

from .._cli_costs import add_prices_option, prices_from_args
from .._cli_prune import duration_arg
from .._hints import install_hint

__all__ = ["add_commands", "app_from_env", "keys_create", "keys_list", "serve"]

_BANNER = (
    "agentlog collector: AUTHENTICATION IS OFF (--no-auth).",
    "Anyone who can reach {addr}",
    'can read and write every session (all in project "default").',
    "Use this for local development only.",
)


def banner(addr: str) -> str:
    """The --no-auth warning in a box whose right edge lines up whatever the address."""
    lines = [line.format(addr=addr) for line in _BANNER]
    width = max(72, *(len(line) for line in lines))
    rule = "*" * (width + 6)
    return "\n".join([rule, *(f"*  {line:<{width}}  *" for line in lines), rule])


def _positive(kind: type[Any]) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {kind.__name__}: {text!r}") from None
        if not value > 0 or value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


def add_commands(subs: Any) -> None:
    p = subs.add_parser("serve", help="run the collector (HTTP API over a store)",
                        description="Run the agentlog collector: batch ingest, the session and "
                        "query API and an OpenAPI document (/docs), over one store.")  # fmt: skip
    p.add_argument("--db", default=argparse.SUPPRESS, metavar="URL",
                   help="the store: sqlite:///path, a path, or postgresql://... "
                        "(default: ./.agentlog/agentlog.db)")  # fmt: skip
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8029, help="port (default 8029)")
    p.add_argument("--keys-file", metavar="PATH", default=os.environ.get("AGENTLOG_KEYS_FILE"),
                   help="API keys, one key:project per line (also $AGENTLOG_KEYS_FILE; "
                        "$AGENTLOG_API_KEYS=key:project,... is read too)")  # fmt: skip
    p.add_argument(
        "--no-auth",
        action="store_true",
        help="development only: no API keys, everything in project 'default'",
    )
    g = p.add_argument_group("limits")
    g.add_argument("--max-body-bytes", type=_positive(int), default=16 * 1024 * 1024,
                   help="largest request body as sent (default 16 MiB)")  # fmt: skip
    g.add_argument("--max-decoded-bytes", type=_positive(int), default=64 * 1024 * 1024,
                   help="largest ingest body after gzip (default 64 MiB)")  # fmt: skip
    g.add_argument("--max-batch-records", type=_positive(int), default=10_000,
                   help="most records in one ingest batch (default 10000)")  # fmt: skip
    g.add_argument("--max-inflight", type=_positive(int), default=16,
                   help="ingest batches in progress at once; more are answered 429 "
                        "(default 16)")  # fmt: skip
    g = p.add_argument_group("processing")
    g.add_argument(
        "--max-turns",
        type=_positive(int),
        default=20,
        help="process a session once it has this many pending messages (default 20)",
    )
    g.add_argument("--ttl-seconds", type=_positive(float), default=60.0,
                   help="process a session idle this long (default 60)")  # fmt: skip
    g.add_argument(
        "--auto-close-after",
        type=_positive(float),
        default=24 * 3600.0,
        help="running sessions idle this long become 'timeout' (default 86400)",
    )
    add_prices_option(g)
    g = p.add_argument_group("scaling")
    g.add_argument("--retention", type=duration_arg, default=None, metavar="AGE",
                   help="remove sessions that ended more than AGE ago (e.g. 30d), with their "
                        "events and messages, in the background")  # fmt: skip
    g.add_argument("--read-db", default=None, metavar="URL",
                   help="serve reads from this store (a read replica of --db); writes go to "
                        "--db")  # fmt: skip
    p.add_argument("--workers", type=_positive(int), default=1,
                   help="worker processes (default 1); more suit PostgreSQL, where ingest "
                        "parses in parallel; with SQLite keep 1 (one writer)")  # fmt: skip
    p.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    p.set_defaults(handler=serve, opens_client=False)

    k = subs.add_parser("keys", help="manage the collector's API keys",
                        description="Create API keys mapped to projects.")  # fmt: skip
    ks = k.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    c = ks.add_parser("create", help="make a new key for a project and print it")
    c.add_argument("--project", required=True, help="the project the key reads and writes")
    c.add_argument("--file", metavar="PATH", default=os.environ.get("AGENTLOG_KEYS_FILE"),
                   help="append the key's SHA-256 to this keys file (mode 0600); a running "
                        "collector picks it up within a second")  # fmt: skip
    c.set_defaults(handler=keys_create, opens_client=False)
    ls = ks.add_parser("list", help="list the projects of a keys file and the environment")
    ls.add_argument("--file", metavar="PATH", default=os.environ.get("AGENTLOG_KEYS_FILE"))
    ls.set_defaults(handler=keys_list, opens_client=False)


def _fail(message: str) -> int:
    print(f"agentlog: error: {message}", file=sys.stderr)
    return 2


def keys_create(args: argparse.Namespace, client: Any = None) -> int:
    from .auth import create_key

    try:
        key = create_key(args.project, path=args.file)
    except (ValueError, OSError) as exc:
        return _fail(str(exc))
    print(key)
    if args.file:
        print(f"added to {args.file} for project {args.project!r}; this key is shown only once",
              file=sys.stderr)  # fmt: skip
    else:
        print(f"no --file: give it to the collector as AGENTLOG_API_KEYS={key}:{args.project}",
              file=sys.stderr)  # fmt: skip
    return 0


def keys_list(args: argparse.Namespace, client: Any = None) -> int:
    from .auth import KeyRing

    try:
        ring = KeyRing.from_env(path=args.file)
    except (ValueError, OSError) as exc:
        return _fail(str(exc))
    for project in sorted(ring.projects()):
        print(project)
    return 0


_SETTINGS_ENV = "AGENTLOG_COLLECTOR_SETTINGS"  # how --workers hands the options to each worker


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    return {"db": getattr(args, "db", None), "no_auth": args.no_auth,
            "keys_file": args.keys_file, "max_body_bytes": args.max_body_bytes,
            "max_decoded_bytes": args.max_decoded_bytes, "max_records": args.max_batch_records,
            "max_inflight": args.max_inflight,
            "max_turns": args.max_turns, "ttl_seconds": args.ttl_seconds,
            "auto_close_after": args.auto_close_after,
            "prices": getattr(args, "prices", None),
            "retention": args.retention, "read_db": args.read_db}  # fmt: skip


def _build_app(settings: dict[str, Any], *, store: Any = None) -> Any:
    """The app for these settings (over ``store`` when given, else it opens ``db`` itself at
    startup); ``ValueError`` / ``OSError`` name what is wrong."""
    from ._ingest import IngestLimits
    from .app import create_app
    from .auth import KeyRing

    keys = None
    if not settings["no_auth"]:
        keys = KeyRing.from_env(path=settings["keys_file"])
        if not len(keys):
            raise ValueError("no API keys: set AGENTLOG_API_KEYS=key:project,..., pass "
                             "--keys-file (see 'agentlog keys create'), or --no-auth for "
                             "local development")  # fmt: skip
    limits = IngestLimits(max_body_bytes=settings["max_body_bytes"],
                          max_decoded_bytes=settings["max_decoded_bytes"],
                          max_records=settings["max_records"],
                          max_inflight=settings["max_inflight"])  # fmt: skip
    return create_app(settings["db"] if store is None else store, keys=keys,
                      no_auth=settings["no_auth"], limits=limits,
                      max_turns=settings["max_turns"], ttl_seconds=settings["ttl_seconds"],
                      auto_close_after=settings["auto_close_after"],
                      **({"prices": settings["prices"]} if settings.get("prices") else {}),
                      retention=settings.get("retention"),
                      read_db=settings.get("read_db"))  # fmt: skip


def _store_name(db: str | None) -> str:
    """The store as the log shows it: an absolute SQLite path, a PostgreSQL URL without its
    password."""
    if db is None:
        return f"SQLite {Path('.agentlog/agentlog.db').resolve()}"
    if db.startswith(("postgresql://", "postgres://")):
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(db)
        if parts.password:
            host = parts.netloc.rsplit("@", 1)[-1]
            parts = parts._replace(netloc=f"{parts.username}:***@{host}")
        return f"PostgreSQL {urlunsplit(parts)}"
    path = db[len("sqlite://") :].removeprefix("/") if db.startswith("sqlite://") else db
    return f"SQLite {Path(path).resolve()}"


def _startup(settings: dict[str, Any]) -> str:
    """One line on what this collector serves: its store, its keys, its projects."""
    from .auth import KeyRing

    if settings["no_auth"]:
        keys = "no API keys (--no-auth): everything in project 'default'"
    else:
        keys = KeyRing.from_env(path=settings["keys_file"]).describe()
    return f"store {_store_name(settings['db'])}; {keys}"


def app_from_env() -> Any:
    """The app factory each ``--workers`` process calls."""
    app = _build_app(json.loads(os.environ[_SETTINGS_ENV]))
    tune_gc()
    return app


# A collector allocates a dozen objects per record it decodes and keeps them until the batch is
# stored: with Python's default thresholds (700, 10, 10) the cyclic collector ran ~2,700 times
# per 200k events and its full passes walked every module, class and function loaded at start,
# ~1.6 s of the process's GIL time in all (benchmarks/collector_ingest.py, PostgreSQL). Records
# are trees freed by reference counting; the collector only has to find rare cycles.
GC_THRESHOLDS = (50_000, 20, 10)


def tune_gc() -> None:
    """Set the collector process's garbage collection for batch ingest: what is loaded by now
    moves out of the collector's sight (``gc.freeze``), and passes run 70x less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def serve(args: argparse.Namespace, client: Any = None) -> int:
    try:
        import uvicorn
    except ImportError as exc:
        return _fail(f"the collector needs the server extra ({exc.name} is missing): "
                     f"{install_hint('server')}")  # fmt: skip
    settings = _settings(args)
    try:
        app = _build_app(settings)  # also in the parent with --workers: errors show up here
    except ImportError as exc:
        return _fail(f"the collector needs the server extra ({exc.name} is missing): "
                     f"{install_hint('server')}")  # fmt: skip
    except (ValueError, OSError) as exc:
        return _fail(str(exc))
    store = None
    if args.workers == 1:
        # Opened here rather than in the app's startup, so a store that cannot be opened is
        # one clear message and exit status 2, not a server traceback.
        from ..store import open_store

        try:
            store = open_store(settings["db"], max_turns=args.max_turns,
                               ttl_seconds=args.ttl_seconds,
                               auto_close_after=args.auto_close_after,
                               **prices_from_args(args))  # fmt: skip
        except ImportError as exc:
            return _fail(f"--db: a missing dependency ({exc.name}): {install_hint('postgres')}")
        except Exception as exc:
            return _fail(f"cannot open the store {settings['db'] or '.agentlog/agentlog.db'}: "
                         f"{exc}")  # fmt: skip
        app = _build_app(settings, store=store)
    print(f"agentlog collector: {_startup(settings)}", file=sys.stderr, flush=True)
    if args.no_auth:
        print(banner(f"http://{args.host}:{args.port}"), file=sys.stderr, flush=True)
        import logging

        logging.getLogger("agentlog").warning("collector running with --no-auth")
    options: dict[str, Any] = {"host": args.host, "port": args.port,
                               "log_level": args.log_level,
                               "access_log": args.log_level == "debug"}  # fmt: skip
    try:
        if args.workers > 1:
            os.environ[_SETTINGS_ENV] = json.dumps(settings)
            uvicorn.run("agentlog.collector._cli:app_from_env", factory=True,
                        workers=args.workers, **options)  # fmt: skip
        else:
            tune_gc()
            uvicorn.run(app, **options)
    except (OSError, SystemExit) as exc:
        code = exc.code if isinstance(exc, SystemExit) else None
        if isinstance(exc, SystemExit) and code in (0, None):
            return 0
        return _fail(f"cannot serve on {args.host}:{args.port}: {exc}")
    finally:
        if store is not None:
            store.close()
    return 0
