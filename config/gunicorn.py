"""How gunicorn serves Sluice, behind nginx (scripts/serve.sh runs both).

A request gunicorn itself cannot parse never reaches Django; gunicorn answers it with an HTML
page of its own. nginx refuses most such requests first (config/nginx.py), but gunicorn is
stricter about some headers; Sluice answers everything with problem JSON, so gunicorn's error
writer is replaced here."""

import json
import socket

from gunicorn import util

from apps.core.errors import PROBLEM_CONTENT_TYPE, problem


def _write_problem(sock: socket.socket, status: int, reason: str, detail: str) -> None:
    code = reason.lower().replace(" ", "_")
    body = json.dumps(problem(status, code, detail))
    util.write_nonblock(sock, (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: {PROBLEM_CONTENT_TYPE}\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    ).encode("latin-1"))


util.write_error = _write_problem

# X-Forwarded-Proto (the scheme Django sees) is taken from nginx on the unix socket only
# (gunicorn trusts its socket's peer), never from a client on a TCP address.
forwarded_allow_ips = ""
