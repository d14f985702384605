"""Renders config/nginx.conf.template into an instance directory of its own (configuration,
temporary files, logs, pid), so that any number of Sluice fronts run side by side, without root
and without touching /etc/nginx:

    python -m config.nginx LISTEN DIRECTORY [--socket PATH] [--certificate PEM --key PEM]

LISTEN is the public address (`127.0.0.1:8000`, `0.0.0.0:443`), the socket gunicorn's
(DIRECTORY/web.sock by default); with a certificate and its key, LISTEN speaks HTTPS. Prints
the path of the configuration it wrote.

The answers nginx gives itself (a request it cannot parse or that is too slow or too large,
gunicorn away or too slow) are Sluice's problem JSON with codes of apps/core/codes.py."""

import argparse
import json
import os
from pathlib import Path

from apps.core.bodies import FRAMING_LIMIT
from apps.core.codes import Code
from apps.core.errors import PROBLEM_CONTENT_TYPE, problem
from apps.ingestion.limits import MAX_REQUEST_BYTES

TEMPLATE = Path(__file__).with_name("nginx.conf.template")
# A request too slow is not answered (nginx closes the connection): its client is not reading.
HEADER_TIMEOUT = 10  # seconds for a request's headers, all of them
BODY_TIMEOUT = 10  # seconds a body may pause between two reads
SEND_TIMEOUT = 30  # seconds an answer may wait for the client to read on
WEB_TIMEOUT = 60  # seconds gunicorn may take to answer (a ?wait=true write waits up to 5)
PROBLEM_PREFIX = "/.sluice-front/"  # internal: a client asking for it gets a 404 problem
METHOD_NOT_ALLOWED_PATH = f"{PROBLEM_PREFIX}method-not-allowed"  # config/urls.py serves it
TEMP_DIRS = ("body", "proxy", "fastcgi", "uwsgi", "scgi")

# nginx's status -> (the status answered, code, detail). 494 is nginx's own name for headers
# too large, answered as HTTP's 431.
PROBLEMS: dict[int, tuple[int, Code, str]] = {
    400: (400, Code.BAD_REQUEST, "The request could not be understood: its request line, its "
          "address or a header is malformed."),
    404: (404, Code.NOT_FOUND, "Nothing exists at this address."),
    413: (413, Code.REQUEST_TOO_LARGE, f"The request body is larger than "
          f"{FRAMING_LIMIT // (1024 * 1024)} MB."),
    414: (414, Code.URI_TOO_LONG, "The address with its query is longer than 8 KB."),
    494: (431, Code.REQUEST_HEADER_FIELDS_TOO_LARGE, "A header is longer than 8 KB, or the "
          "headers are larger than 32 KB together."),
    500: (500, Code.SERVER_ERROR, "The front of Sluice failed on this request."),
    501: (501, Code.NOT_IMPLEMENTED, "Sluice reads bodies sent plainly or chunked; this "
          "Transfer-Encoding is not supported."),
    502: (502, Code.WEB_UNAVAILABLE, "Sluice's web processes cannot be reached; retry shortly."),
    504: (504, Code.WEB_TIMEOUT, f"Sluice's web processes did not answer within "
          f"{WEB_TIMEOUT} s."),
}


def _quoted(text: str) -> str:
    """`text` as a single-quoted nginx string, taken literally."""
    if "$" in text:
        raise ValueError("nginx would read $ in an answer as a variable")
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def problem_locations() -> str:
    """An `error_page` and an internal location answering problem JSON for each of PROBLEMS
    (a location by address: a named one cannot answer a request whose address is unreadable);
    and a method nginx refuses itself (TRACE), asked of Sluice as a GET of its 405, which
    names the methods the address takes (Allow)."""
    lines = [
        f"        error_page 405 = {METHOD_NOT_ALLOWED_PATH};",
        f"        location = {METHOD_NOT_ALLOWED_PATH} {{",
        "            internal;",
        "            proxy_pass http://sluice_web;",
        "            proxy_http_version 1.1;",
        "            proxy_set_header Connection \"\";",
        "            proxy_set_header Host $http_host;",
        "            proxy_set_header X-Original-URI $request_uri;",
        "            proxy_pass_request_body off;",
        "            proxy_set_header Content-Length \"\";",
        "        }",
    ]
    for status, (answered, code, detail) in PROBLEMS.items():
        body = json.dumps(problem(answered, code, detail))
        lines += [
            f"        error_page {status} ={answered} {PROBLEM_PREFIX}{code};",
            f"        location = {PROBLEM_PREFIX}{code} {{",
            "            internal;",
            "            types { }",
            f"            default_type {PROBLEM_CONTENT_TYPE};",
            f"            return {answered} {_quoted(body)};",
            "        }",
        ]
    return "\n".join(lines)


def _user() -> str:
    """nginx's workers run as whoever runs it, as gunicorn does: they reach its socket and the
    instance directory. (Under root, nginx would otherwise run them as nobody.)"""
    return "user root;" if os.geteuid() == 0 else ""


def _tls(certificate: Path | None, key: Path | None) -> str:
    """The server's TLS settings: TLS ends here, and gunicorn hears of it in X-Forwarded-Proto."""
    if certificate is None or key is None:
        return ""
    return "\n".join([
        f"        ssl_certificate {certificate.resolve()};",
        f"        ssl_certificate_key {key.resolve()};",
        "        ssl_protocols TLSv1.2 TLSv1.3;",
        "        ssl_session_cache shared:sluice_tls:10m;",
        "        ssl_session_timeout 1d;",
    ])


def render(listen: str, directory: Path, socket: Path, certificate: Path | None = None,
           key: Path | None = None) -> str:
    values = {
        "user": _user(), "directory": str(directory), "socket": str(socket),
        "listen": f"{listen} ssl" if certificate else listen, "tls": _tls(certificate, key),
        "header_timeout": str(HEADER_TIMEOUT), "body_timeout": str(BODY_TIMEOUT),
        "send_timeout": str(SEND_TIMEOUT), "web_timeout": str(WEB_TIMEOUT),
        "max_body": str(FRAMING_LIMIT), "body_buffer": str(MAX_REQUEST_BYTES),
        "problems": problem_locations(),
    }
    text = TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    return text


def write(listen: str, directory: Path, socket: Path | None = None,
          certificate: Path | None = None, key: Path | None = None) -> Path:
    """Writes the instance directory's configuration and makes its temporary and log dirs."""
    directory = directory.resolve()
    for name in TEMP_DIRS:
        (directory / "temp" / name).mkdir(parents=True, exist_ok=True)
    (directory / "logs").mkdir(exist_ok=True)
    config = directory / "nginx.conf"
    config.write_text(render(listen, directory, (socket or directory / "web.sock").resolve(),
                             certificate, key))
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("listen", help="the public address, host:port")
    parser.add_argument("directory", type=Path, help="the instance directory")
    parser.add_argument("--socket", type=Path, help="gunicorn's (DIRECTORY/web.sock)")
    parser.add_argument("--certificate", type=Path, help="TLS certificate chain (PEM)")
    parser.add_argument("--key", type=Path, help="its private key (PEM)")
    args = parser.parse_args()
    if (args.certificate is None) != (args.key is None):
        parser.error("TLS needs both --certificate and --key")
    print(write(args.listen, args.directory, args.socket, args.certificate, args.key))


if __name__ == "__main__":
    main()
