"""The chat widget in headless Chromium (Debian's), driven by Playwright, against the
real servers: the action server, Rasa (socket.io and REST) and the demo careers site,
each on a free port. Only the demo site's http://localhost origin is allowed; the
same site as http://127.0.0.1 is a second origin, which is refused.

Needs Chromium (`apt-get install chromium`; .ci/run does it) and the built widget
(`make widget`; make test does it). Screenshots of each test's end state go to
results/widget/.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import time
from typing import List

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import SHOTS, checked_tab
from tests.harness.browser import AXE_JS, running_widget_site
from tests.harness.serverctl import ROOT

MODEL = ROOT / "models" / "careers.tar.gz"
REPLY_TIMEOUT = 30_000
OFFLINE = "Can't reach the assistant – trying again…"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    assert MODEL.exists(), "no trained model: run `make train` (make test does it)"
    with running_widget_site(MODEL, tmp_path_factory.mktemp("widget")) as running:
        yield running


@pytest.fixture
def page(browser, request):
    """A fresh browser tab (empty storage) that fails the test on any script error."""
    yield from checked_tab(browser, request.node.name, viewport={"width": 1280, "height": 860})


# --- helpers ---------------------------------------------------------------------

FOCUSED = """() => {
  let node = document.activeElement;
  const host = document.getElementById('careers-chat');
  if (node === host) node = host.shadowRoot.activeElement;
  if (!node) return '';
  const name = node.classList.length ? '.' + Array.from(node.classList).join('.') : '';
  return node.tagName.toLowerCase() + name + ':' + (node.textContent || '').trim().slice(0, 40);
}"""


def focused(page: Page) -> str:
    return page.evaluate(FOCUSED)


def open_chat(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Ask about careers").click()
    expect(page.get_by_role("dialog", name="Careers assistant")).to_be_visible()


def send(page: Page, text: str) -> None:
    box = page.get_by_label("Your message to the careers assistant")
    box.fill(text)
    box.press("Enter")


def bot_says(page: Page, text: str, timeout: int = REPLY_TIMEOUT):
    reply = page.locator(".cc-msg--bot").filter(has_text=text).last
    expect(reply).to_be_visible(timeout=timeout)
    return reply


def click_reply(page: Page, title: str) -> None:
    page.locator(".cc-replies").get_by_role("button", name=title, exact=True).click()


def axe_violations(page: Page) -> list:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE_JS.read_text())
    return page.evaluate(
        """async (tags) => {
             const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
             return result.violations.map(v => ({
               id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.map(n => n.target.join(' > ') + ': ' + n.failureSummary)}));
           }""",
        AXE_TAGS,
    )


def stored_session(page: Page) -> str:
    return page.evaluate(
        "() => JSON.parse(sessionStorage.getItem(Object.keys(sessionStorage)"
        ".find(k => k.startsWith('careers-chat:')))).sessionId"
    )


def run_stp_check(page: Page) -> None:
    """An STP check by buttons (and the degree subject, which has none)."""
    click_reply(page, "Check my eligibility")
    bot_says(page, "Which programme shall I check?")
    click_reply(page, "STP (graduate)")
    bot_says(page, "What class is your degree?")
    click_reply(page, "2:1")
    bot_says(page, "What subject is your degree in?")
    send(page, "physics")
    expect(page.locator(".cc-card")).to_be_visible(timeout=REPLY_TIMEOUT)


# --- the tests -------------------------------------------------------------------


def test_ask_a_question_and_see_the_answer(site, page):
    open_chat(page, site.url)
    expect(page.get_by_label("Your message to the careers assistant")).to_be_focused()
    bot_says(page, "Hello! I can tell you how to get into clinical engineering")  # opening message
    send(page, "What skills do I need?")
    expect(page.locator(".cc-msg--user").last).to_have_text(re.compile("What skills do I need?"))
    expect(page.locator(".cc-typing")).to_be_visible()
    answer = bot_says(page, "interpersonal skills")
    expect(page.locator(".cc-typing")).to_be_hidden(timeout=10_000)
    expect(answer.locator("ul, li")).to_have_count(0)
    source = bot_says(page, "Read more").get_by_role("link").first
    expect(source).to_have_attribute("href", re.compile(r"^https://www\.healthcareers\.nhs\.uk/"))
    expect(source).to_have_attribute("target", "_blank")
    expect(source).to_have_attribute("rel", "noopener noreferrer")


VISIBLE_LINK_TEXTS = """() => {
  const log = document.getElementById('careers-chat').shadowRoot.querySelector('.cc-log');
  return Array.from(log.querySelectorAll('a')).map(a => {
    const copy = a.cloneNode(true);
    copy.querySelectorAll('.cc-sr').forEach(hidden => hidden.remove());
    return copy.textContent.trim();
  });
}"""


def test_stp_check_by_buttons_ends_with_a_verdict_card(site, page):
    open_chat(page, site.url)
    run_stp_check(page)
    card = page.locator(".cc-card")
    expect(card).to_have_attribute("aria-label", "Eligibility verdict")
    expect(card.locator(".cc-verdict")).to_have_text(re.compile("Eligible"))
    expect(card).to_contain_text("Scientist Training Programme (STP)")
    expect(card.locator("li").first).to_contain_text("2:1 in physics")
    links = card.locator(".cc-sources a")
    assert links.count() >= 2
    for i in range(links.count()):
        assert links.nth(i).get_attribute("href").startswith(("https://", "http://"))
        assert links.nth(i).get_attribute("target") == "_blank"
    # The verdict's text is the card's summary: shown once, in the card, with what next,
    # and the card's top in view.
    expect(card).to_contain_text("you meet the academic entry requirements")
    expect(page.locator(".cc-msg--bot").filter(has_text="you meet the academic")).to_have_count(1)
    assert card.locator(".cc-card-heading").all_inner_texts() == ["Why", "What next", "Sources"]
    expect(card.locator(".cc-verdict")).to_be_in_viewport()
    # Links are labelled (sources run to 170 characters), in answers and "why?" too.
    send(page, "What skills do I need?")
    bot_says(page, "interpersonal skills")
    send(page, "why?")
    bot_says(page, "That answer comes from")
    texts = page.evaluate(VISIBLE_LINK_TEXTS)
    assert len(texts) >= 4, texts
    assert not [t for t in texts if "://" in t or len(t) > 90], texts
    hrefs = page.locator(".cc-log a").evaluate_all("links => links.map(a => a.href)")
    assert all(h.startswith("https://") for h in hrefs), hrefs


def test_the_verdict_is_shown_once_as_a_card_with_what_next_and_in_view_on_a_phone(site, browser):
    """One verdict, one card (not a text bubble and then a card), with what to do next;
    the reply is shown from its start, so the person sees the verdict itself (at
    1280x860 too: test_stp_check_by_buttons_ends_with_a_verdict_card)."""
    width, height = 375, 667
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=width < 500)
    page = context.new_page()
    try:
        open_chat(page, site.url)
        run_stp_check(page)
        expect(page.locator(".cc-msg--bot").filter(has_text="What I understood")).to_have_count(1)
        card = page.locator(".cc-card")
        expect(card).to_have_count(1)
        headings = card.locator(".cc-card-heading").all_inner_texts()
        assert headings == ["Why", "What next", "Sources"], headings
        expect(card).to_contain_text("person specification")  # a next step
        expect(card.locator(".cc-verdict")).to_be_in_viewport()
        expect(card.locator(".cc-card-kicker")).to_be_in_viewport()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"verdict-{width}.png"))
    finally:
        context.close()


def test_why_after_a_recheck_explains_the_current_facts(site, page):
    open_chat(page, site.url)
    send(page, "could I do the STP with a first in mechanical engineering?")
    expect(page.locator(".cc-card .cc-verdict")).to_have_text(re.compile("Eligible"), timeout=REPLY_TIMEOUT)
    send(page, "what if it was a 2:2 instead?")
    bot_says(page, "higher degree")
    send(page, "why?")
    reply = bot_says(page, "no longer stands")
    expect(reply).to_contain_text("a first in mechanical engineering")
    expect(reply).to_contain_text("2:2")
    expect(page.locator(".cc-msg").last).not_to_contain_text("You have a first")


def test_a_check_for_someone_else_asks_about_them(site, page):
    open_chat(page, site.url)
    send(page, "my son is in year 12, could he do the PTP?")
    question = bot_says(page, "Do they have a good range of GCSEs")
    expect(question).not_to_contain_text("Do you")


def test_start_again_stays_on_one_line_on_a_phone(site, browser):
    context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True)
    page = context.new_page()
    try:
        open_chat(page, site.url)
        restart = page.get_by_role("button", name="Start again")
        expect(restart).to_be_in_viewport()
        assert restart.evaluate("b => b.getClientRects().length === 1 && b.scrollWidth <= b.clientWidth")
        height = restart.bounding_box()["height"]
        line = restart.evaluate("b => parseFloat(getComputedStyle(b).lineHeight) || 20")
        assert height < 2 * line + 16, f"'Start again' wraps ({height} px tall)"
    finally:
        context.close()


def test_history_survives_reload_and_moving_between_pages(site, page):
    open_chat(page, site.url)
    send(page, "Can I get onto the STP with a 2:2 in physics and a PGCert?")
    expect(page.locator(".cc-card .cc-verdict")).to_have_text(
        re.compile("Not eligible"), timeout=REPLY_TIMEOUT
    )
    session = stored_session(page)
    # The verdict card can come before the rest of the reply: count once the bot has gone quiet.
    expect(page.locator(".cc-typing")).to_be_hidden(timeout=REPLY_TIMEOUT)
    shown = page.locator(".cc-msg").count()

    page.reload()
    expect(page.get_by_role("dialog", name="Careers assistant")).to_be_visible()  # still open
    expect(page.locator(".cc-msg")).to_have_count(shown)
    expect(page.locator(".cc-card .cc-verdict")).to_have_text(re.compile("Not eligible"))

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Entry routes").click()
    expect(page).to_have_url(re.compile(r"/routes\.html$"))
    expect(page.locator(".cc-msg")).to_have_count(shown)
    assert stored_session(page) == session
    send(page, "and if I had a 2:1?")  # the server remembers the conversation too
    expect(page.locator(".cc-card .cc-verdict").last).to_have_text(
        re.compile("^.?Eligible"), timeout=REPLY_TIMEOUT
    )

    page.get_by_role("button", name="Start again").click()
    expect(page.locator(".cc-msg")).to_have_count(1)  # the opening message only
    expect(page.locator(".cc-card")).to_have_count(0)
    expect(page.get_by_label("Your message to the careers assistant")).to_be_focused()
    assert stored_session(page) != session
    send(page, "why?")  # a new conversation: nothing to explain yet
    bot_says(page, "I can explain a verdict once I've checked your eligibility")


def test_markup_typed_by_a_person_is_shown_as_text(site, page):
    dialogs: List[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_chat(page, site.url)
    attack = "<img src=x onerror=alert(1)>"
    send(page, attack)
    expect(page.locator(".cc-msg--user").last).to_have_text(re.compile(re.escape(attack)))
    bot_says(page, "didn't receive any text")  # the input guard strips markup
    page.wait_for_timeout(500)
    assert page.locator("#careers-chat img").count() == 0
    assert dialogs == []


def test_bot_text_is_escaped_and_only_web_addresses_become_links(site, page):
    """A hostile reply (faked over the REST fallback): nothing in it runs or becomes
    markup, in text or in a verdict card (which the widget draws as the server built
    it, channels/card.py, taking nothing but text and https links from it)."""
    hostile = [
        {
            "text": '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 1">\n'
            '- javascript:alert(1)\n- see https://example.org/page?a=1&b=2."onmouseover="alert(1)'
        },
        {"text": "Pick one", "buttons": [{"title": "<b>Yes</b>", "payload": "/affirm"}]},
        {
            "custom": {
                "assessment": {"verdict": "not_eligible"},
                "card": {
                    "kicker": "Eligibility check: <b>STP</b>",
                    "programme": "<b>STP</b>",
                    "label": "<b>Not eligible</b>",
                    "mark": "<img src=x onerror=alert(1)>",
                    "tone": 'bad" onclick="alert(1)',
                    "summary": ['<img src=x onerror="window.pwned = 1">'],
                    "sections": [
                        {"heading": "<i>Why</i>", "items": [{"text": "<i>because</i>"}, {"text": 3}]},
                        {
                            "heading": "Sources",
                            "items": [
                                {"title": "script", "url": "javascript:alert(1)"},
                                {"title": "plain", "url": "http://example.org/plain"},
                                {"title": "", "url": "https://example.org/untitled"},
                                {"title": "<b>s</b>", "url": "https://example.org/s"},
                            ],
                        },
                        {"heading": "Empty", "items": [{"url": 1}]},
                    ],
                },
            }
        },
        # From an older server: an assessment without its card shows the text.
        {"text": "An older verdict, as text.", "custom": {"assessment": {"verdict": "eligible"}}},
    ]
    page.route("**/socket.io/**", lambda route: route.abort())
    page.route(
        "**/webhooks/rest/webhook",
        lambda route: route.fulfill(
            status=200,
            content_type="application/json",
            body=json.dumps(hostile),
            headers={"Access-Control-Allow-Origin": site.url.rstrip("/")},
        ),
    )
    open_chat(page, site.url)
    send(page, "hello")
    bot_says(page, "<script>window.pwned = 1</script>")
    log = page.locator(".cc-log")
    assert log.locator("script, img, b, i").count() == 0
    hrefs = [log.locator("a").nth(i).get_attribute("href") for i in range(log.locator("a").count())]
    assert hrefs == ["https://example.org/page?a=1&b=2", "https://example.org/s"], hrefs
    card = log.locator(".cc-card")
    assert card.get_attribute("class") == "cc-card cc-card--neutral"
    expect(card.locator(".cc-verdict")).to_contain_text("<b>Not eligible</b>")
    assert log.locator("[onmouseover], [onerror]").count() == 0
    expect(page.get_by_role("button", name="<b>Yes</b>")).to_be_visible()
    expect(page.locator(".cc-card li").first).to_have_text("<i>because</i>")
    assert card.locator(".cc-card-heading").all_inner_texts() == ["<i>Why</i>", "Sources"]
    expect(card.locator(".cc-sources a")).to_have_text("<b>s</b> (opens in a new tab)")
    expect(bot_says(page, "An older verdict, as text.").locator(".cc-card")).to_have_count(0)
    assert page.evaluate("() => window.pwned") is None


def test_rest_is_used_where_socketio_is_blocked(site, page):
    blocked: List[str] = []
    page.route("**/socket.io/**", lambda route: (blocked.append(route.request.url), route.abort()))
    open_chat(page, site.url)
    send(page, "What skills do I need?")
    bot_says(page, "interpersonal skills")
    assert blocked, "socket.io was tried first"
    expect(page.locator(".cc-status")).not_to_contain_text("Can't reach")


def test_keyboard_alone(site, page):
    page.goto(site.url)
    for _ in range(12):  # skip link, menu, a link in the text, then the launcher
        page.keyboard.press("Tab")
        if ".cc-launcher:" in focused(page):
            break
    assert ".cc-launcher:" in focused(page), focused(page)
    page.keyboard.press("Enter")
    assert ".cc-input:" in focused(page)
    page.keyboard.type("What skills do I need?")
    page.keyboard.press("Enter")
    bot_says(page, "interpersonal skills")
    # "Did that answer help?" comes in its own message, just after the answer.
    expect(page.locator("button.cc-reply")).to_have_count(2, timeout=REPLY_TIMEOUT)

    # Focus order, backwards from the input: the quick replies ("Did that answer
    # help?"), links in the conversation, the conversation itself, then the header's
    # buttons.
    order = []
    for _ in range(30):
        page.keyboard.press("Shift+Tab")
        order.append(focused(page))
        if ".cc-restart:" in order[-1]:
            break
    kinds = [o.split(":", 1)[0] for o in order]
    assert [k.split(".")[-1] for k in kinds[-4:]] == ["cc-log", "cc-close", "cc-delete", "cc-restart"], order
    assert [o.split(":", 1)[1] for o in order[:2]] == ["\N{THUMBS DOWN SIGN} No", "\N{THUMBS UP SIGN} Yes"], (
        order
    )
    assert kinds[2:-4] and set(kinds[2:-4]) == {"a"}, order

    page.keyboard.press("Enter")  # Start again
    assert ".cc-input:" in focused(page)
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "button.cc-reply:Skills needed"
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "button.cc-reply:Check my eligibility"
    page.keyboard.press("Enter")
    bot_says(page, "Which programme shall I check?")
    assert ".cc-input:" in focused(page)
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "button.cc-reply:STP (graduate)"
    page.keyboard.press("Space")
    bot_says(page, "What class is your degree?")

    page.keyboard.press("Tab")
    assert ".cc-send:" in focused(page)
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Careers assistant")).to_be_hidden()
    assert ".cc-launcher:" in focused(page)
    expect(page.get_by_role("button", name="Ask about careers")).to_have_attribute("aria-expanded", "false")


def test_no_accessibility_violations(site, page):
    page.goto(site.url)
    assert axe_violations(page) == []  # closed: the launcher on the page
    page.get_by_role("button", name="Ask about careers").click()
    run_stp_check(page)  # open, mid-conversation, with a verdict card
    send(page, "hello")
    bot_says(page, "What would you like to know?")  # and quick replies
    page.wait_for_timeout(1500)  # the typing dots gone
    assert axe_violations(page) == []
    log = page.get_by_role("log", name="Conversation")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("button", name="Ask about careers")).to_have_attribute(
        "aria-controls", "cc-panel"
    )


def test_phone_screen_360_px_wide(site, browser):
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    try:
        open_chat(page, site.url)
        send(page, "How do I get into clinical engineering?")
        bot_says(page, "Read more")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 360, f"the page scrolls sideways ({width} px)"
        panel = page.locator(".cc-panel").bounding_box()
        assert panel["x"] >= 0 and panel["x"] + panel["width"] <= 360
        box = page.get_by_label("Your message to the careers assistant")
        expect(box).to_be_in_viewport()
        expect(page.get_by_role("button", name="Send")).to_be_in_viewport()
        expect(page.get_by_role("button", name="Close chat")).to_be_in_viewport()
        assert page.evaluate("""() => {
            const log = document.getElementById('careers-chat').shadowRoot.querySelector('.cc-log');
            return log.scrollWidth <= log.clientWidth; }"""), "the conversation scrolls sideways"
        assert axe_violations(page) == []
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "phone-360.png"))
    finally:
        context.close()


def handshake_status(port: int, origin: str, transport: str) -> str:
    """The status line Rasa answers a socket.io handshake with, from `origin`."""
    path = f"/socket.io/?EIO=4&transport={transport}"
    upgrade = (
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        if transport == "websocket"
        else "Connection: close\r\n"
    )
    request = f"GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nOrigin: {origin}\r\n{upgrade}\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                break
            head += chunk
    return head.decode("latin-1")


def test_socketio_accepts_only_the_allowed_origins(site):
    port = int(site.assistant.url.rsplit(":", 1)[1])
    allowed, refused = site.url.rstrip("/"), site.other_url.rstrip("/")
    ok = handshake_status(port, allowed, "polling")
    assert ok.startswith("HTTP/1.1 200"), ok
    assert ok.lower().count("access-control-allow-origin: " + allowed) == 1, ok
    assert handshake_status(port, allowed, "websocket").startswith("HTTP/1.1 101")
    for transport in ("polling", "websocket"):
        answer = handshake_status(port, refused, transport)
        assert answer.startswith("HTTP/1.1 400"), (transport, answer)
        assert "access-control-allow-origin" not in answer.lower()


def test_a_page_on_another_origin_cannot_use_the_assistant(site, page):
    open_chat(page, site.other_url)  # the demo site as http://127.0.0.1:PORT
    expect(page.locator(".cc-status")).to_have_text(OFFLINE, timeout=15_000)
    send(page, "What skills do I need?")
    page.wait_for_timeout(1500)
    expect(page.locator(".cc-msg--bot")).to_have_count(1)  # the opening message only
    # Nor can the page's own scripts open a WebSocket past the check.
    outcome = page.evaluate(
        """(url) => new Promise((resolve) => {
        const ws = new WebSocket(url);
        ws.onopen = () => resolve('open');
        ws.onerror = () => resolve('refused');
        setTimeout(() => resolve('timeout'), 8000);
      })""",
        site.assistant.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket",
    )
    assert outcome == "refused"


def stored_events(site, token: str) -> int:
    """How many events the tracker store holds for the conversation of `token`
    (c1.<id>.<issued>.<signature>: filed under web:<id>)."""
    with sqlite3.connect(site.assistant.rasa.log.parent / "conversations.db") as db:
        (count,) = db.execute(
            "SELECT COUNT(*) FROM events WHERE sender_id = ?", ("web:" + token.split(".")[1],)
        ).fetchone()
    return int(count)


def eventually(check, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_the_delete_button_deletes_the_conversation_here_and_on_the_server(site, page):
    open_chat(page, site.url)
    send(page, "Can I get onto the STP with a 2:1 in physics?")
    expect(page.locator(".cc-card")).to_be_visible(timeout=REPLY_TIMEOUT)
    token = stored_session(page)
    # Replies reach the page as they are made; the turn is saved once it ends.
    assert eventually(lambda: stored_events(site, token) > 0)

    delete = page.get_by_role("button", name="Delete this conversation")
    delete.click()  # asks first...
    expect(page.get_by_role("button", name="Keep it")).to_be_focused()
    page.get_by_role("button", name="Keep it").click()
    expect(page.locator(".cc-confirm")).to_have_count(0)
    assert stored_events(site, token) > 0, "...and Keep it keeps it"
    delete.click()
    page.get_by_role("button", name="Yes, delete it").click()
    bot_says(page, "deleted this conversation")
    expect(page.locator(".cc-card")).to_have_count(0)  # gone from the screen...
    expect(page.locator(".cc-msg--user")).to_have_count(0)
    assert eventually(lambda: stored_events(site, token) == 0), "...and from the server"
    page.wait_for_function(
        "(old) => { const k = Object.keys(sessionStorage).find(k => k.startsWith('careers-chat:'));"
        " const id = k && JSON.parse(sessionStorage.getItem(k)).sessionId; return id && id !== old; }",
        arg=token,
    )
    send(page, "why?")  # a new conversation: nothing remembered
    bot_says(page, "I can explain a verdict once I've checked your eligibility")


def said_times(site, token: str, text: str) -> int:
    """How many times the conversation of `token` holds the person's message `text`."""
    with sqlite3.connect(site.assistant.rasa.log.parent / "conversations.db") as db:
        query = "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'"
        rows = db.execute(query, ("web:" + token.split(".")[1],)).fetchall()
    return sum(1 for (data,) in rows if json.loads(data).get("text") == text)


def test_no_reply_is_shown_and_the_message_can_be_sent_again(site, page):
    """Rasa frozen (it takes the message and answers nothing): after 20 s the widget
    says so and offers to send the message again, which then gets its answer, once:
    the message sent again carries the same id, so its turn is not run twice
    (issue 24) and the replies the server sends again are not shown twice."""
    open_chat(page, site.url)
    send(page, "What skills do I need?")
    bot_says(page, "interpersonal skills")
    rasa = site.assistant.rasa
    assert rasa.process is not None
    os.killpg(rasa.process.pid, signal.SIGSTOP)
    try:
        send(page, "Do I need A-levels?")
        notice = page.locator(".cc-noreply")
        expect(notice).to_contain_text("No reply has come from the assistant", timeout=30_000)
        expect(notice).to_have_attribute("role", "status")
        expect(page.locator(".cc-typing")).to_be_hidden()
        notice.get_by_role("button", name="Try again").click()
        expect(notice).to_have_count(0)
        expect(page.locator(".cc-typing")).to_be_visible()
    finally:
        os.killpg(rasa.process.pid, signal.SIGCONT)
    # Rasa, back, answers the message; the one sent again gets the same replies,
    # which the widget has already shown.
    answers = page.locator(".cc-msg--bot").filter(has_text="A-level")
    expect(answers).to_have_count(1, timeout=REPLY_TIMEOUT)
    token = stored_session(page)
    assert eventually(lambda: said_times(site, token, "Do I need A-levels?") == 1)
    time.sleep(3)  # the message sent again has been handled by now
    expect(answers).to_have_count(1)
    assert said_times(site, token, "Do I need A-levels?") == 1, "the turn ran once"


def test_reconnects_by_itself_when_the_server_is_back(site, page):
    """Last, as it stops and starts Rasa (on the same port)."""
    open_chat(page, site.url)
    send(page, "What skills do I need?")
    bot_says(page, "interpersonal skills")
    rasa = site.assistant.rasa
    rasa.stop()
    status = page.locator(".cc-status")
    expect(status).to_have_text(OFFLINE, timeout=20_000)
    expect(status).to_have_attribute("role", "status")
    send(page, "Do I need A-levels?")  # waits for the server
    rasa.start(site.assistant.url + "/")
    expect(status).not_to_have_text(OFFLINE, timeout=30_000)
    bot_says(page, "A-level")  # the waiting message went, and was answered
    send(page, "thanks")
    bot_says(page, "You're welcome")
