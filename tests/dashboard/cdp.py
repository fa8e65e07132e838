"""A small Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (stdlib only).

Chromium reads NUL-terminated JSON commands on fd 3 and writes replies and events on fd 4. One
``Browser`` per test module; ``Browser.page()`` opens a tab attached in flat mode, with the
network emulated offline and every request the page makes recorded.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = os.environ.get("SMARTGRID_CHROMIUM", "/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    # Belt and braces with the offline emulation: no host name resolves, no proxy answers.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--remote-debugging-pipe",
)
TIMEOUT = 60.0


class CDPError(RuntimeError):
    pass


def _high(fd: int) -> int:
    """The same pipe end moved to fd 10 or above (close-on-exec), so the child's dup2 onto 3 and 4
    never finds its own source there (dup2 onto itself would keep close-on-exec)."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class Browser:
    """Headless Chromium driven over the debugging pipe."""

    def __init__(self, profile: Path, chromium: str = CHROMIUM) -> None:
        if not Path(chromium).exists():
            raise CDPError(f"{chromium} not found: run scripts/ensure_chromium.sh (make test does)")
        to_browser_r, self._to_browser = map(_high, os.pipe())
        self._from_browser, from_browser_w = map(_high, os.pipe())

        def fds() -> None:  # in the child, before exec: the pipe ends become fds 3 and 4
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.proc = subprocess.Popen(
            [chromium, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=fds,
            close_fds=False,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._replies: dict[int, queue.Queue] = {}
        self._events: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_browser, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                self._events.put(None)
                for q in list(self._replies.values()):
                    q.put({"error": {"message": "browser closed the pipe"}})
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._lock:
                        q = self._replies.get(msg["id"])
                    if q is not None:
                        q.put(msg)
                else:
                    self._events.put(msg)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        with self._lock:
            self._next_id += 1
            mid = self._next_id
            q: queue.Queue = queue.Queue()
            self._replies[mid] = q
        msg: dict = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_browser, json.dumps(msg).encode() + b"\0")
        try:
            reply = q.get(timeout=TIMEOUT)
        except queue.Empty:
            raise CDPError(f"{method}: no reply in {TIMEOUT:.0f}s") from None
        finally:
            with self._lock:
                self._replies.pop(mid, None)
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def next_event(self) -> dict:
        try:
            msg = self._events.get(timeout=TIMEOUT)
        except queue.Empty:
            raise CDPError(f"no event from the browser in {TIMEOUT:.0f}s") from None
        if msg is None:
            raise CDPError("the browser closed the pipe")
        return msg

    def page(self, width: int = 1400, height: int = 1800) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        page = Page(self, session, target)
        for method in ("Page.enable", "Runtime.enable", "Network.enable", "Log.enable"):
            self.send(method, session=session)
        self.send(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
            session=session,
        )
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        return page

    def close(self) -> None:
        with contextlib.suppress(CDPError):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)


@dataclass
class Page:
    browser: Browser
    session: str
    target: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def _note(self, msg: dict) -> None:
        if msg.get("sessionId") != self.session:
            return
        method, params = msg.get("method"), msg.get("params", {})
        if method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append(details.get("exception", {}).get("description") or details["text"])
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(params["entry"]["text"])
        elif method == "Runtime.consoleAPICalled" and params["type"] == "error":
            self.errors.append(" ".join(str(a.get("value")) for a in params["args"]))

    def goto(self, url: str) -> None:
        """Navigate and return once the load event fired (every inline script has run)."""
        self.browser.send("Page.navigate", {"url": url}, session=self.session)
        self.wait_load()

    def wait_load(self) -> None:
        """Return once the page's next load event fired."""
        while True:
            msg = self.browser.next_event()
            self._note(msg)
            if msg.get("sessionId") == self.session and msg.get("method") == "Page.loadEventFired":
                return

    def reload(self) -> None:
        """Reload the page and return once its load event fired."""
        self.browser.send("Page.reload", {}, session=self.session)
        self.wait_load()

    def drain(self) -> None:
        """Record the events already queued (requests, errors) without waiting for more."""
        while True:
            try:
                msg = self.browser._events.get_nowait()
            except queue.Empty:
                return
            if msg is None:
                return
            self._note(msg)

    def js(self, expression: str):
        """Evaluate in the page (promises awaited) and return the value as JSON data."""
        result = self.browser.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=self.session,
        )
        self.drain()
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise CDPError(details.get("exception", {}).get("description") or details["text"])
        return result["result"].get("value")

    def screenshot(self, path: Path, width: int, height: int) -> Path:
        self.browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=self.session,
        )
        shot = self.browser.send("Page.captureScreenshot", {"format": "png"}, session=self.session)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})
