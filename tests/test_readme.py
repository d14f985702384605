"""The README, run: every code block, in order, as printed, against Sluice started the way the
README starts it (`scripts/start.sh`, the embedded default) in a directory of the test's own.
Only the keys, the ids the README says to copy from an answer, the host and the page's origin
are substituted. Shell blocks run in bash, one state throughout; each answer the README shows
(`# -> ...`) is held to every plain value it prints; HTML and JavaScript blocks run in headless
Chromium on a page of the web source's allowed origin, and what they send is read back."""

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, sync_playwright

from tests.live import ROOT, free_port
from tests.tracker.browser import CHROMIUM, CHROMIUM_ARGS, PageServer

README = ROOT / "README.md"
PRINTED_HOST = "http://127.0.0.1:8000"
PRINTED_ORIGIN = "http://localhost:3000"
ANSWERED = re.compile(r"^(\w+)=\S+\s+# the (id|self link|key) it answered\b.*$")
PLAIN_VALUE = re.compile(
    r'"(\w+)":\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null|\[\]|\{\})(?=\s*[,}\]])')
# ids and times differ from run to run: the README's are examples
VARYING = frozenset({"id", "collId", "sourceId", "referenceId", "trackerId", "createdAt",
                     "finishedAt", "receivedAt", "updatedAt", "writeKey"})
# the README says to poll a dry run until it is done, and how: only that read is read again
POLLED = '"status": "done"'
POLL_SECONDS = 20
SENT_SAID = "[Intempt] Successfully sent batch of event"  # as seed 001 shows it


@dataclass
class Block:
    language: str
    text: str
    line: int


def readme_blocks() -> list[Block]:
    blocks, lines = [], README.read_text().splitlines()
    index = 0
    while index < len(lines):
        opening = re.match(r"^```(\w+)$", lines[index])
        if opening:
            end = lines.index("```", index + 1)
            blocks.append(Block(opening[1], "\n".join(lines[index + 1:end]), index + 1))
            index = end
        index += 1
    return blocks


@dataclass
class Embedded:
    """Sluice as `bash scripts/start.sh` runs it, on a port and a data directory of its own."""

    url: str
    home: Path  # its SLUICE_VAR_DIR
    output: str
    process: subprocess.Popen[bytes]
    keys: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedded]:
    home = tmp_path_factory.mktemp("embedded")
    bind = f"127.0.0.1:{free_port()}"
    env = {name: value for name, value in os.environ.items()
           if name not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE",
                           "SLUICE_BROKER_PREFIX")}
    env.update(SLUICE_VAR_DIR=str(home), SLUICE_BIND=bind)
    log = home / "start.out"
    with log.open("wb") as out:
        process = subprocess.Popen(["bash", "scripts/start.sh"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://{bind}"
    try:
        _wait_until_up(url, process, log)
        output = log.read_text()
        stack = Embedded(url, home, output, process)
        stack.keys = {kind: re.search(rf"\b(sluice_{kind}_\S+)", output)[1]  # type: ignore[index]
                      for kind in ("sk", "wk")}
        yield stack
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180  # a first start installs what it needs
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"scripts/start.sh ended:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"Sluice did not start:\n{log.read_text()}")


# ---------------------------------------------------------------------------
# Shell blocks
# ---------------------------------------------------------------------------
class Shell:
    """One bash state across the README's shell blocks: what a block assigns, the next sees."""

    def __init__(self, stack: Embedded, origin: str) -> None:
        self.stack, self.origin = stack, origin
        self.variables: dict[str, str] = {}
        self.last_answer: Any = None

    def printed(self, text: str) -> str:
        """The text with the host, the keys and the page's origin of this run."""
        text = text.replace(PRINTED_HOST, self.stack.url).replace(PRINTED_ORIGIN, self.origin)
        text = text.replace("sluice_sk_...", self.stack.keys["sk"])
        return text.replace("sluice_wk_...", self.stack.keys["wk"])

    def run_block(self, block: Block) -> None:
        segment: list[str] = []
        lines = self.printed(block.text).splitlines()
        index = 0
        while index < len(lines):
            line = lines[index]
            answered = ANSWERED.match(line)
            if answered:
                self.run(segment, block)
                segment = [f"{answered[1]}={self.copied(answered[2], line, block)}"]
            elif line.startswith("# -> "):
                expected = [line[len("# -> "):]]
                while index + 1 < len(lines) and re.match(r"^#\s{2,}", lines[index + 1]):
                    index += 1
                    expected.append(lines[index][1:])
                self.run_expecting(segment, " ".join(expected), block)
                segment = []
            else:
                segment.append(line)
            index += 1
        self.run(segment, block)

    def copied(self, what: str, line: str, block: Block) -> str:
        answer = self.last_answer
        if what == "self link":
            value = answer.get("_links", {}).get("self", {}).get("href")
        else:  # a new key is answered as `key`, a new web source's as `writeKey`
            value = answer.get(what) or (answer.get("writeKey") if what == "key" else None)
        assert value, f"README line {block.line}: {line!r}, but the answer was {answer!r}"
        return str(value)

    def run_expecting(self, segment: list[str], expected: str, block: Block) -> None:
        """Runs the segment and holds its last answer to the plain values the README shows;
        the read the README says to poll is read again until they hold. Any other read comes
        right after the write before it, as a reader pastes them."""
        deadline = time.monotonic() + POLL_SECONDS
        while True:
            answers = self.run(segment, block)
            missing = unmatched(expected, answers[-1] if answers else None)
            if not missing:
                return
            if POLLED not in expected or time.monotonic() > deadline:
                raise AssertionError(
                    f"README line {block.line}: after\n{chr(10).join(segment)}\nthe README "
                    f"shows {expected}\nbut Sluice answered {answers!r}\nwithout {missing}")
            time.sleep(0.5)

    def run(self, segment: list[str], block: Block) -> list[Any]:
        if not any(line.strip() and not line.startswith("#") for line in segment):
            return []
        script = "\n".join(["set -euo pipefail -a",
                            *[f"{name}={quoted(value)}" for name, value in
                              self.variables.items()],
                            *segment, "echo; echo '<<env>>'", "env -0"])
        ran = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True,
                             timeout=60, env={"PATH": os.environ["PATH"], "HOME": "/tmp"})
        output, _, environment = ran.stdout.decode().rpartition("\n<<env>>\n")
        assert ran.returncode == 0, (f"README line {block.line}: failed ({ran.returncode}):\n"
                                     f"{chr(10).join(segment)}\n{ran.stderr.decode()[-2000:]}")
        for entry in environment.split("\0"):
            name, _, value = entry.partition("=")
            if name and name.isupper() and name not in ("PATH", "HOME", "PWD", "SHLVL"):
                self.variables[name] = value
        answers = json_documents(output, block)
        for answer in answers:
            status = answer.get("status") if isinstance(answer, dict) else None
            assert not (isinstance(status, int) and status >= 500), (
                f"README line {block.line}: {answer}")
        if answers:
            self.last_answer = answers[-1]
        return answers


def quoted(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def json_documents(output: str, block: Block) -> list[Any]:
    """Every answer printed (curl prints them one after another), each of them JSON."""
    decoder, documents, rest = json.JSONDecoder(), [], output.strip()
    while rest:
        try:
            document, end = decoder.raw_decode(rest)
        except json.JSONDecodeError as error:
            raise AssertionError(f"README line {block.line}: an answer that is not JSON: "
                                 f"{rest[:500]!r}") from error
        documents.append(document)
        rest = rest[end:].strip()
    return documents


def unmatched(expected: str, answer: Any) -> list[str]:
    """The plain `"name": value` pairs the README shows that the answer does not hold (at any
    depth); values shown with `...` in them, ids and times are not held to anything."""
    found = set(_pairs(answer))
    missing = []
    for name, shown in PLAIN_VALUE.findall(expected):
        if "..." in shown or name in VARYING:
            continue
        if (name, json.dumps(json.loads(shown), sort_keys=True)) not in found:
            missing.append(f'"{name}": {shown}')
    return missing


def _pairs(value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for name, inner in value.items():
            yield name, json.dumps(inner, sort_keys=True)
            yield from _pairs(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _pairs(inner)


# ---------------------------------------------------------------------------
# Browser blocks
# ---------------------------------------------------------------------------
class Browser:
    """The web app's page, on the origin the README's web source allows (its port this run's),
    where the README's HTML goes and its JavaScript runs."""

    def __init__(self, shell: Shell, page: Page, site: PageServer) -> None:
        self.shell, self.page, self.site = shell, page, site
        self.console: list[str] = []
        page.on("console", lambda message: self.console.append(message.text))
        self.before: set[str] = set()  # the records there were before the block ran

    def printed(self, text: str) -> str:
        """The block as this run has it; a tracker tag's key is the web source's own."""
        if "trackerId" in text or "data-tracker-id" in text:
            text = text.replace("sluice_wk_...", self.shell.variables["SOURCE_KEY"])
        return self.shell.printed(text).replace("4e70072d4e07b6f7", self.tracker_id())

    def tracker_id(self) -> str:
        source = self.shell.variables["SOURCE"]
        answer = httpx.get(f"{self.shell.variables['API']}/sources/{source}",
                           headers={"Authorization": f"ApiKey {self.shell.stack.keys['sk']}"})
        return str(answer.json()["trackerId"])

    def open(self, block: Block) -> None:
        body = self.printed(block.text)
        html = body if body.lstrip().startswith("<!") else (
            f"<!doctype html><html><head><title>README line {block.line}</title>{body}"
            "</head><body></body></html>")
        self.before = self.records_now()
        self.page.goto(self.site.serve(f"/readme-{block.line}.html", html).replace(
            "127.0.0.1", "localhost"))

    def run(self, block: Block) -> None:
        script = self.printed(block.text)
        if "tokenFromYourServer" in script:  # what the app's server hands the page
            script = f"var tokenFromYourServer = {json.dumps(self.session_token())};\n{script}"
        self.before = self.records_now()
        self.page.evaluate(f"() => {{ {script} }}")

    def records_now(self) -> set[str]:
        return {record["id"] for name in ("flight-booking", "events", "pages")
                for record in records(self.shell, name, limit="1000")}

    def sent(self, collection: str, **equal: str) -> list[dict[str, Any]]:
        """The records of `collection` with these values that the block's page sent."""
        return [record for record in records(self.shell, collection, **equal)
                if record["id"] not in self.before]

    def session_token(self) -> str:
        """What the README tells the app's server to do: POST /api/initialize with the key."""
        answer = httpx.post(f"{self.shell.stack.url}/api/initialize",
                            headers={"x-api-key": self.shell.stack.keys["wk"]},
                            json={"customerIdentifier": "globex.example",
                                  "userEmail": "ann@globex.example"})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["sessionToken"])


def records(shell: Shell, collection: str, **equal: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{shell.variables['API']}/collections/{collection}/data",
                       params=equal, headers={"Authorization": f"ApiKey {shell.stack.keys['sk']}"})
    found: list[dict[str, Any]] = answer.json()["_embedded"]["records"]
    return found


def eventually(browser: Browser, check: Any, what: str, timeout: float = 30) -> Any:
    """Polls `check`, letting the page run (and tell its console) in between."""
    deadline = time.monotonic() + timeout
    while (result := check()) in (None, False, []) and time.monotonic() < deadline:
        browser.page.wait_for_timeout(300)
    assert result, what
    return result


def test_the_readme_runs_as_printed(embedded: Embedded) -> None:
    blocks = readme_blocks()
    assert [b.language for b in blocks].count("bash") >= 6, "the README lost its shell blocks"
    site = PageServer()
    shell = Shell(embedded, site.origin.replace("127.0.0.1", "localhost"))
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            browser = Browser(shell, chromium.new_page(), site)
            for block in blocks:
                run_block(block, shell, browser)
        finally:
            chromium.close()
            site.stop()


def run_block(block: Block, shell: Shell, browser: Browser) -> None:
    if block.language == "console":
        started_as_shown(block, shell.stack)
    elif block.language == "bash":
        shell.run_block(block)
    elif block.language == "html":
        browser.open(block)
        browser_block_done(block, shell, browser)
    elif block.language == "js":
        browser.run(block)
        browser_block_done(block, shell, browser)
    else:
        raise AssertionError(f"README line {block.line}: a {block.language} block this test "
                             "does not know how to run")


def started_as_shown(block: Block, stack: Embedded) -> None:
    """The start output has every line the README shows of it (keys as printed that run, its
    address and data directory this run's)."""
    for line in block.text.splitlines()[1:]:
        line = line.replace(PRINTED_HOST, stack.url).replace("var/", f"{stack.home}/")
        shown = re.escape(line.strip()).replace(r"sluice_sk_\.\.\.", r"sluice_sk_\S+")
        shown = shown.replace(r"sluice_wk_\.\.\.", r"sluice_wk_\S+")
        assert re.search(shown, stack.output), f"README line {block.line}: {line!r} not in " \
                                               f"the start output:\n{stack.output}"


def browser_block_done(block: Block, shell: Shell, browser: Browser) -> None:
    """What the block's page must have sent, found through the API."""
    text = block.text
    if "_intempt[" in text:  # the tag before it sends nothing; its track call does
        eventually(browser, lambda: browser.sent("flight-booking", bookingId="1",
                                                 bookingDate="2020-05-25"), "the tracked booking")
        eventually(browser, lambda: SENT_SAID in browser.console,
                   "the console says the batch was sent")
    elif "sluice.load(" in text:
        eventually(browser, lambda: browser.sent("flight-booking", bookingId="2",
                                                 bookingDate="2020-05-26"), "the queued booking")
    elif "UsageCollector()" in text:
        [event] = eventually(browser, lambda: browser.sent("events", event="view more clicked"),
                             "the collector's track call")
        assert (event["data"]["feature"], event["data"]["properties"]) == (
            "product details", {"environment": "dev"})
        assert event["data"]["accountId"] == "acme.example"
        eventually(browser, lambda: browser.sent("pages", accountId="acme.example"),
                   "the page view listener() records")
    elif "sessionFactory(" in text:
        # the page's collector now sends in the server's session: its customer's and user's
        browser.page.evaluate('() => usageCollector.track("exported", "reports", {})')
        [event] = eventually(browser, lambda: browser.sent("events", event="exported"),
                             "a track call in the session the server made")
        assert (event["data"]["accountId"], event["data"]["userId"]) == (
            "globex.example", "ann@globex.example")
    elif "data-tracker-id" not in text:
        raise AssertionError(f"README line {block.line}: a browser block this test does not "
                             "know what to expect of")


def test_a_second_start_on_a_taken_port_says_so_at_once(embedded: Embedded) -> None:
    bind = embedded.url.removeprefix("http://")
    env = {**os.environ, "SLUICE_VAR_DIR": str(embedded.home / "second"), "SLUICE_BIND": bind}
    started = time.monotonic()
    second = subprocess.run(["bash", "scripts/start.sh"], cwd=ROOT, env=env, timeout=120,
                            capture_output=True, text=True)
    assert second.returncode == 1
    assert (f"Sluice cannot listen on {bind}: another program (another Sluice?) uses it. Stop "
            "that, or choose another address: SLUICE_BIND=127.0.0.1:8001 bash scripts/start.sh"
            ) in second.stderr
    assert time.monotonic() - started < 60
