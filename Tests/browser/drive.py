#!/usr/bin/env python3
"""Drives headless Chromium through pode's info browser, as a user would, and reports the page.

Usage: drive.py URL QUERY SCREENSHOT.png
       drive.py URL - SCREENSHOT.png     (only load URL and take the screenshot, as for the README)

Talks to Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe), so it
needs nothing beyond Python's standard library. It loads URL, types QUERY into the search box
and presses Enter, clicks the first hit, clicks "back" twice, and after each step prints what
the page shows as one JSON object per line; then it saves a screenshot. Exit status 0 when
every step happened, 1 (with the reason on stderr) when one did not.
"""
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

TIMEOUT = 30.0


class Browser:
    def __init__(self):
        chrome = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if not chrome:
            raise SystemExit("drive.py: no chromium on PATH; scripts/setup.sh installs Debian's chromium package")
        self.profile = tempfile.mkdtemp(prefix="pode-chromium-")
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def as_fds_3_and_4():
            # DevTools reads commands on fd 3 and writes answers on fd 4.
            r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.process = subprocess.Popen(
            [chrome, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--hide-scrollbars", "--remote-debugging-pipe",
             "--user-data-dir=" + self.profile, "--window-size=1500,900", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(3, 4), preexec_fn=as_fds_3_and_4)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer = b""
        self.next_id = 0
        self.session = None

    def send(self, method, params=None, session=True):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                answer = json.loads(raw)
                if answer.get("id") == self.next_id:
                    if "error" in answer:
                        raise RuntimeError(f"{method}: {answer['error']}")
                    return answer.get("result", {})
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_chrome], [], [], left)[0]:
                raise RuntimeError(f"{method}: no answer from chromium in {TIMEOUT:.0f} s")
            chunk = os.read(self.from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError(f"{method}: chromium closed the pipe")
            self.buffer += chunk

    def open(self, url):
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Emulation.setDeviceMetricsOverride", {"width": 1500, "height": 900, "deviceScaleFactor": 1, "mobile": False})
        self.send("Page.navigate", {"url": url})

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"in the page: {result['exceptionDetails'].get('text')} evaluating {expression}")
        return result["result"].get("value")

    def wait_for(self, expression, what):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise RuntimeError(f"waited {TIMEOUT:.0f} s for {what}; the page's status says: {self.evaluate(STATUS)!r}")

    def click(self, selector):
        """A real mouse click at the middle of the element."""
        box = self.evaluate(f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
            if (!e) return null; e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect();
            return [r.left + r.width / 2, r.top + r.height / 2]; }})()""")
        if not box:
            raise RuntimeError(f"nothing on the page matches {selector}")
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1})

    def type(self, text):
        self.send("Input.insertText", {"text": text})
        for kind in ("keyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", {"type": kind, "key": "Enter", "code": "Enter",
                                                 "windowsVirtualKeyCode": 13, "text": "\r" if kind == "keyDown" else ""})

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.send("Browser.close", session=False)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


STATUS = "document.getElementById('status').hidden ? '' : document.getElementById('status').textContent"

# What the page shows, read from its DOM.
SNAPSHOT = """(() => {
  const m = document.getElementById('moment-body');
  const current = m.querySelector('.source .current');
  return {
    url: location.href,
    hits: [...document.querySelectorAll('#hits .hit')].map(h => Number(h.dataset.seq)),
    hit_count: document.getElementById('hit-count').textContent,
    facets: document.querySelectorAll('#facets a.facet').length,
    timeline_buckets: document.querySelectorAll('#timeline .bucket:not(.empty)').length,
    moment: m.dataset.seq ? Number(m.dataset.seq) : null,
    heading: (m.querySelector('h2') || {}).textContent || '',
    current_line: current ? Number(current.dataset.line) : null,
    stack: [...m.querySelectorAll('.stack li')].map(li => li.textContent),
    locals: [...m.querySelectorAll('table.locals tr')].map(tr => tr.cells[0].textContent),
    status: document.getElementById('status').hidden ? '' : document.getElementById('status').textContent,
  };
})()"""


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    url, query, shot = sys.argv[1:]
    browser = Browser()
    try:
        browser.open(url)
        browser.wait_for("document.body && document.body.dataset.ready === '1'", "the page to load")
        print(json.dumps({"step": "loaded", **browser.evaluate(SNAPSHOT)}), flush=True)
        if query == "-":
            time.sleep(0.5)  # the facets and timeline arrive after the page is ready
            browser.screenshot(shot)
            return 0

        browser.click("#q")
        browser.type(query)
        browser.wait_for("document.querySelectorAll('#hits .hit').length > 0 && "
                         "document.getElementById('hit-count').textContent !== ''", "the hits and their count")
        browser.wait_for("document.querySelectorAll('#timeline .bucket').length > 0", "the timeline")
        print(json.dumps({"step": "searched", **browser.evaluate(SNAPSHOT)}), flush=True)

        first = browser.evaluate("Number(document.querySelector('#hits .hit').dataset.seq)")
        browser.click("#hits .hit")
        browser.wait_for(f"document.getElementById('moment-body').dataset.seq === '{first}'", f"the moment #{first}")
        print(json.dumps({"step": "clicked", **browser.evaluate(SNAPSHOT)}), flush=True)

        for n in (1, 2):
            before = browser.evaluate("document.getElementById('moment-body').dataset.seq")
            browser.click("#btn-back")
            browser.wait_for(f"document.getElementById('moment-body').dataset.seq !== '{before}'", f"step back {n}")
            print(json.dumps({"step": f"back{n}", **browser.evaluate(SNAPSHOT)}), flush=True)

        browser.screenshot(shot)

        # The call tree: open the tab and unfold the first outermost call.
        browser.click(".tabs button[data-tab=calls]")
        browser.wait_for("document.querySelectorAll('#calls > li').length > 0", "the outermost calls")
        browser.click("#calls > li > .toggle")
        browser.wait_for("document.querySelectorAll('#calls > li > ul > li').length > 0", "the calls of the first call")
        print(json.dumps({"step": "calls", "url": browser.evaluate("location.href"), "unfolded": browser.evaluate(
            "[...document.querySelectorAll('#calls > li > ul > li > .fn')].map(e => e.textContent)")}), flush=True)
    except RuntimeError as e:
        print(f"drive.py: {e}", file=sys.stderr)
        return 1
    finally:
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
