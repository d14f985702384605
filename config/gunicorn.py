"""How gunicorn serves Sluice, behind nginx (scripts/serve.sh runs both).

A request gunicorn itself cannot parse never reaches Django; gunicorn answers it with an HTML
page of its own. nginx refuses most such requests first (config/nginx.py), but gunicorn is
stricter about some headers; Sluice answers everything with problem JSON, so gunicorn's error
writer is replaced here.

gunicorn's own lines (starting, workers booted or lost) are JSON lines like Sluice's
(apps/core/logs.py), and it keeps no access log: Sluice logs each request itself, with its
request id, route and org (apps/core/middleware.py)."""

import json
import socket
from typing import Any

from gunicorn import glogging, util

from apps.core import logs
from apps.core.errors import PROBLEM_CONTENT_TYPE, problem
from config.env import env


def _write_problem(sock: socket.socket, status: int, reason: str, detail: str) -> None:
    code = reason.lower().replace(" ", "_")
    body = json.dumps(problem(status, code, detail))
    util.write_nonblock(sock, (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: {PROBLEM_CONTENT_TYPE}\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    ).encode("latin-1"))


util.write_error = _write_problem


class Logs(glogging.Logger):  # type: ignore[misc]
    """No access log, and nothing gathered for one on each request."""

    access_log_enabled = False

    def access(self, *_: Any) -> None:
        pass


logger_class = Logs
logconfig_dict = logs.config(env("LOG_LEVEL", default="INFO"),
                             env("SLUICE_LOG_FORMAT", default="json"))
logconfig_dict["loggers"]["gunicorn.error"] = {"level": "INFO", "handlers": ["console"],
                                               "propagate": False}

# X-Forwarded-Proto (the scheme Django sees) is taken from nginx on the unix socket only
# (gunicorn trusts its socket's peer), never from a client on a TCP address.
forwarded_allow_ips = ""
