"""Who makes a change: an API key, a user of the admin, or Sluice itself (a manage.py command,
a built-in collection upgraded). Each interface names its actor once (OrgAPIView.actor,
core/admin.py's admin_actor, a command's `Actor.system`) and hands it to the services that
change the catalog or the keys, which keep it in the audit trail."""

import re
from dataclasses import dataclass
from typing import Any, Literal

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

ActorKind = Literal["key", "user", "system"]


@dataclass(frozen=True)
class Actor:
    """`id` and `name`: the key's id and shown prefix, the user's id and username, or nothing
    and the command; `request_id` the request's id when a request made the change."""

    kind: ActorKind
    name: str
    id: str = ""
    request_id: str = ""

    @classmethod
    def key(cls, key: Any, request: Any = None) -> "Actor":
        """The API key (an apps.orgs ApiKey) a request was authenticated with."""
        return cls("key", key.prefix, str(key.id), request_id_of(request))

    @classmethod
    def user(cls, user: Any, request: Any = None) -> "Actor":
        """A signed-in user of the admin."""
        return cls("user", user.get_username(), str(user.pk), request_id_of(request))

    @classmethod
    def system(cls, name: str) -> "Actor":
        """Sluice itself: `name` says what, e.g. "manage.py new_key"."""
        return cls("system", name)


SLUICE = Actor.system("sluice")  # Sluice's own changes: built-in collections kept current


def request_id_of(request: Any) -> str:
    """The request's id as the proxy in front (or the client) set it in X-Request-ID; ""
    when there is none, or it is not a plain token."""
    if request is None:
        return ""
    given = str(request.headers.get(REQUEST_ID_HEADER, ""))
    return given if REQUEST_ID.match(given) else ""
