"""What every admin page needs: the application's errors shown on the form, where they
belong; the signed-in user as the actor of the changes it makes; deletes that go through the
services, checked and recorded like the API's."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from apps.core.actors import Actor
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


def admin_actor(request: HttpRequest) -> Actor:
    """The signed-in user, as the services record who made a change."""
    return Actor.user(request.user, request)


class DeletedThroughServices(admin.ModelAdmin):  # type: ignore[type-arg]
    """A model admin whose deletes, one or several, go through `deleted` (the app's service),
    so that they are checked and recorded like the API's; a delete it refuses is shown as an
    error and changes nothing."""

    def deleted(self, actor: Actor, obj: Any) -> None:
        raise NotImplementedError

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        self.deleted(admin_actor(request), obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            try:
                with transaction.atomic():
                    self.deleted(admin_actor(request), obj)
            except SluiceError as error:
                messages.error(request, f"{obj} was not deleted: {error.detail}")

    def delete_view(self, request: HttpRequest, object_id: str,
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except SluiceError as error:
            messages.error(request, error.detail)
            meta = self.model._meta
            return HttpResponseRedirect(reverse(
                f"admin:{meta.app_label}_{meta.model_name}_change", args=[object_id]))
