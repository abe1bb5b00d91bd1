from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agentlog.store import Store, open_store
from agentlog.store._schema import SCHEMA_VERSION
from agentlog.store._store import SqlStore
from agentlog.store.sqlite import SqliteStore


@pytest.mark.parametrize("url", ["sqlite:///sub/a.db", "sub/a.db"])
def test_sqlite_urls_and_paths(url: str) -> None:
    store = open_store(url, processing=False)
    assert isinstance(store, SqliteStore) and store.path == Path("sub/a.db")
    store.close()


def test_default_is_the_local_database() -> None:
    store = open_store(processing=False)
    assert isinstance(store, SqliteStore) and store.path == Path(".agentlog/agentlog.db")
    store.close()


def test_backends_implement_the_protocol(store: SqlStore) -> None:
    assert isinstance(store, Store)


def test_schema_is_versioned_and_reopening_keeps_data(store: SqlStore, make_store: object) -> None:
    store.create_session(id="s1")
    again = make_store()  # type: ignore[operator]
    with again._tx() as conn:
        assert conn.one("SELECT max(version) FROM schema_version") == (SCHEMA_VERSION,)
    assert again.get_session("s1").id == "s1"


def test_unknown_option_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="bogus"):
        open_store(tmp_path / "x.db", bogus=1)


@pytest.mark.parametrize("module", ["psycopg", "psycopg_pool"])
def test_postgres_without_its_extra_is_a_clear_error(module: str) -> None:
    # A fresh interpreter where the module cannot be imported, as without agentlog[postgres].
    code = (f"import sys; sys.modules[{module!r}] = None\n"
            "import agentlog\n"
            "try:\n"
            "    agentlog.Client(db='postgresql://u@127.0.0.1:1/x')\n"
            "except ImportError as exc:\n"
            "    print(type(exc).__name__, exc.name, exc)\n")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"ModuleNotFoundError {module} a PostgreSQL store needs the postgres extra "
        f"(missing module {module!r}): pip install 'agentlog[postgres]' "
        "(from a checkout: pip install '.[postgres]')"
    )
