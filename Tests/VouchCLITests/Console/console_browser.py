"""The console in a real browser: Debian's headless Chromium driven by Selenium (PyPI).

Run by ConsoleBrowserTests.swift against a `vouch serve` it started:
    python3 console_browser.py SERVER ADMIN_KEY READ_ONLY_KEY CLAIM_TOKEN VOUCH WORKDIR SCREENSHOTS
Each step asserts what the operator would see, and checks it against the API. axe-core (PyPI
axe-selenium-python) audits every page: no serious or critical violation. It prints one line per
step and exits non-zero at the first failure, saying what was expected and what was there.
"""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

from axe_selenium_python import Axe
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

server, admin, reader, token, vouch, work, shots = sys.argv[1:8]


def step(text):
    print("step:", text, flush=True)


def api(path, key=admin):
    request = urllib.request.Request(server + path, headers={"Authorization": "Bearer " + key})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def until(what, check, seconds=15):
    """Polls `check` until it returns something true, or fails naming `what`."""
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as error:  # a page between two states
            last = error
        time.sleep(0.1)
    raise AssertionError(f"waited {seconds} s for {what}; last saw {last!r}")


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800", "--disable-gpu"]:
    options.add_argument(argument)
browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
browser.set_window_size(1280, 800)
audited = {}


def audit(name):
    """axe-core on the page as it is; serious and critical violations fail the run."""
    axe = Axe(browser)
    axe.inject()
    results = axe.run()
    bad = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
    audited[name] = len(results["violations"])
    assert not bad, f"axe found on {name}: " + "; ".join(f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in bad)
    if shots != "-":
        browser.execute_script("window.scrollTo(0, 0)")
        browser.save_screenshot(os.path.join(shots, name + ".png"))


def sign_in(key):
    browser.get(server + "/console")
    until("the sign-in page", lambda: "/console/sign-in" in browser.current_url)
    field = browser.find_element(By.ID, "key")
    field.send_keys(key)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    until("the overview after sign-in", lambda: browser.current_url.rstrip("/").endswith("/console"))


def text(selector):
    return browser.find_element(By.CSS_SELECTOR, selector).text


try:
    step("a wrong key is refused on the sign-in page")
    browser.get(server + "/console/sign-in")
    audit("sign-in")
    browser.find_element(By.ID, "key").send_keys("vk_not-a-key")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    problem = until("the sign-in problem", lambda: browser.find_element(By.CSS_SELECTOR, ".problem").text)
    assert "unknown or revoked" in problem, problem

    step("sign in with the admin key; the session cookie is HttpOnly and SameSite=Strict")
    sign_in(admin)
    cookie = browser.get_cookie("vouch_console")
    assert cookie and cookie["httpOnly"] and cookie.get("sameSite") == "Strict", cookie

    step("the overview's counts match the API")
    devices = api("/v1/admin/devices?limit=1000")["devices"]
    assert text("[data-count=total]") == str(len(devices)), (text("[data-count=total]"), len(devices))
    for state in ["active", "quarantined", "pending"]:
        expected = sum(1 for d in devices if d["state"] == state)
        assert text(f"[data-count={state}]") == str(expected), (state, text(f"[data-count={state}]"), expected)
    charts = browser.find_elements(By.CSS_SELECTOR, "figure.chart-figure svg[role=img]")
    assert len(charts) == 5 and all(c.get_attribute("aria-label") for c in charts), "five charts, each with a text alternative"
    audit("overview")

    step("a device enrolled with the CLI appears on the devices page without a reload")
    browser.get(server + "/console/devices")
    until("the live stream to connect", lambda: browser.execute_script("return document.body.dataset.live") == "connected")
    browser.execute_script("window.vouchNotReloaded = true")
    before = len(browser.find_elements(By.CSS_SELECTOR, "#device-list tbody tr[data-device]"))
    enrolled = subprocess.run(
        [vouch, "device", "enroll", "--server", server, "--group", "console-line", "--token", token, "--dir", os.path.join(work, "dev1")],
        capture_output=True, text=True, timeout=60)
    assert enrolled.returncode == 0, enrolled.stdout + enrolled.stderr
    device = json.load(open(os.path.join(work, "dev1", "device.json")))["id"] if os.path.exists(os.path.join(work, "dev1", "device.json")) else None
    rows = until("the new device's row", lambda: browser.find_elements(By.CSS_SELECTOR, "#device-list tbody tr[data-device]")
                 if len(browser.find_elements(By.CSS_SELECTOR, "#device-list tbody tr[data-device]")) == before + 1 else None)
    assert browser.execute_script("return window.vouchNotReloaded === true"), "the page was reloaded"
    listed = {r.get_attribute("data-device") for r in rows}
    api_ids = {d["id"] for d in api("/v1/admin/devices?limit=1000")["devices"]}
    assert listed == api_ids, (listed, api_ids)
    new_id = sorted(api_ids - {d["id"] for d in devices})[0]
    if device:
        assert device == new_id, (device, new_id)
    audit("devices")

    step("quarantine it from its page, with a confirmation naming the consequence; the API agrees")
    browser.get(server + "/console/devices/" + new_id)
    until("the live stream to connect", lambda: browser.execute_script("return document.body.dataset.live") == "connected")
    assert text("#device-state") == "active", text("#device-state")
    audit("device")
    browser.find_element(By.LINK_TEXT, "Quarantine").click()
    consequence = until("the confirmation", lambda: text(".consequence"))
    assert "quarantine zone" in consequence and "suspended" in consequence, consequence
    audit("confirm")
    browser.find_element(By.ID, "confirm-action").click()
    until("the quarantined badge", lambda: text("#device-state") == "quarantined")
    assert api("/v1/admin/devices/" + new_id)["device"]["state"] == "quarantined"

    step("a change made elsewhere (release through the API) changes the badge without a reload")
    browser.execute_script("window.vouchNotReloaded = true")
    request = urllib.request.Request(server + f"/v1/admin/devices/{new_id}/release", method="POST", headers={"Authorization": "Bearer " + admin})
    urllib.request.urlopen(request, timeout=10).read()
    until("the active badge", lambda: text("#device-state") == "active")
    assert browser.execute_script("return window.vouchNotReloaded === true"), "the page was reloaded"

    step("the overview's log size moves with a new checkpoint, without a reload")
    browser.get(server + "/console")
    until("the live stream to connect", lambda: browser.execute_script("return document.body.dataset.live") == "connected")
    browser.execute_script("window.vouchNotReloaded = true")
    size = int(text("[data-count=log-size]"))
    request = urllib.request.Request(server + f"/v1/admin/devices/{new_id}/suspend", method="POST", headers={"Authorization": "Bearer " + admin})
    urllib.request.urlopen(request, timeout=10).read()
    until("a larger log", lambda: int(text("[data-count=log-size]")) > size)
    assert text("[data-count=suspended]") == "1", text("[data-count=suspended]")
    assert browser.execute_script("return window.vouchNotReloaded === true"), "the page was reloaded"
    request = urllib.request.Request(server + f"/v1/admin/devices/{new_id}/reinstate", method="POST", headers={"Authorization": "Bearer " + admin})
    urllib.request.urlopen(request, timeout=10).read()

    step("groups: create one, its claim token shown once")
    browser.get(server + "/console/groups")
    browser.find_element(By.ID, "group-name").send_keys("console-made")
    browser.find_element(By.CSS_SELECTOR, "form.stacked button[type=submit]").click()
    claim = until("the claim token", lambda: browser.find_element(By.ID, "claim-token").get_attribute("value"))
    assert claim.startswith("ct_"), claim
    groups = api("/v1/admin/groups")
    assert any(g["name"] == "console-made" for g in groups), groups
    audit("groups")
    browser.get(server + "/console/groups")
    assert not browser.find_elements(By.ID, "claim-token"), "the claim token is shown again"

    step("API keys: the page lists them; a key made here is shown once")
    browser.get(server + "/console/api-keys")
    browser.find_element(By.ID, "key-name").send_keys("made-in-console")
    browser.find_element(By.CSS_SELECTOR, "form.stacked button[type=submit]").click()
    secret = until("the new key", lambda: browser.find_element(By.ID, "new-key").get_attribute("value"))
    assert secret.startswith("vk_") and api("/v1/admin/devices?limit=1", key=secret) is not None
    audit("api-keys")

    step("policy: a broken policy shows its problem at its line, and nothing goes in force")
    versions_before = api("/v1/admin/policy/versions")
    browser.get(server + "/console/policy")
    source = browser.find_element(By.ID, "policy-source")
    source.clear()
    source.send_keys("zones:\n  line-3: {}\nroles:\n  sensor:\n    allow:\n      - publish:telemetry/${device.id}/#\n      - frobnicate\n")
    browser.find_element(By.ID, "policy-apply").click()
    first = until("the problems table", lambda: browser.find_elements(By.CSS_SELECTOR, "#policy-problems tbody tr"))
    line = first[0].find_elements(By.TAG_NAME, "td")[0].text
    assert line == "7", f"the problem is reported at line {line}, not 7: {first[0].text}"
    flagged = browser.find_element(By.CSS_SELECTOR, "#line-7.problem-line").text
    assert "frobnicate" in flagged, flagged
    assert api("/v1/admin/policy/versions") == versions_before, "a broken policy went in force"
    audit("policy-problems")

    step("policy: a good one is dry-run against cases, put in force, and compared with the last")
    good = "zones:\n  line-3: {}\n  default: {}\nroles:\n  sensor:\n    allow:\n      - publish:telemetry/${device.id}/#\n"
    for version in range(2):
        browser.get(server + "/console/policy")
        source = browser.find_element(By.ID, "policy-source")
        source.clear()
        source.send_keys(good + ("" if version == 0 else "      - subscribe:commands/${device.id}\n"))
        cases = browser.find_element(By.ID, "policy-cases-text")
        cases.clear()
        cases.send_keys("devices:\n  s1: {zone: line-3, roles: [sensor]}\ncases:\n  - {subject: s1, action: publish, resource: telemetry/s1/t, expect: allow}\n")
        browser.find_element(By.ID, "policy-check").click()
        caption = until("the dry run", lambda: text("#policy-cases caption"))
        assert "1 of 1" in caption, caption
        browser.find_element(By.ID, "policy-apply").click()
        until("the new version in force", lambda: "is in force" in text(".notice"))
    versions = api("/v1/admin/policy/versions")
    assert len(versions) == len(versions_before) + 2, versions
    newest = max(v["version"] for v in versions)
    browser.get(server + f"/console/policy?from={newest - 1}&to={newest}")
    added = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "ol.diff li.diff-added")]
    assert any("subscribe:commands/${device.id}" in a for a in added), added
    assert not browser.find_elements(By.CSS_SELECTOR, "ol.diff li.diff-removed"), "a line shows as removed"
    audit("policy")

    step("transparency log: an entry's inclusion proof is verified by the browser")
    browser.get(server + "/console/log?entry=2")
    verdict = until("the browser's verdict", lambda: browser.find_element(By.ID, "proof-result").get_attribute("data-verified"))
    assert verdict == "yes", text("#proof-result")
    assert "Verified in this browser" in text("#proof-result"), text("#proof-result")
    audit("log")

    step("events: the feed lists what happened, filtered by kind")
    browser.get(server + "/console/events?kind=device.*")
    kinds = [r.find_elements(By.TAG_NAME, "td")[1].text for r in browser.find_elements(By.CSS_SELECTOR, "#event-list tbody tr[data-seq]")]
    assert kinds and all(k.startswith("device.") for k in kinds), kinds
    assert "device.quarantined" in kinds and "device.released" in kinds, kinds
    audit("events")

    step("a form posted without the session's token is refused, and so is one from another site")
    session = browser.get_cookie("vouch_console")["value"]
    for headers, body in [({}, "csrf=forged"), ({"Origin": "http://evil.example"}, "csrf=forged")]:
        request = urllib.request.Request(server + f"/console/devices/{new_id}/revoke", data=body.encode(), method="POST", headers={
            "Cookie": "vouch_console=" + session, "Content-Type": "application/x-www-form-urlencoded", **headers})
        try:
            urllib.request.urlopen(request, timeout=10)
            raise AssertionError("a forged form was accepted")
        except urllib.error.HTTPError as error:
            assert error.code == 403, error.code
    assert api("/v1/admin/devices/" + new_id)["device"]["state"] == "active"

    step("sign out: the session ends")
    browser.get(server + "/console")
    browser.find_element(By.CSS_SELECTOR, "form.sign-out button").click()
    until("the sign-in page", lambda: "/console/sign-in" in browser.current_url)
    browser.get(server + "/console/devices")
    until("the sign-in page again", lambda: "/console/sign-in" in browser.current_url)
    request = urllib.request.Request(server + "/console/devices", headers={"Cookie": "vouch_console=" + session})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert "/console/sign-in" in answer.url, answer.url

    step("a read-only key sees no action, and the server refuses the action anyway")
    sign_in(reader)
    browser.get(server + "/console/devices/" + new_id)
    assert not browser.find_elements(By.LINK_TEXT, "Quarantine"), "a read-only key was offered an action"
    assert not browser.find_elements(By.LINK_TEXT, "API keys"), "a read-only key was offered the keys page"
    session = browser.get_cookie("vouch_console")["value"]
    csrf = browser.find_element(By.CSS_SELECTOR, "form.sign-out input[name=csrf]").get_attribute("value")
    request = urllib.request.Request(server + f"/console/devices/{new_id}/quarantine", data=f"csrf={csrf}".encode(), method="POST", headers={
        "Cookie": "vouch_console=" + session, "Content-Type": "application/x-www-form-urlencoded"})
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("a read-only key's action was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 403 and "needs operator" in error.read().decode(), error.code
    browser.get(server + "/console/api-keys")
    assert "403" in text("h1"), text("h1")
    assert api("/v1/admin/devices/" + new_id)["device"]["state"] == "active"

    print("axe:", json.dumps(audited), flush=True)
    print("console browser checks passed", flush=True)
finally:
    browser.quit()
