"""The one place that reads the environment."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()


def required(name: str, meaning: str) -> str:
    """The variable `name`; an error that says what to set when it is unset or empty."""
    value: str = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable: {meaning}.")
    return value
