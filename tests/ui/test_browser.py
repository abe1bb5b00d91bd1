"""Clicking through the UI as a user does, in Chromium, on both servers (see conftest)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from .conftest import Target, Watched
from .data import IMG, SCRIPT, session_records

ROWS = "table.sessions tbody tr"


def _column(page: Any, index: int) -> list[str]:
    return page.eval_on_selector_all(
        ROWS, f"rows => rows.map(r => r.children[{index}].textContent.trim())"
    )  # fmt: skip


def _first_name(page: Any) -> str:
    return str(page.inner_text(f"{ROWS}:first-child td:first-child a.session-link"))


def test_sessions_list_filters_by_user_and_config_and_pages(watched: Watched) -> None:
    page = watched.page
    assert page.locator(ROWS).count() == 50
    first = _first_name(page)
    page.fill("input[name=user]", "bob")
    page.click("form.filters button[type=submit]")
    page.wait_for_function("() => { const rs = [...document.querySelectorAll('table.sessions tbody tr')]; "
                           "return rs.length > 0 && rs.every(r => r.children[1].textContent === 'bob'); }")  # fmt: skip
    assert set(_column(page, 1)) == {"bob"} and page.locator(ROWS).count() == 50
    page.click("text=Clear")
    # The form is filled anew from the route once Clear's navigation lands: typing before then
    # would be wiped (the user field emptied is the sign that it has landed).
    page.wait_for_function("() => document.querySelector('input[name=user]').value === ''")
    page.fill("input[name=config]", "agent=bot1, env=prod")
    page.click("form.filters button[type=submit]")
    page.wait_for_function("() => { const rs = [...document.querySelectorAll('table.sessions tbody tr')]; "
                           "return rs.length > 0 && rs.every(r => r.children[10]?.textContent.includes('agent=bot1')); }")  # fmt: skip
    configs = _column(page, 10)
    assert configs and all("agent=bot1" in c and "env=prod" in c for c in configs)
    page.click("text=Clear")
    page.wait_for_function(f"() => document.querySelector('{ROWS} a.session-link')"
                           f"?.textContent === {first!r}")  # fmt: skip
    page.click("text=Older →")
    page.wait_for_function("() => document.querySelector('.pager span').textContent === 'Page 2'")
    second = _first_name(page)
    assert second != first and second.startswith("Support ticket")
    page.click("text=Older →")
    page.wait_for_function("() => document.querySelector('.pager span').textContent === 'Page 3'")
    page.click("text=← Newer")
    page.wait_for_function("() => document.querySelector('.pager span').textContent === 'Page 2'")
    assert _first_name(page) == second
    page.click("text=← Newer")
    page.wait_for_function("() => document.querySelector('.pager span').textContent === 'Page 1'")
    assert _first_name(page) == first


def test_a_session_its_spans_its_error_and_its_child(watched: Watched, target: Target) -> None:
    page = watched.page
    page.fill("input[name=name]", "xss")
    page.click("form.filters button[type=submit]")
    page.wait_for_function(f"() => document.querySelectorAll('{ROWS}').length === 1")
    page.click(f"{ROWS} a.session-link")
    page.wait_for_selector("ol.waterfall li.row")
    span = page.locator(f"li.row[data-id='{target.data.span_event}']")
    children = page.locator("li.row[aria-level='2']")
    assert children.count() >= 3
    span.locator("button.toggle").click()  # collapse: its children hide
    assert span.get_attribute("aria-expanded") == "false"
    page.wait_for_function("() => [...document.querySelectorAll(\"li.row[aria-level='2']\")]"
                           ".every(r => r.hidden)")  # fmt: skip
    span.locator("button.toggle").click()  # expand again
    assert span.get_attribute("aria-expanded") == "true" and children.first.is_visible()
    span.click()  # its details
    page.wait_for_selector("aside.detail h2:has-text('step: handle ticket')")
    page.click(f"li.row[data-id='{target.data.error_event}']")
    stack = page.locator("aside.detail details.stack")
    stack.locator("summary").click()
    assert "Traceback (most recent call last)" in stack.locator("pre").inner_text()
    assert "ValueError: ticket 0 has no account" in page.inner_text("aside.detail .error-line")
    page.click("text=What happened around this")  # event_context: the items before and after
    page.wait_for_selector("ol.context-list li.here")
    assert page.locator("ol.context-list li").count() >= 5
    page.click("ol.context-list li:first-child button")
    page.wait_for_selector(f"li.row[aria-selected=true][data-id='{target.data.span_event}']")
    page.click("a.child-link")
    page.wait_for_selector("h1:has-text('Child: escalate')")
    assert target.data.child_session in page.url
    page.click("a.parent-link")
    page.wait_for_selector("h1:has-text('XSS')")


def test_recorded_payloads_show_as_text_and_never_run(watched: Watched, target: Target) -> None:
    page = watched.page
    xss = target.data.xss_session
    row = page.locator(f"{ROWS}", has_text="mallory").filter(has_text="XSS")
    assert IMG in row.inner_text() and SCRIPT in row.inner_text()  # name and configs as text
    page.goto(f"{target.url}/#/session/{xss}")
    page.wait_for_selector("li.row[data-type=tool_call]")
    assert IMG in page.inner_text("h1") and SCRIPT in page.inner_text("h1")
    page.click("li.row[data-type=tool_call]")
    assert SCRIPT in page.inner_text("aside.detail")  # the tool output
    page.click("li.row[data-type=llm_call]")
    assert f"Sure! {IMG} {SCRIPT}" in page.inner_text("aside.detail .transcript")
    page.click("details.configs summary")
    assert SCRIPT in page.inner_text("details.configs")
    # Nothing recorded became markup: the only images and scripts are the UI's own.
    assert page.locator("img").count() == 0
    scripts = page.eval_on_selector_all("script", "s => s.map(x => x.getAttribute('src'))")
    assert scripts == ["/ui/static/js/main.js"]


def test_a_new_session_appears_within_3_s_and_a_running_one_grows(
    watched: Watched, target: Target
) -> None:
    page = watched.page
    now = datetime.now(timezone.utc)
    stamp = f"live-{target.kind}-{time.monotonic_ns()}"
    sid, recs, _ = session_records(9000, now, name=stamp, user="live", running=True,
                                   error=False)  # fmt: skip
    t0 = time.monotonic()
    target.record(recs)
    page.wait_for_selector(f"{ROWS} a.session-link:has-text('{stamp}')", timeout=3_000)
    assert time.monotonic() - t0 <= 3.0
    page.click(f"a.session-link:has-text('{stamp}')")
    page.wait_for_selector("ol.waterfall li.row")
    before = page.locator("ol.waterfall li.row").count()
    later = datetime.now(timezone.utc)
    target.record([{"v": 1, "kind": "event", "id": f"{sid}-late", "session_id": sid,
                    "type": "text", "name": "late", "ts": later.isoformat().replace("+00:00", "Z"),
                    "data": {"text": "arrived while the page was open"}}])  # fmt: skip
    page.wait_for_selector("li.row:has-text('arrived while the page was open')", timeout=3_000)
    assert page.locator("ol.waterfall li.row").count() == before + 1


def test_events_counts_markers_and_live_pages(watched: Watched, target: Target) -> None:
    page = watched.page
    page.click("nav.top >> text=Events")
    page.fill("input[name=type]", "error")
    page.click("form.filters button[type=submit]")
    page.wait_for_function("() => { const rs = [...document.querySelectorAll('table.events tbody tr')]; "
                           "return rs.length > 0 && rs.every(r => r.children[1]?.textContent === 'error'); }")  # fmt: skip
    assert page.locator("table.events tbody tr").count() == 50
    page.click("table.events tbody tr:first-child a.event-link")
    page.wait_for_selector("li.row[aria-selected=true][data-type=error]")
    assert "Stack trace" in page.inner_text("aside.detail")
    page.click("nav.top >> text=Counts")
    page.wait_for_selector("svg.chart rect.bar-rect", state="attached")
    page.click("nav.top >> text=Markers")
    page.fill("input[name=markers]", "llm_call")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("svg.chart rect.bar-rect", state="attached")
    assert "Markers" in page.inner_text("dl.facts")
    page.click("nav.top >> text=Live")
    page.wait_for_selector(".live-sessions li a.session-link")
    page.wait_for_selector("table.events tbody tr")


def test_keyboard_and_a_narrow_window(watched: Watched, target: Target) -> None:
    page = watched.page
    page.goto(f"{target.url}/#/session/{target.data.xss_session}")
    page.wait_for_selector("li.row")
    page.focus("li.row[tabindex='0']")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_selector("aside.detail h2:has-text('user message')")
    page.set_viewport_size({"width": 420, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 440, f"the page scrolls sideways at 420 px: {width}"
