"""The names of the built-in collections every org has (see builtins.py), apart from it so
that the front doors and pure modules can name them without importing the pipeline."""

from enum import StrEnum


class BuiltinCollection(StrEnum):
    PRODUCTS = "products"
    ACCOUNTS = "accounts"
    USERS = "users"
    EVENTS = "events"
    PAGES = "pages"
