"""The SQLite backend's adapters for None and bool: same values bound, the host's kept."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import agentlog.store.sqlite  # noqa: F401  (registers the adapters)


def test_none_and_bool_have_adapters_so_binding_skips_the_failing_lookups() -> None:
    assert (type(None), sqlite3.PrepareProtocol) in sqlite3.adapters
    assert (bool, sqlite3.PrepareProtocol) in sqlite3.adapters


def test_values_bound_through_the_adapters_are_the_ones_sqlite3_binds_itself() -> None:
    c = sqlite3.connect(":memory:")
    got = c.execute("SELECT typeof(?), ?, typeof(?), ?, typeof(?), ?",
                    (None, None, True, True, False, False)).fetchone()  # fmt: skip
    assert got == ("null", None, "integer", 1, "integer", 0)


def test_an_adapter_the_host_registered_first_is_left_alone() -> None:
    code = (
        "import sqlite3\n"
        "sqlite3.register_adapter(bool, str)\n"
        "import agentlog.store.sqlite\n"
        "print(sqlite3.connect(':memory:').execute('SELECT ?', (True,)).fetchone()[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
