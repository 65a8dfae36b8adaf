#!/usr/bin/python3
"""Drives the Spoor web console in Debian's Chromium (headless, through
chromedriver and python3-selenium): the seed-000 story from recording a
court order to the audit trail, plus the attacks an insider or another web
site would try.  Python only because a browser cannot be driven from C.

Prints one line per check, "ok DESCRIPTION" or "FAIL DESCRIPTION: got ...",
which tests/integration/55_console.sh counts.

Arguments (environment): HEADERS_FILE (a genuine message's headers),
CONSOLE_URL, CONSOLE_SHORT_URL (a spoor-api whose
sessions expire after 3 s idle), TOKEN_ANNA (analyst), TOKEN_BERT
(approver), TOKEN_AUDREY (auditor), MESSAGE_ID, OTHER_MESSAGE_ID (a real
message the order does not name), CALLING (the Calling-Station-Id the
lookup must find), WINDOW_LO, WINDOW_HI (YYYY-MM-DDTHH:MM:SS, UTC),
WORK (a scratch folder), SCREENSHOTS (a folder, optional).
"""
import json
import os
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

E = os.environ
URL, SHORT = E["CONSOLE_URL"], E["CONSOLE_SHORT_URL"]
WORK = E["WORK"]
SHOTS = E.get("SCREENSHOTS", "")
failed = 0


def check(name, got, want=True):
    global failed
    if got == want:
        print("ok " + name, flush=True)
    else:
        failed += 1
        print("FAIL %s: got %r, want %r" % (name, got, want), flush=True)


def browser():
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1366,900", "--no-first-run", "--disable-extensions",
              "--user-data-dir=" + os.path.join(WORK, "chrome-profile-%d" % time.time_ns())):
        o.add_argument(a)
    o.add_experimental_option("prefs", {"download.default_directory": os.path.join(WORK, "downloads"),
                                        "download.prompt_for_download": False})
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    d.implicitly_wait(0)
    return d


def wait(d, cond, t=15):
    return WebDriverWait(d, t).until(cond)


def css(d, sel, t=15):
    return wait(d, EC.visibility_of_element_located((By.CSS_SELECTOR, sel)), t)


def text_in(d, sel, text, t=15):
    try:
        wait(d, EC.text_to_be_present_in_element((By.CSS_SELECTOR, sel), text), t)
        return True
    except TimeoutException:
        return False


def shot(d, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        d.save_screenshot(os.path.join(SHOTS, name + ".png"))


def sign_in(d, url, token):
    d.get(url + "/#/cases")
    tok = css(d, "#token")
    tok.send_keys(token)
    tok.send_keys(Keys.ENTER)
    css(d, "#signout")
    wait(d, EC.visibility_of_element_located((By.CSS_SELECTOR, "main h1")))


def hold_action(d, request_id, what, note):
    """Clicks WHAT (renew or release) on the hold of REQUEST_ID in the holds
    page, answering its question with NOTE."""
    d.get(URL + "/#/holds")
    css(d, "main table")
    for row in d.find_elements(By.CSS_SELECTOR, "main tbody tr"):
        if "#%d " % request_id in row.text:
            row.find_element(By.XPATH, ".//button[normalize-space()='%s']" % what.capitalize()).click()
            a = wait(d, EC.alert_is_present())
            a.send_keys(note)
            a.accept()
            return
    print("# no hold row for request %d" % request_id, flush=True)


def low_contrast(d):
    """Text on the page whose contrast with its background is below WCAG
    AA (4.5:1; 3:1 for large text), as "text (ratio)"."""
    return d.execute_script("""
        const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
        const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
          return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
        const bg = (e) => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
          if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3); } return [255, 255, 255]; };
        const bad = [];
        for (const e of document.querySelectorAll('body *')) {
          if (!e.offsetParent && getComputedStyle(e).position !== 'fixed') continue;
          const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
          if (!own) continue;
          const st = getComputedStyle(e);
          const a = lum(rgb(st.color)), b = lum(bg(e));
          const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
          const large = parseFloat(st.fontSize) >= 24 || (parseFloat(st.fontSize) >= 18.66 && parseInt(st.fontWeight) >= 700);
          if (ratio < (large ? 3 : 4.5)) bad.push(e.textContent.trim().slice(0, 30) + ' (' + ratio.toFixed(2) + ')');
        }
        return bad;""")


def too_wide(d):
    """True if the page scrolls sideways (it should fit a laptop screen)."""
    return d.execute_script("return document.documentElement.scrollWidth > document.documentElement.clientWidth + 1")


def unlabeled(d):
    """The form fields of the page without a label (by id, or their HTML)."""
    return d.execute_script("""
        return [...document.querySelectorAll('input, select, textarea')].filter(e =>
          !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.id || e.outerHTML);""")


def sign_out(d):
    d.find_element(By.ID, "signout").click()
    css(d, "#token")


def fetch(d, method, path, body=None, csrf=True):
    """A call from the page itself (what an insider with the browser's
    developer tools can do): the session cookie, and the CSRF secret if
    CSRF is true.  Returns [http status, answer]."""
    return d.execute_async_script("""
        const [m, p, b, withCsrf, done] = arguments;
        fetch('/v1/session').then(r => r.json()).then(s => {
          const h = {'Content-Type': 'application/json'};
          if (withCsrf) h['X-CSRF-Token'] = s.csrf;
          return fetch(p, {method: m, headers: h, body: m === 'GET' ? undefined : JSON.stringify(b || {})});
        }).then(async r => done([r.status, await r.json().catch(() => null)])).catch(e => done([0, String(e)]));
    """, method, path, body, csrf)


def main():
    d = browser()
    d.set_script_timeout(20)
    try:
        story(d)
    finally:
        logs = [l for l in d.get_log("browser") if l["level"] == "SEVERE" and "401" not in l["message"]
                and "403" not in l["message"]]
        check("no script errors or CSP violations in the browser's console", [l["message"] for l in logs
              if "Content Security Policy" in l["message"] or "Uncaught" in l["message"]], [])
        d.quit()
    expiry()
    print("# browser: %d failed" % failed)
    return 1 if failed else 0


def story(d):
    # 1. The analyst records the order.
    d.get(URL + "/")
    css(d, "#token")
    check("the console opens on the sign-in page", d.find_element(By.CSS_SELECTOR, "label[for=token]").text,
          "Your personal access token")
    shot(d, "signin")
    d.find_element(By.ID, "token").send_keys("spoor_" + "0" * 64 + Keys.ENTER)
    check("a wrong token is refused in words", text_in(d, "#notice", "unknown, expired or revoked"))
    sign_in(d, URL, E["TOKEN_ANNA"])
    check("signed in as the analyst", "anna" in d.find_element(By.ID, "who").text)
    d.get(URL + "/#/new")
    css(d, "#case_ref").send_keys("SEED-000")
    d.find_element(By.ID, "authority").send_keys("Crown Court at Worcester")
    d.find_element(By.ID, "legal_basis").send_keys("Production order, PACE 1984 Sch. 1")
    # datetime-local inputs take their value through script (typing depends on the locale).
    d.execute_script("document.getElementById('window_lo').value = arguments[0];"
                     "document.getElementById('window_hi').value = arguments[1];", E["WINDOW_LO"], E["WINDOW_HI"])
    row_value = d.find_element(By.CSS_SELECTOR, "#scope-rows input.value")
    # The scope builder refuses a wildcard before anything is sent.
    d.find_element(By.CSS_SELECTOR, "#scope-rows select").send_keys("Message-ID")
    row_value.send_keys("*@isp.example")
    d.find_element(By.ID, "create").click()
    check("the scope builder refuses a wildcard (a blanket search)", text_in(d, "#notice", "cannot contain wildcards"))
    row_value.clear()
    row_value.send_keys("<" + E["MESSAGE_ID"] + ">")
    check("every form field on the record page has a label", unlabeled(d), [])
    shot(d, "record")
    d.find_element(By.ID, "create").click()
    check("the request is recorded", text_in(d, "#notice", "was recorded"))
    wait(d, EC.url_contains("#/cases/"))
    rid = int(d.current_url.rsplit("/", 1)[1])
    css(d, "#own-request")
    check("the recorder is told why they cannot approve their own request",
          "four-eyes rule" in d.find_element(By.ID, "own-request").text)
    check("…and the approve button is disabled for them", d.find_element(By.ID, "approve").is_enabled(), False)
    # The insider goes around the page: the database refuses all the same.
    st, ans = fetch(d, "POST", "/v1/requests/%d/approve" % rid, {})
    check("self-approval forced from the page is refused by the database (403)", st, 403)
    # A second order, for the CSRF attempt later.
    st, ans = fetch(d, "POST", "/v1/requests", {
        "case_ref": "SEED-000-B", "authority": "Court", "legal_basis": "Law",
        "window_lo": E["WINDOW_LO"] + "Z", "window_hi": E["WINDOW_HI"] + "Z",
        "scope": [{"kind": "message_id", "value": E["MESSAGE_ID"]}]})
    rid2 = ans.get("request_id") if isinstance(ans, dict) else None
    check("a second request recorded through the API with the CSRF secret", st, 200)
    st, ans = fetch(d, "POST", "/v1/requests", {"case_ref": "X", "authority": "X", "legal_basis": "X",
                                                "window_lo": E["WINDOW_LO"] + "Z", "window_hi": E["WINDOW_HI"] + "Z",
                                                "scope": [{"kind": "message_id", "value": "x@y"}]}, csrf=False)
    check("the same call without the CSRF secret is refused (403)", st, 403)
    st, ans = fetch(d, "POST", "/v1/requests", {
        "case_ref": "SEED-000-P", "authority": "Court", "legal_basis": "Preservation order", "kind": "preservation",
        "window_lo": E["WINDOW_LO"] + "Z", "window_hi": E["WINDOW_HI"] + "Z",
        "scope": [{"kind": "message_id", "value": E["MESSAGE_ID"]}]})
    rid3 = ans.get("request_id") if isinstance(ans, dict) else None
    sign_out(d)
    check("signed out: the sign-in page again", d.find_element(By.ID, "token").is_displayed())
    d.get(URL + "/#/cases")
    css(d, "#token")
    check("after sign-out the cases are not shown", len(d.find_elements(By.CSS_SELECTOR, "main table")), 0)

    # 2. A second person approves.
    sign_in(d, URL, E["TOKEN_BERT"])
    shot(d, "cases")
    check("the cases page has AA contrast and fits the screen", [low_contrast(d), too_wide(d)], [[], False])
    check("the case is in the approver's list", text_in(d, "main table", "SEED-000"))
    d.get(URL + "/#/cases/%d" % rid)
    css(d, "#approve").click()
    check("the approver approves it", text_in(d, "#notice", "is now approved"))
    # CSRF: a page on another origin posts to the API while the approver is
    # signed in; SameSite=Strict keeps the cookie off, and without the CSRF
    # secret the call would be refused anyway.
    evil = os.path.join(WORK, "evil.html")
    with open(evil, "w") as f:
        f.write('<form id="f" method="POST" enctype="text/plain" action="%s/v1/requests/%d/approve">'
                '<input name=\'{"note":"x","y\' value=\'":1}\'></form>'
                '<script>document.getElementById("f").submit()</script>' % (URL, rid2))
    d.get("file://" + evil)
    time.sleep(1.5)
    d.get(URL + "/#/cases/%d" % rid2)
    css(d, "#open-case")
    check("a link to a case from elsewhere asks before opening it (opening is audited)",
          text_in(d, "main h1", "Open case #%d?" % rid2))
    d.find_element(By.ID, "open-case").click()
    css(d, "main h1 .badge")
    check("a cross-site form post did not approve the other request", text_in(d, "main h1", "received"))
    # The preservation order, approved, becomes a legal hold; its early
    # release takes two people: the approver asks for it here.
    st, ans = fetch(d, "POST", "/v1/requests/%d/approve" % rid3, {})
    hold_action(d, rid3, "release", "the order was withdrawn")
    check("a hold's release asked for in the console waits for a second person",
          text_in(d, "#notice", "a second person must confirm"))
    sign_out(d)

    # 3. The analyst looks up what the order names, reads the evidence, exports.
    sign_in(d, URL, E["TOKEN_ANNA"])
    d.get(URL + "/#/cases/%d" % rid)
    css(d, "#lookup-target")
    check("every form field on the case page has a label", unlabeled(d), [])
    check("…its text has AA contrast (4.5:1)", low_contrast(d), [])
    opts = [o.text for o in d.find_elements(By.CSS_SELECTOR, "#lookup-target option")]
    check("the lookup offers only what the order names", opts, ["Message-ID: " + E["MESSAGE_ID"]])
    d.find_element(By.ID, "lookup-run").click()
    check("the lookup answers with the session's Calling-Station-Id", text_in(d, "#result", E["CALLING"]))
    d.execute_script("for (const x of document.querySelectorAll('#result details')) x.open = true;")
    lines = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#result .evidence pre")]
    check("…with the verbatim log lines as evidence (the submission's and the session's)",
          [any("message-id=<" + E["MESSAGE_ID"] + ">" in l for l in lines), any("User-Name = " in l and "Acct-Status-Type" in l for l in lines)],
          [True, True])
    check("the result fits a 1366-pixel laptop screen (no sideways scrolling)", too_wide(d), False)
    check("…and their block SHA-256", len(d.find_element(By.CSS_SELECTOR, "#result .evidence .meta").text.split("SHA-256 ")[1]), 64)
    check("…and the budget left goes down", d.find_element(By.ID, "budget").text, "19 of 20")
    d.execute_script("document.getElementById('result').scrollIntoView()")
    shot(d, "lookup")
    # The complainant's copy of the message, uploaded for the hop-by-hop check.
    d.find_element(By.ID, "headers-file").send_keys(E["HEADERS_FILE"])
    wait(d, lambda d: "Message-ID" in d.find_element(By.ID, "headers-text").get_property("value"))
    d.find_element(By.ID, "headers-run").click()
    check("an uploaded message's headers are checked hop by hop: sent by the subscriber",
          text_in(d, "#headers-verdict", "sent by subscriber"))
    check("…the hop naming our server is found in our logs", text_in(d, "#result table", "found in our logs"))
    st, ans = fetch(d, "POST", "/v1/trace/message-id", {"request_id": rid, "message_id": E["OTHER_MESSAGE_ID"]})
    check("an out-of-scope lookup forced from the page is refused by the legal gate (403)", st, 403)
    check("…with the gate's reason", isinstance(ans, dict) and ans.get("status") == "denied", True)
    d.find_element(By.ID, "export").click()
    path = os.path.join(WORK, "downloads", "spoor-request-%d-export.json" % rid)
    for _ in range(50):
        if os.path.exists(path):
            break
        time.sleep(0.2)
    ok = False
    if os.path.exists(path):
        with open(path) as f:
            ok = E["MESSAGE_ID"] in f.read()
    check("the export downloads and holds the result", ok)
    d.find_element(By.ID, "package").click()
    path = os.path.join(WORK, "downloads", "spoor-request-%d-package.tar" % rid)
    for _ in range(50):
        if os.path.exists(path) and os.path.getsize(path) > 0:
            break
        time.sleep(0.2)
    time.sleep(0.5)
    check("the signed package downloads (checked with spoor verify-package by 55_console)",
          os.path.exists(path) and text_in(d, "#notice", "signed package was downloaded"))
    hold_action(d, rid3, "release", "confirmed: the order was withdrawn")
    check("…and a second person confirms it: the hold is released", text_in(d, "#notice", "is released"))
    sign_out(d)

    # 4. The auditor reads the trail of the case.
    sign_in(d, URL, E["TOKEN_AUDREY"])
    d.get(URL + "/#/audit/%d" % rid)
    css(d, "#audit-verify").click()
    check("the audit chain verifies on the auditor's page", text_in(d, "#audit-status", "intact"))
    body = d.find_element(By.CSS_SELECTOR, "main table").text
    check("the audit shows the refused self-approval", "request.approve" in body and "denied" in body)
    check("…the lookup by anna", "trace.message_id anna" in body.replace("\n", " ") or
          ("trace.message_id" in body and "anna" in body))
    check("…and the export", "request.export" in body)
    shot(d, "audit")
    d.get(URL + "/#/report")
    css(d, "svg.chart")
    check("the yearly report has its chart", len(d.find_elements(By.CSS_SELECTOR, "svg.chart rect")) > 0)
    shot(d, "report")
    # Keyboard only: from the page's start, Tab reaches the case and Enter opens it.
    d.get(URL + "/#/cases")
    css(d, "main table")
    found = False
    for _ in range(40):
        ActionChains(d).send_keys(Keys.TAB).perform()
        if (d.switch_to.active_element.get_attribute("href") or "").endswith("#/cases/%d" % rid):
            found = True
            break
    check("keyboard: Tab reaches the case in the list", found)
    ActionChains(d).send_keys(Keys.ENTER).perform()
    check("…and Enter opens it", text_in(d, "main h1", "SEED-000"))
    d.get(URL + "/#/report")
    css(d, "svg.chart")
    check("every form field on the report page has a label", unlabeled(d), [])
    check("…its text, chart labels included, has AA contrast", low_contrast(d), [])
    d.get(URL + "/#/audit")
    css(d, "#audit-verify")
    check("…and on the audit page", unlabeled(d), [])
    sign_out(d)


def expiry():
    d = browser()
    try:
        sign_in(d, SHORT, E["TOKEN_ANNA"])
        check("signed in to the console whose sessions expire after 3 s idle", text_in(d, "main h1", "Cases"))
        time.sleep(5.5)
        check("idle expiry: the page says the session ended and asks to sign in",
              text_in(d, "#notice", "without activity", 10) or text_in(d, "#notice", "session has ended", 1))
        d.get(SHORT + "/#/cases")
        css(d, "#token")
        check("…and the old session no longer opens the cases", len(d.find_elements(By.CSS_SELECTOR, "main table")), 0)
    finally:
        d.quit()


if __name__ == "__main__":
    sys.exit(main())
