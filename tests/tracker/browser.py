"""What the browser tests stand on: a web app's own origin that serves test pages, and a
switchable proxy in front of the live Sluice that can play a server that is down."""

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tests.live import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a browser dropping a connection is part of these tests, not an error


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def answer(self, status: int, content: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


class PageServer:
    """The web app: its own origin (another port than Sluice's), serving `pages` by path."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(_Quiet):
            def do_GET(self) -> None:  # noqa: N802
                html = pages.get(urlsplit(self.path).path)
                if html is None:
                    self.answer(404, b"not found", {"Content-Type": "text/plain"})
                else:
                    self.answer(200, html.encode(), {"Content-Type": "text/html; charset=utf-8",
                                                     "Cache-Control": "no-store"})

        self.server = _Server(("127.0.0.1", free_port()), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def serve(self, path: str, html: str) -> str:
        self.pages[path] = html
        return f"{self.origin}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SwitchProxy:
    """Forwards HTTP to the live Sluice while `up`; answers 503 (as Sluice does when it cannot
    queue, CORS headers included) in mode "503"; refuses connections (nothing listens on its
    port) in mode "down". Every request it sees is logged as (mode, method, path, status)."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.mode = "up"
        self.log: list[tuple[str, str, str, int]] = []
        self.server: _Server | None = None
        self._listen()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(_Quiet):
            def do_GET(self) -> None:  # noqa: N802
                self.forward()

            do_POST = do_OPTIONS = do_GET  # noqa: N815

            def forward(self) -> None:
                content = self.body()
                if proxy.mode == "down":  # a connection opened before: drop it unanswered
                    self.close_connection = True
                    return
                if proxy.mode == "503":
                    proxy.log.append(("503", self.command, self.path, 503))
                    origin = self.headers.get("Origin")
                    cors = {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
                            "Access-Control-Allow-Credentials": "true"} if origin else {}
                    self.answer(503, b'{"code": "queue_unavailable"}',
                                {"Content-Type": "application/problem+json", **cors})
                    return
                status, headers, answer = proxy.relay(self.command, self.path, self.headers,
                                                      content)
                proxy.log.append(("up", self.command, self.path, status))
                self.answer(status, answer, headers)

        return Handler

    def relay(self, method: str, path: str, headers: object, content: bytes
              ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            sent = {k: v for k, v in headers.items()  # type: ignore[attr-defined]
                    if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"}
            connection.request(method, path, body=content or None, headers=sent)
            response = connection.getresponse()
            answer = response.read()
            kept = {k: v for k, v in response.getheaders()
                    if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"}
            return response.status, kept, answer
        finally:
            connection.close()

    def _listen(self) -> None:
        self.server = _Server(("127.0.0.1", self.port), self._handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def switch(self, mode: str) -> None:
        """"up", "503" or "down"."""
        if mode == "down":
            self._close()
        elif self.server is None:
            self._listen()
        self.mode = mode

    def failures(self) -> int:
        return sum(1 for mode, _, _, _ in self.log if mode == "503")

    def stop(self) -> None:
        self._close()
