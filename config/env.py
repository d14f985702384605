"""The one place that reads the environment."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

# what the embedded default keeps (database, queue, logs, static files); SLUICE_VAR_DIR moves it
VAR_DIR = Path(env.str("SLUICE_VAR_DIR", default=str(BASE_DIR / "var"))).resolve()


def required(name: str, meaning: str) -> str:
    """The variable `name`; an error that says what to set when it is unset or empty."""
    value: str = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable: {meaning}.")
    return value
