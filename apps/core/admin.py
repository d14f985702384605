"""What every admin form needs: the API's field errors shown on the form."""

from django import forms
from rest_framework.exceptions import APIException, ValidationError

from apps.core.errors import flatten


def add_api_errors(form: forms.BaseForm, error: APIException, field: str) -> None:
    """Shows an API error (with its field paths) on `field` of an admin form."""
    if isinstance(error, ValidationError):
        for item in flatten(error.detail):
            form.add_error(field, f"{item['attr'] or field}: {item['detail']}")
    else:
        form.add_error(field, str(error.detail))
