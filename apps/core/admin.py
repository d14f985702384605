"""What every admin form needs: the application's errors shown on the form, where they
belong."""

import re
from collections.abc import Iterator
from contextlib import contextmanager

from django import forms

from apps.core.exceptions import FieldProblem, SluiceError

PATH_SEPARATOR = re.compile(r"[.\[]")  # `schema` is the field of `schema.fields[0].type`


@contextmanager
def errors_shown_on(form: forms.BaseForm) -> Iterator[None]:
    """An application error raised inside is shown on the form: each field error on the form
    field its path starts with, the others (and errors about no field) above the form."""
    try:
        yield
    except SluiceError as error:
        for problem in error.errors:
            field = _form_field(form, problem.attr)
            form.add_error(field, _message(problem, field))


def _form_field(form: forms.BaseForm, attr: str | None) -> str | None:
    name = PATH_SEPARATOR.split(attr, maxsplit=1)[0] if attr else None
    return name if name in form.fields else None


def _message(problem: FieldProblem, field: str | None) -> str:
    # the path says which part of the field (or which input outside the form) is at fault
    if problem.attr and problem.attr != field:
        return f"{problem.attr}: {problem.detail}"
    return problem.detail
