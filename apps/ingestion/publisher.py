"""Group publishing: the batches of requests that arrive together in one web process go to
the queue as one message. The first request publishes everything pending while the others
wait; each request is answered only once its batches are in the broker, so a 202 still
means queued. Alone, a request publishes at once: nothing waits for a timer."""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, Any]


@dataclass
class _Waiting:
    messages: list[Message]
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class GroupPublisher:
    def __init__(self, publish: Callable[[list[Message]], None]) -> None:
        self._publish = publish
        self._lock = threading.Lock()
        self._pending: list[_Waiting] = []
        self._publishing = False

    def submit(self, messages: list[Message]) -> None:
        """Returns once `messages` are published; raises what publishing raised."""
        waiting = _Waiting(messages)
        with self._lock:
            self._pending.append(waiting)
            leads = not self._publishing
            self._publishing = True
        if leads:
            self._publish_pending()
        waiting.done.wait()
        if waiting.error is not None:
            raise waiting.error

    def _publish_pending(self) -> None:
        while True:
            with self._lock:
                group, self._pending = self._pending, []
                if not group:
                    self._publishing = False
                    return
            try:
                self._publish([message for waiting in group for message in waiting.messages])
            except BaseException as error:  # each waiting request answers it
                for waiting in group:
                    waiting.error = error
            for waiting in group:
                waiting.done.set()
