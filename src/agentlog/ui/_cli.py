"""``agentlog ui``: serve the web UI over the local store, a store URL or a collector."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
import threading
from typing import Any

from .._cli_costs import add_prices_option, prices_from_args
from .._signals import quiet_thread

__all__ = ["add_commands", "is_loopback", "ui"]


def add_commands(subs: Any) -> None:
    p = subs.add_parser("ui", help="open the web UI: sessions, timelines, counts, live",
                        description="Serve the web UI over the local store (indexing "
                        "./.agentlog/events.jsonl as it grows), a store URL or a collector, "
                        "and print its URL.")  # fmt: skip
    s = argparse.SUPPRESS  # so the same options given before the command are kept
    g = p.add_argument_group("where to read")
    g.add_argument("--db", default=s, metavar="URL",
                   help="a store: a SQLite path, sqlite:///path or postgresql://...")  # fmt: skip
    g.add_argument("--jsonl", default=s, metavar="PATH",
                   help="index this JSONL file as it grows (default ./.agentlog/events.jsonl "
                        "when --db is not given)")  # fmt: skip
    g.add_argument("--url", default=s, metavar="URL", help="a collector's base URL")
    g.add_argument("--api-key", default=s, metavar="KEY",
                   help="the collector's key with --url (default $AGENTLOG_API_KEY); also the "
                        "key a browser must give to sign in when the UI is not on loopback")  # fmt: skip
    p.add_argument("--project", default="default", help="the project to show (default default)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8030, help="port (default 8030; 0 picks one)")
    p.add_argument("--open", action="store_true", help="open the UI in a web browser")
    p.add_argument("--log-level", default="warning",
                   choices=["critical", "error", "warning", "info", "debug"])  # fmt: skip
    add_prices_option(p)
    p.set_defaults(handler=ui, opens_client=False)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _fail(message: str) -> int:
    print(f"agentlog: error: {message}", file=sys.stderr)
    return 2


def ui(args: argparse.Namespace, client: Any = None) -> int:
    try:
        import uvicorn

        from ._app import LOOPBACK_NAMES, create_ui_app
        from ._pages import key_matcher
    except ImportError as exc:
        return _fail(f"the UI needs the server extra ({exc.name} is missing): "
                     "pip install 'agentlog[server]'")  # fmt: skip
    db, jsonl, url = (getattr(args, n, None) for n in ("db", "jsonl", "url"))
    key = getattr(args, "api_key", None) or os.environ.get("AGENTLOG_API_KEY") or None
    if url and (db or jsonl):
        return _fail("--url reads from a collector: it cannot be combined with --db/--jsonl")
    loopback = is_loopback(args.host)
    if not loopback and not key:
        return _fail(f"--host {args.host} is not a loopback address: anyone who can reach it "
                     "would read every session. Give --api-key KEY (browsers then sign in "
                     "with it), or serve on 127.0.0.1")  # fmt: skip
    # A login is asked for off loopback, and over a store whenever a key is given.
    check = key_matcher(key, args.project) if key and (not loopback or not url) else None
    hosts = None if check is not None else LOOPBACK_NAMES | {args.host.lower()}
    store = None
    if url:
        app = create_ui_app(url=url, api_key=key, project=args.project, check_key=check,
                            hosts=hosts)  # fmt: skip
        source = f"collector {url}"
    else:
        from ..store import open_store

        if db is None and jsonl is None:
            jsonl = ".agentlog/events.jsonl"
        try:
            # Rollups one second after a session goes quiet: a local reader sees them current.
            store = open_store(db, ttl_seconds=1.0, **prices_from_args(args))
        except ImportError as exc:
            return _fail(f"--db: a missing dependency ({exc.name}); install 'agentlog[postgres]'")
        except Exception as exc:
            return _fail(f"cannot open the store {db or '.agentlog/agentlog.db'}: {exc}")
        app = create_ui_app(store=store, project=args.project, jsonl=jsonl, check_key=check,
                            hosts=hosts)  # fmt: skip
        source = (db or ".agentlog/agentlog.db") + (f", indexing {jsonl}" if jsonl else "")
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port,
                                           log_level=args.log_level, access_log=False))  # fmt: skip
    announced = threading.Event()

    def announce() -> None:
        while not server.started and not announced.wait(0.05):
            pass
        if not server.started:
            return
        port = args.port
        for s in getattr(server, "servers", []):
            for sock in s.sockets:
                port = sock.getsockname()[1]
        shown = f"[{args.host}]" if ":" in args.host else args.host
        link = f"http://{shown}:{port}/"
        print(f"agentlog ui: {link}  ({source}, project {args.project})", flush=True)
        if args.open:
            import webbrowser

            webbrowser.open_new_tab(link)

    watcher = quiet_thread(target=announce, daemon=True)
    watcher.start()
    try:
        server.run()
    except (OSError, SystemExit) as exc:
        if isinstance(exc, SystemExit) and exc.code in (0, None):
            return 0
        return _fail(f"cannot serve on {args.host}:{args.port}: {exc}")
    finally:
        announced.set()
        if store is not None:
            store.close()
    return 0 if server.started else _fail(f"cannot serve on {args.host}:{args.port}")
