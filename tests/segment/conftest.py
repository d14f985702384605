# A tab of headless Chromium, the web app's own origin and the switchable proxy in front of
# Sluice, as the tracker's browser tests have them (tests/tracker/conftest.py): the browser
# tests here drive Segment's browser library with them.
from tests.tracker.conftest import page, proxy, site  # noqa: F401
