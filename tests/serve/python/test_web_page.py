"""The chat page of `llamba serve` in headless Chromium, driven over the DevTools protocol: it loads, sends a
message (/?q=...), streams the reply to the end and shows its tokens/s. Writes a screenshot when given a path.

  build/venv-serve/bin/python tests/serve/python/test_web_page.py BUILD/bin/llamba MODEL [SCREENSHOT.png]
"""
import base64
import itertools
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

BIN, MODEL = sys.argv[1], sys.argv[2]
SHOT = sys.argv[3] if len(sys.argv) > 3 else None


def wait_for(log_path, pattern, proc, what, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        with open(log_path) as f:
            m = re.search(pattern, f.read())
        if m:
            return m.group(1)
        assert proc.poll() is None, f"{what} exited"
        time.sleep(0.05)
    raise AssertionError(f"{what} did not start")


class Page:
    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=60)
        self.ids = itertools.count(1)

    def call(self, method, **params):
        i = next(self.ids)
        self.ws.send(json.dumps({"id": i, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == i:
                assert "error" not in msg, msg
                return msg["result"]

    def eval(self, expr):
        return self.call("Runtime.evaluate", expression=expr, returnByValue=True)["result"].get("value")


def main():
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "chromium is not installed (scripts/install_deps.sh installs it)"
    with tempfile.NamedTemporaryFile("w+") as slog, tempfile.NamedTemporaryFile("w+") as blog, \
            tempfile.TemporaryDirectory() as profile:
        server = subprocess.Popen([BIN, "serve", "-m", MODEL, "--port", "0", "-t", "2"], stderr=slog)
        chrome = None
        try:
            port = wait_for(slog.name, r"on http://127\.0\.0\.1:(\d+)", server, "llamba serve")
            chrome = subprocess.Popen([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                       f"--user-data-dir={profile}", "--remote-debugging-port=0",
                                       "--window-size=900,640", "about:blank"], stderr=blog, stdout=subprocess.DEVNULL)
            devtools = wait_for(blog.name, r"DevTools listening on ws://([\d.:]+)/", chrome, "chromium")
            targets = json.load(urllib.request.urlopen(f"http://{devtools}/json"))
            page = Page(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
            page.call("Page.enable")
            page.call("Page.navigate", url=f"http://127.0.0.1:{port}/?q=What+is+the+capital+of+France%3F")
            deadline = time.time() + 120
            while time.time() < deadline and page.eval("document.body && document.body.dataset.state") != "idle":
                time.sleep(0.2)
            assert page.eval("document.body.dataset.state") == "idle", "the reply did not finish"
            reply = page.eval("document.querySelector('.msg.assistant').textContent")
            stats = page.eval("document.getElementById('stats').textContent")
            assert page.eval("document.querySelector('.msg.user').textContent") == "What is the capital of France?"
            assert reply and not reply.startswith("error"), f"no reply: {reply!r}"
            assert "tokens/s" in stats, stats
            print(f"test_web_page: reply {reply[:60]!r}, {stats}")
            if SHOT:
                png = base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"])
                with open(SHOT, "wb") as f:
                    f.write(png)
                print("test_web_page: screenshot", SHOT)
        finally:
            if chrome:
                chrome.kill()
                chrome.wait()
            server.terminate()
            assert server.wait(timeout=60) == 0, "the server must exit 0 on SIGTERM"
    print("test_web_page: ok")


if __name__ == "__main__":
    main()
