#!/usr/bin/env python3
"""browser_check.py URL SCREENSHOT: zwatch-web's page in headless chromium.

Run by test_web's browser case, with a broker, zwatch-web and two real
services (svc-client connecting to svc-server). Checks that the page shows
both services and the link between them, that the event stream shows
their events and that a filter hides the other service's rows; saves a
screenshot; prints "ready-for-disconnect" and waits for the link to go
from the page (the test closes the client's socket) without a reload.
Exit 0 when all held, 1 with the reason on stderr."""

import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

URL, SHOT = sys.argv[1], sys.argv[2]
EDGE = 'g.edge[data-from="svc-client"][data-to="svc-server"]'


def fail(driver, reason):
    print("browser_check: " + reason, file=sys.stderr)
    try:
        driver.save_screenshot(SHOT.replace(".png", "-failed.png"))
        for entry in driver.get_log("browser"):
            print("console: %s" % entry, file=sys.stderr)
    except Exception:
        pass
    driver.quit()
    sys.exit(1)


def wait(driver, what, check, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.1)
    fail(driver, "timed out waiting for " + what)


def main():
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000", "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(60)
    driver.get(URL)
    css = lambda selector: driver.find_elements(By.CSS_SELECTOR, selector)

    wait(driver, "both services on the graph",
         lambda: css('g.node[data-id="svc-server"]') and css('g.node[data-id="svc-client"]'))
    wait(driver, "the link svc-client -> svc-server", lambda: css(EDGE))
    wait(driver, "the feed badge saying connected",
         lambda: driver.find_element(By.ID, "feed").text == "connected")
    wait(driver, "ACCEPTED and CONNECTED in the event stream",
         lambda: css('#events .ev[data-event="ACCEPTED"]') and css('#events .ev[data-event="CONNECTED"]'))
    wait(driver, "both agents in the table",
         lambda: css('#agents tr[data-svc="svc-server"]') and css('#agents tr[data-svc="svc-client"]'))

    # A filter hides the other service's rows, and shows them again when cleared
    client_rows = css('#events .ev[data-svc="svc-client"]')
    if not client_rows:
        fail(driver, "no event rows of svc-client")
    box = driver.find_element(By.ID, "f-service")
    box.send_keys("svc-server")
    wait(driver, "the filter hiding svc-client's rows",
         lambda: not any(row.is_displayed() for row in css('#events .ev[data-svc="svc-client"]')))
    if not any(row.is_displayed() for row in css('#events .ev[data-svc="svc-server"]')):
        fail(driver, "the filter hid svc-server's rows too")
    box.clear()
    driver.execute_script("document.getElementById('f-service').dispatchEvent(new Event('input'))")
    wait(driver, "svc-client's rows back", lambda: client_rows[0].is_displayed())

    # Failures only: ACCEPTED is not one
    driver.find_element(By.ID, "f-failures").click()
    wait(driver, "'failures only' hiding ACCEPTED",
         lambda: not any(row.is_displayed() for row in css('#events .ev[data-event="ACCEPTED"]')))
    driver.find_element(By.ID, "f-failures").click()
    wait(driver, "ACCEPTED back", lambda: css('#events .ev[data-event="ACCEPTED"]')[0].is_displayed())

    # Click the server: its details
    driver.execute_script(
        "document.querySelector('g.node[data-id=\"svc-server\"]').dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    wait(driver, "svc-server's sockets in the details",
         lambda: "listening tcp://127.0.0.1:" in driver.find_element(By.ID, "detail").text)
    time.sleep(1.5)                     # let the layout settle for the picture
    driver.save_screenshot(SHOT)

    # Grouped by host + service, then back
    group = lambda value: driver.execute_script(
        "const s = document.getElementById('group'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('change'))", value)
    group("host")
    wait(driver, "the nodes and link by host + service",
         lambda: css('g.node[data-id="h-test/svc-server"]') and
         css('g.edge[data-from="h-test/svc-client"][data-to="h-test/svc-server"]'))
    group("service")
    wait(driver, "the nodes by service again", lambda: css(EDGE))

    # The disconnect: the link goes without a reload
    driver.execute_script("window.zwatchMarker = 'same page'")
    print("ready-for-disconnect", flush=True)
    wait(driver, "the link to leave the page", lambda: not css(EDGE), seconds=20)
    if driver.execute_script("return window.zwatchMarker") != "same page":
        fail(driver, "the page reloaded")
    wait(driver, "svc-client marked as having no connections",
         lambda: "alert" in css('g.node[data-id="svc-client"]')[0].get_attribute("class"))
    wait(driver, "link_down in the event stream", lambda: css('#events .ev[data-kind="link_down"]'))
    driver.quit()
    print("browser_check: ok", flush=True)


if __name__ == "__main__":
    main()
