"""The service-desk console in a real browser: headless Chromium (Debian's package) driven
by Playwright against a real ``propflow serve`` on 127.0.0.1.

One browser serves the whole module; each test opens its own context (its own session
storage, so its own sign-in). Screenshots of every page land in ``console-screenshots``
under the module's pytest working directory, or in ``PROPFLOW_SCREENSHOTS`` when set.
Without Chromium or Playwright the browser tests skip loudly, and fail under CI.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import jwt
import pytest

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # the browser tests then skip (and fail under CI)
    expect = sync_playwright = None

from engine.store import Store
from tests.marionette import Firefox
from tests.postgres import skip_or_fail
from tests.service_harness import (
    ESTATES,
    FORM,
    RECORD,
    LiveServer,
    bearer,
    make_due,
    serving,
    wait_for,
)

#: Chromium as Debian installs it; Playwright's own browser download is not used.
CHROMIUM = os.environ.get("PROPFLOW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
#: Firefox ESR as Debian installs it, the second browser.
FIREFOX = os.environ.get("PROPFLOW_FIREFOX", "/usr/bin/firefox-esr")
SHANGHAI = ZoneInfo("Asia/Shanghai")
DESK = (1280, 800)
PHONE = (390, 844)
#: The company login's signing key in the test deployment.
LOGIN_KEY = "the-company-login-signs-with-this-shared-secret"
#: A field value that would run script if the page ever rendered data as markup.
MARKUP = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'


@pytest.fixture(scope="module")
def server(workdir: Path, store: Store) -> Iterator[LiveServer]:
    """The example estates, with the company login's JWTs accepted besides tokens."""
    (workdir / "login.key").write_text(LOGIN_KEY, encoding="utf-8")
    deployment = (
        f"deployment: test\nstore: cases.db\nestates: {ESTATES}\n"
        "tokens:\n"
        "  jwt: {algorithm: HS256, key_file: login.key, audience: propflow,\n"
        "        claims: {actor: sub, roles: roles, estates: estates}}\n"
    )
    with serving(workdir, deployment) as live:
        yield live


@pytest.fixture(scope="module")
def shots(workdir: Path) -> Path:
    """Where the screenshots of this run go."""
    chosen = os.environ.get("PROPFLOW_SCREENSHOTS")
    folder = Path(chosen) if chosen else workdir / "console-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    if expect is None:
        skip_or_fail("Playwright is not installed (pip install -e '.[test]')")
    if shutil.which(CHROMIUM) is None:
        skip_or_fail(f"Chromium not found at {CHROMIUM}; install Debian's chromium (.ci/run does)")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page_of(browser: Any, server: LiveServer) -> Iterator[Any]:
    """A factory of fresh pages (each its own context) at a viewport size."""
    contexts: list[Any] = []
    problems: list[str] = []

    def make(
        size: tuple[int, int] = DESK, lang: str = "zh-CN", refusals: tuple[int, ...] = ()
    ) -> Any:
        """A page; ``refusals``: HTTP statuses the test expects the API to answer, whose
        log lines in the browser's console are therefore no error."""
        context = browser.new_context(
            viewport={"width": size[0], "height": size[1]},
            locale=lang,
            timezone_id="Asia/Shanghai",
            base_url=server.url,
        )
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(str(error)))

        def logged(message: Any) -> None:
            expected = any(f"status of {status} " in message.text for status in refusals)
            if message.type == "error" and not expected:
                problems.append(message.text)

        page.on("console", logged)
        page.set_default_timeout(15_000)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, f"the page reported errors: {problems}"


def until(page: Any, script: str, what: str, timeout: float = 15) -> None:
    """Evaluate ``script`` in the page until it is true (the page's Content-Security-Policy
    forbids the string evaluation Playwright's own waiting would use)."""
    wait_for(lambda: page.evaluate(script), timeout, what)


def role_label(client: httpx.Client, token: str, role: str) -> str:
    """A role's Chinese label in the estate's repair process, as the API gives it."""
    answer = client.get(
        "/estates/lakeside/processes/repair", headers={"Authorization": f"Bearer {token}"}
    )
    label: str = answer.json()["definition"]["roles"][role]["label"]["zh-CN"]
    return label


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def sign_in(page: Any, token: str, query: str = "") -> None:
    page.goto(f"/{query}")
    page.fill("#token", token)
    page.click("#sign-in button[type=submit]")
    page.wait_for_selector("#nav:not([hidden])")
    page.wait_for_selector("main[data-page]")


def sign_out(page: Any) -> None:
    page.click("#sign-out")
    page.wait_for_selector("#token")


def go(page: Any, route: str) -> None:
    page.evaluate("route => { location.hash = route; }", route)
    name = route.removeprefix("#/").split("/", 1)[0]
    page.wait_for_selector(f"main[data-page='{name}']:not([aria-busy])")


def snap(page: Any, shots: Path, name: str, full_page: bool = True) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=full_page)


def fill_field(page: Any, name: str, value: str) -> None:
    field = page.locator(f"[name='{name}']").first
    tag = field.evaluate("e => e.tagName")
    if tag == "SELECT":
        field.select_option(value)
    else:
        field.fill(value)


# The page itself -----------------------------------------------------------------------------


def test_the_page_is_chinese_first_and_english_on_request(client: httpx.Client) -> None:
    chinese = client.get("/")
    assert chinese.status_code == 200
    assert '<html lang="zh-CN">' in chinese.text
    policy = chinese.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert '<html lang="en">' in client.get("/", params={"lang": "en"}).text
    assert client.get("/", params={"lang": "fr"}).status_code == 400
    script = client.get("/console/console.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    words = client.get("/console/messages.json").json()
    assert set(words["zh-CN"]) == set(words["en"])  # every word in both languages
    # the page is no back door: the API behind it still wants a token
    assert client.get("/estates/lakeside/cases").status_code == 401


def test_a_repair_from_the_desk_to_dispatch_and_the_board(
    page_of: Any, client: httpx.Client, store: Store, shots: Path, server: LiveServer
) -> None:
    desk = token_of(bearer(store, "lakeside", "li", "receptionist"))
    supervisor = token_of(bearer(store, "lakeside", "wang", "supervisor"))
    page = page_of()

    page.goto("/")
    page.wait_for_selector("#token")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.inner_text("#sign-in h1") == "登录服务台"
    snap(page, shots, "01-sign-in")
    sign_in(page, desk)
    assert "li" in page.inner_text("#who")
    snap(page, shots, "02-inbox-receptionist")

    # open a repair from its form: Chinese labels, the required fields marked
    go(page, "#/open/repair")
    assert page.locator("#open-form label[for='field-unit'] .req").count() == 1
    assert "地址（房号）" in page.inner_text("#open-form")
    fill_field(page, "scope", "in_unit")
    fill_field(page, "unit", FORM["unit"])
    page.click("#open-form details summary")
    fill_field(page, "owner_name", FORM["owner_name"])
    snap(page, shots, "03-open-repair")
    page.click("#open-form button[type=submit]")
    page.wait_for_selector("main[data-page='case'] #case-state")
    assert page.inner_text("#case-state") == "受理中"
    case_id = page.get_attribute("section.case", "data-case")
    assert case_id

    # record it, with the event's own form
    page.click("#actions button[data-event='record']")
    form = "#form-record"
    assert page.locator(f"{form} select[name='category'] option").count() > 5  # enum: choices
    assert page.get_attribute(f"{form} [name='appointment_at']", "type") == "datetime-local"
    fill_field(page, "phone", "13800138000")
    fill_field(page, "content", "厨房水管漏水")
    fill_field(page, "location", "厨房")
    fill_field(page, "category", "leak")
    page.click(f"{form} button[type=submit]")
    expect(page.locator("#case-state")).to_have_text("已登记")
    assert role_label(client, supervisor, "supervisor") in page.inner_text("#case-assignee")

    # a dispatch is refused, the reason shown from the available events
    dispatch = page.locator("#actions li[data-event='dispatch']")
    assert dispatch.locator("button").is_disabled()
    options = client.get(  # in the page's language, as the browser asks for it
        f"/estates/lakeside/cases/{case_id}/events",
        headers={"Authorization": f"Bearer {desk}", "Accept-Language": "zh-CN"},
    ).json()
    refusal = next(o["reason"] for o in options if o["event"] == "dispatch")
    assert dispatch.locator(".reason").inner_text() == f"不可办理：{refusal}"
    snap(page, shots, "04-case-recorded-dispatch-refused")

    # the supervisor sees it in the inbox; its response clock counts down by the second
    sign_out(page)
    sign_in(page, supervisor)
    page.wait_for_selector(f"#inbox-list tr[data-case='{case_id}']")
    snap(page, shots, "05-inbox-supervisor")
    go(page, f"#/case/{case_id}")
    response = page.locator(".clock[data-limit='repair-response'] .due[data-deadline]")
    first = response.inner_text()
    assert first.startswith("剩余"), first
    expect(response).not_to_have_text(first)
    snap(page, shots, "06-case-countdown")

    # on the board, the case is soon due; when its limit breaches, the board changes by itself
    go(page, "#/board")
    row = f"#board section[data-role='supervisor'] tr[data-case='{case_id}']"
    response_row = f"{row}[data-limit='repair-response']"
    page.wait_for_selector(response_row)
    assert "服务响应30分钟内" in page.inner_text(response_row)  # the limit by its label
    assert "late" not in (page.get_attribute(response_row, "class") or "")
    snap(page, shots, "07-board-soon-due")
    assert make_due(store, case_id, "repair-response") > 0
    page.wait_for_selector(f"{response_row}.late", timeout=20_000)
    assert page.locator(f"{response_row} .due.breached").count() == 1
    snap(page, shots, "08-board-breached")

    # the supervisor dispatches: the response clock stops, the case leaves their board
    go(page, f"#/case/{case_id}")
    page.click("#actions button[data-event='dispatch']")
    fill_field(page, "technician", "赵师傅")
    page.click("#form-dispatch button[type=submit]")
    expect(page.locator("#case-state")).to_have_text("已派工")
    assert page.locator(".flash.ok").inner_text() == "已办理：派工"
    assert page.locator(".history-table td", has_text="超时：").count() == 1  # the breach, labelled
    expect(page.locator(".clock[data-limit='repair-response'] .due")).to_have_text("已停止")
    snap(page, shots, "09-case-dispatched")
    go(page, "#/board")
    assert page.locator(row).count() == 0

    go(page, "#/indicators")
    report = client.get(
        "/estates/lakeside/report",
        params={"period": datetime.now(UTC).astimezone(SHANGHAI).strftime("%Y-%m")},
        headers={"Authorization": f"Bearer {supervisor}"},
    ).json()
    page.wait_for_selector("#indicators .kpi")
    shown = page.locator("#indicators .kpi").evaluate_all(
        "cards => cards.map(c => c.dataset.indicator)"
    )
    assert shown == [indicator["id"] for indicator in report["indicators"]]
    snap(page, shots, "10-indicators")
    go(page, "#/procedures/repair")
    page.wait_for_selector("#manual")
    assert "报修处理" in page.inner_text("#manual")
    until(page, "() => document.querySelector('#diagram')?.naturalWidth > 0", "the diagram")
    snap(page, shots, "11-procedures", full_page=False)
    page.locator("#diagram").screenshot(path=str(shots / "11-procedure-diagram.png"))

    # the token went out in headers only: not in the URL, not in the server's log
    assert desk not in page.url and supervisor not in page.url
    assert desk not in server.output() and supervisor not in server.output()


def test_a_field_holding_markup_shows_as_text(
    page_of: Any, client: httpx.Client, store: Store, shots: Path
) -> None:
    headers = bearer(store, "lakeside", "li", "receptionist")
    opened = client.post(
        "/estates/lakeside/cases",
        json={"process": "repair", "data": {**FORM, "owner_name": MARKUP}},
        headers=headers,
    )
    assert opened.status_code == 201, opened.text
    page = page_of()
    sign_in(page, token_of(headers))
    go(page, f"#/case/{opened.json()['id']}")
    assert page.inner_text("dd[data-field='owner_name']") == MARKUP
    assert page.evaluate("window.__xss") is None
    assert page.locator("main script, main img[src='x']").count() == 0
    snap(page, shots, "12-markup-as-text")


@pytest.mark.parametrize("size", [DESK, PHONE], ids=["1280x800", "phone"])
def test_every_page_fits_the_screen(
    page_of: Any, client: httpx.Client, store: Store, shots: Path, size: tuple[int, int]
) -> None:
    headers = bearer(store, "lakeside", "wang", "supervisor", "receptionist")
    # a recorded repair: on the supervisor's board, with clocks and history to lay out
    case_id = client.post(
        "/estates/lakeside/cases", json={"process": "repair", "data": FORM}, headers=headers
    ).json()["id"]
    recorded = client.post(
        f"/estates/lakeside/cases/{case_id}/events",
        json={"event": "record", "payload": RECORD},
        headers=headers,
    )
    assert recorded.status_code == 200, recorded.text
    page = page_of(size)
    sign_in(page, token_of(headers))
    routes = ["#/inbox", "#/open/repair", f"#/case/{case_id}", "#/board", "#/notifications",
              "#/indicators", "#/procedures/repair"]  # fmt: skip
    for route in routes:
        go(page, route)
        if route == "#/board":
            page.wait_for_selector(f"#board tr[data-case='{case_id}']")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        name = route.removeprefix("#/").split("/", 1)[0]
        snap(page, shots, f"layout-{size[0]}x{size[1]}-{name}")
        assert overflow <= 0, f"{route} is {overflow}px wider than a {size[0]}px screen"


def test_english_on_request(page_of: Any, store: Store) -> None:
    page = page_of(lang="en")
    sign_in(page, token_of(bearer(store, "lakeside", "li", "receptionist")), "?lang=en")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.inner_text("#nav a[data-page='inbox']") == "Inbox"
    go(page, "#/open/repair")
    assert "Address / unit" in page.inner_text("#open-form")


def test_a_token_that_is_not_known_is_refused_at_sign_in(page_of: Any) -> None:
    page = page_of(refusals=(401,))
    page.goto("/")
    page.fill("#token", "pf_not-a-token")
    page.click("#sign-in button[type=submit]")
    page.wait_for_selector("#sign-in .error:not([hidden])")
    assert page.inner_text("#sign-in .error").startswith("系统拒绝：")
    assert page.locator("#nav").is_hidden()
    assert page.evaluate("sessionStorage.getItem('propflow.token')") is None


def test_an_extension_is_refused_without_consent_and_granted_with_it(
    page_of: Any, client: httpx.Client, store: Store, shots: Path
) -> None:
    desk = bearer(store, "lakeside", "li", "receptionist")
    case = client.post(
        "/estates/lakeside/cases", json={"process": "repair", "data": FORM}, headers=desk
    ).json()
    recorded = client.post(
        f"/estates/lakeside/cases/{case['id']}/events",
        json={"event": "record", "payload": RECORD},
        headers=desk,
    )
    assert recorded.status_code == 200, recorded.text
    page = page_of(refusals=(422,))
    sign_in(page, token_of(bearer(store, "lakeside", "zhang", "head")))
    go(page, f"#/case/{case['id']}")
    clock = page.locator(".clock[data-limit='repair-drain-leak']")
    clock.locator("button.link").click()
    clock.locator("[name='reason']").fill("配件需从厂家订购")
    clock.locator("[name='by']").fill("1d")
    clock.locator("button[type=submit]").click()
    refusal = clock.locator(".error")
    expect(refusal).to_be_visible()
    assert "owner_consent" in refusal.inner_text()
    clock.locator("[name='consents']").fill("owner_consent")
    clock.locator("button[type=submit]").click()
    expect(page.locator(".flash.ok")).to_contain_text("已延期")
    extended = page.locator(".clock[data-limit='repair-drain-leak'] .extensions")
    expect(extended).to_contain_text("配件需从厂家订购")
    assert page.locator(".history-table td", has_text="延期：").count() == 1
    snap(page, shots, "13-extension")


def test_a_company_login_of_two_estates_picks_the_estate_it_works(page_of: Any) -> None:
    claims = {
        "sub": "li",
        "roles": ["receptionist"],
        "estates": ["lakeside", "tingtao"],
        "aud": "propflow",
        "exp": datetime.now(UTC) + timedelta(minutes=10),
    }
    page = page_of()
    sign_in(page, jwt.encode(claims, LOGIN_KEY, algorithm="HS256"))
    go(page, "#/procedures/repair")
    # each estate's own procedure: tingtao keeps the on-site limit lakeside drops
    assert "10分钟内到达现场" not in page.inner_text("#manual")
    page.select_option("#estate", "tingtao")
    expect(page.locator("#manual")).to_contain_text("10分钟内到达现场")


# What waits: paused clocks, unassigned cases, notifications -------------------------------


def opened_repair(client: httpx.Client, headers: dict[str, str], *events: str) -> str:
    """A new repair, taken through ``events`` (``record``; ``quote``, which pauses its clocks
    while the owner decides) by the desk; its id."""
    case_id: str = client.post(
        "/estates/lakeside/cases", json={"process": "repair", "data": FORM}, headers=headers
    ).json()["id"]
    payloads = {"record": RECORD, "quote": {"fee": "80.00"}}
    for event in events:
        fired = client.post(
            f"/estates/lakeside/cases/{case_id}/events",
            json={"event": event, "payload": payloads[event]},
            headers=headers,
        )
        assert fired.status_code == 200, fired.text
    return case_id


def inbox_item(client: httpx.Client, headers: dict[str, str], case_id: str) -> dict[str, Any]:
    page = client.get(
        "/estates/lakeside/cases", params={"closed": "false", "limit": 200}, headers=headers
    ).json()
    return next(item for item in page["items"] if item["case"]["id"] == case_id)


def test_a_case_waiting_for_the_owner_shows_its_paused_clocks(
    page_of: Any, client: httpx.Client, store: Store, shots: Path
) -> None:
    desk = bearer(store, "lakeside", "li", "receptionist")
    running = opened_repair(client, desk, "record")
    waiting = opened_repair(client, desk, "record", "quote")

    assert inbox_item(client, desk, running)["paused"] == []
    item = inbox_item(client, desk, waiting)
    assert item["case"]["state"] == "quoted"
    assert item["next_deadline"] is None  # no clock runs while the owner decides
    paused = {clock["limit"]: clock for clock in item["paused"]}
    assert set(paused) == {"repair-response", "repair-drain-leak"}
    assert all(clock["status"] == "paused" and clock["paused"] for clock in paused.values())
    left = paused["repair-drain-leak"]["remaining_seconds"]
    assert 23 * 3600 < left <= 24 * 3600  # the working time it will have when it resumes
    assert 0 < paused["repair-response"]["remaining_seconds"] <= 30 * 60

    page = page_of()  # the supervisor holds the recorded repairs
    sign_in(page, token_of(bearer(store, "lakeside", "wang", "supervisor")))
    badge = page.locator(f"#inbox-list tr[data-case='{waiting}'] .due.paused[data-paused]")
    expect(badge).to_have_count(2)
    drain = page.locator(
        f"#inbox-list tr[data-case='{waiting}'] .due[data-paused='repair-drain-leak']"
    )
    hours, minutes = divmod(left // 60, 60)
    assert drain.inner_text() == f"已暂停 · 恢复后剩余 {hours:02d}:{minutes:02d}:{left % 60:02d}"
    assert drain.get_attribute("title") == paused["repair-drain-leak"]["label"]
    running_row = page.locator(f"#inbox-list tr[data-case='{running}']")
    assert running_row.locator(".due[data-deadline]").count() == 1
    assert running_row.locator(".due.paused").count() == 0
    snap(page, shots, "14-inbox-paused")


def test_the_board_lists_unassigned_cases_for_whoever_dispatches_them(
    page_of: Any, client: httpx.Client, store: Store, shots: Path
) -> None:
    desk = bearer(store, "lakeside", "li", "receptionist")
    supervisor = bearer(store, "lakeside", "wang", "supervisor")
    fresh = opened_repair(client, desk)  # received: no role holds it yet
    taken = opened_repair(client, desk, "record")  # assigned to the supervisor

    def unassigned(headers: dict[str, str], estate: str = "lakeside") -> dict[str, Any]:
        answer = client.get(f"/estates/{estate}/board", headers=headers)
        assert answer.status_code == 200, answer.text
        return {entry["case"]: entry for entry in answer.json()["unassigned"]}

    lane = unassigned(supervisor)
    assert fresh in lane and taken not in lane
    assert lane[fresh]["state"] == "received" and lane[fresh]["process"] == "repair"
    assert lane[fresh]["next_deadline"] is not None and not lane[fresh]["breached"]
    # scoping: a role of none of the repair's roles, and another estate, see nothing of it
    assert fresh not in unassigned(bearer(store, "lakeside", "ma", "security"))
    other = bearer(store, "tingtao", "wang", "supervisor")
    assert fresh not in unassigned(other, "tingtao")
    assert client.get("/estates/lakeside/board", headers=other).status_code == 404
    refused = client.get(
        "/estates/lakeside/cases", params={"unassigned": "true", "assignee": "supervisor"},
        headers=supervisor,
    )  # fmt: skip
    assert refused.status_code == 400
    only = client.get(
        "/estates/lakeside/cases", params={"unassigned": "true", "limit": 200}, headers=desk
    ).json()["items"]
    assert {item["case"]["assignee"] for item in only} == {None}
    assert fresh in {item["case"]["id"] for item in only}

    page = page_of()
    sign_in(page, token_of(supervisor))
    go(page, "#/board")
    row = page.locator(f"#board-unassigned tr[data-case='{fresh}']")
    expect(row).to_have_count(1)
    assert "受理中" in row.inner_text()
    assert page.locator(f"#board-unassigned tr[data-case='{taken}']").count() == 0
    snap(page, shots, "15-board-unassigned")
    # its response limit breaches while no one holds it: the lane marks it late by itself
    assert make_due(store, fresh, "repair-response") > 0
    expect(page.locator(f"#board-unassigned tr[data-case='{fresh}'].late")).to_have_count(
        1, timeout=20_000
    )
    # the desk records it, assigning it: it leaves the lane
    recorded = client.post(
        f"/estates/lakeside/cases/{fresh}/events",
        json={"event": "record", "payload": RECORD},
        headers=desk,
    )
    assert recorded.status_code == 200, recorded.text
    expect(page.locator(f"#board-unassigned tr[data-case='{fresh}']")).to_have_count(
        0, timeout=20_000
    )


def test_a_user_reads_the_notifications_for_their_roles(
    page_of: Any, client: httpx.Client, store: Store, shots: Path
) -> None:
    desk = bearer(store, "lakeside", "li", "receptionist")
    supervisor = bearer(store, "lakeside", "wang", "supervisor")
    case_id = opened_repair(client, desk)
    page = page_of()
    sign_in(page, token_of(supervisor))

    # the response limit breaches: its rule notifies the supervisor (and the CS supervisor)
    assert make_due(store, case_id, "repair-response") > 0

    def recent(headers: dict[str, str], estate: str = "lakeside") -> list[dict[str, Any]]:
        answer = client.get(f"/estates/{estate}/notifications/recent", headers=headers)
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["notifications"]
        return [n for n in found if n["case_id"] == case_id]

    wait_for(lambda: any(n["kind"] == "notify" for n in recent(supervisor)), 20, "the breach")
    told = recent(supervisor)
    assert {n["role"] for n in told} <= {"supervisor", None}
    breach = next(n for n in told if n["kind"] == "notify")
    assert breach["message"] and "30分钟内未响应" in breach["message"]
    # the desk is not told what the supervisor is; another estate's token sees none of it
    assert all(n["role"] != "supervisor" for n in recent(desk))
    other = bearer(store, "tingtao", "wang", "supervisor")
    assert recent(other, "tingtao") == []
    assert client.get("/estates/lakeside/notifications/recent", headers=other).status_code == 404
    # reading takes nothing off an app's feed: the row still waits for delivery
    feed = client.get("/estates/lakeside/notifications", params={"limit": 200}, headers=supervisor)
    waiting = {n["id"] for n in feed.json()["notifications"]}
    while feed.json()["notifications"]:
        feed = client.get(
            "/estates/lakeside/notifications",
            params={"after": feed.json()["next"], "limit": 200}, headers=supervisor,
        )  # fmt: skip
        waiting |= {n["id"] for n in feed.json()["notifications"]}
    assert breach["id"] in waiting
    # paged back from the newest, one at a time: each page older than the one before
    first = client.get(
        "/estates/lakeside/notifications/recent", params={"limit": 1}, headers=supervisor
    ).json()
    older = client.get(
        "/estates/lakeside/notifications/recent",
        params={"limit": 1, "before": first["before"]}, headers=supervisor,
    ).json()  # fmt: skip
    assert first["before"] is not None and older["before"] < first["before"]

    # the navigation counts what is new; the page lists it, the message as text
    expect(page.locator("#unseen")).to_be_visible(timeout=20_000)
    go(page, "#/notifications")
    notice = page.locator(f"#notifications li[data-notification='{breach['id']}']")
    expect(notice).to_have_count(1)
    assert notice.locator(".message").inner_text() == breach["message"]
    assert notice.locator(f"a[href='#/case/{case_id}']").count() == 1
    assert page.locator("#unseen").is_hidden()
    snap(page, shots, "16-notifications")
    notice.locator("a").click()
    page.wait_for_selector(f"section.case[data-case='{case_id}']")


# A second browser --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def firefox(workdir: Path) -> Iterator[Firefox]:
    """Debian's Firefox ESR, headless, driven over Marionette (see tests/marionette.py)."""
    if shutil.which(FIREFOX) is None:
        skip_or_fail(f"Firefox not found at {FIREFOX}; install Debian's firefox-esr (.ci/run does)")
    browser = Firefox(FIREFOX, workdir / "firefox-profile", timezone="Asia/Shanghai")
    try:
        browser.size(*DESK)
        yield browser
    finally:
        browser.close()


def test_the_desk_flow_works_in_firefox(
    firefox: Firefox, server: LiveServer, store: Store, shots: Path
) -> None:
    desk = token_of(bearer(store, "lakeside", "li", "receptionist"))
    supervisor = token_of(bearer(store, "lakeside", "wang", "supervisor"))
    ff = firefox

    def ready(page: str) -> None:
        ff.until(
            f"return document.querySelector(\"main[data-page='{page}']:not([aria-busy])\")",
            f"the {page} page",
        )

    def go_to(route: str) -> None:
        ff.script("location.hash = arguments[0];", route)
        ready(route.removeprefix("#/").split("/", 1)[0])

    def sign_in_as(token: str) -> None:
        ff.go(f"{server.url}/")
        ff.until("return document.querySelector('#token')", "the sign-in form")
        ff.type("#token", token)
        ff.click("#sign-in button[type=submit]")
        ff.until("return !document.getElementById('nav').hidden", "the navigation")
        ready("inbox")

    sign_in_as(desk)
    assert ff.script("return document.documentElement.lang") == "zh-CN"
    assert ff.text("#nav a[data-page='inbox']") == "待办"

    # open a repair from its form
    go_to("#/open/repair")
    ff.click("#open-form select[name='scope'] option[value='in_unit']")
    ff.type("#open-form [name='unit']", FORM["unit"])
    ff.click("#open-form details summary")
    ff.type("#open-form [name='owner_name']", FORM["owner_name"])
    ff.click("#open-form button[type=submit]")
    ff.until("return document.querySelector('#case-state')?.textContent === '受理中'", "the case")
    case_id = ff.script("return document.querySelector('section.case').dataset.case")

    # record it with the event's form
    ff.click("#actions button[data-event='record']")
    for name in ("phone", "content", "location"):
        ff.type(f"#form-record [name='{name}']", RECORD[name])
    ff.click("#form-record select[name='category'] option[value='leak']")
    ff.click("#form-record button[type=submit]")
    ff.until("return document.querySelector('#case-state')?.textContent === '已登记'", "recorded")

    # the dispatch is refused, with the reason
    assert not ff.enabled("#actions li[data-event='dispatch'] button")
    assert ff.text("#actions li[data-event='dispatch'] .reason").startswith("不可办理：")
    ff.screenshot(shots / "firefox-01-case-recorded.png")

    # the supervisor finds it in the inbox and dispatches it
    ff.click("#sign-out")
    ff.until("return document.querySelector('#token')", "the sign-in form again")
    sign_in_as(supervisor)
    ff.until(f"return document.querySelector(\"#inbox-list tr[data-case='{case_id}']\")", "the row")
    ff.screenshot(shots / "firefox-02-inbox-supervisor.png")
    go_to(f"#/case/{case_id}")
    assert ff.text(".clock[data-limit='repair-response'] .due").startswith("剩余")
    ff.click("#actions button[data-event='dispatch']")
    ff.type("#form-dispatch [name='technician']", "赵师傅")
    ff.click("#form-dispatch button[type=submit]")
    ff.until("return document.querySelector('#case-state')?.textContent === '已派工'", "dispatched")
    assert ff.text(".flash.ok") == "已办理：派工"
    ff.until(
        "return document.querySelector(\".clock[data-limit='repair-response'] .due\")"
        "?.textContent === '已停止'",
        "the response clock stopped",
    )
    ff.screenshot(shots / "firefox-03-case-dispatched.png")
    assert (
        ff.script("return document.querySelectorAll('main [role=alert]:not([hidden])').length") == 0
    )
