"""Intercom webhook notifications: the envelope, and notifications already handled.

Intercom posts a `notification_event` whose `topic` names what happened and whose
`data.item` is the object it happened to (a conversation for the conversation.*
topics). When a webhook is saved, or on request, Intercom sends the `ping` topic;
it is answered without a decision. Intercom retries a notification that was not
answered with a 2xx, with the same notification `id`: `Seen` remembers the ids
this worker decided (and wrote back) so a redelivery is answered at once, without
deciding or calling Intercom again. It is per worker and bounded; the write-back's
own check (the decision id on the conversation) is what makes a note land once
across workers and replicas.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ..problems import ProblemError

SEEN_IDS = 10_000
SEEN_SECONDS = 24 * 3600
MAX_ID_CHARS = 128


@dataclass(frozen=True)
class Notification:
    id: str | None
    topic: str
    item_type: str | None

    @property
    def is_ping(self) -> bool:
        return self.topic == "ping"

    @property
    def is_conversation(self) -> bool:
        return self.item_type == "conversation"


def notification(payload: dict[str, Any]) -> Notification:
    """The envelope of an Intercom delivery; a 422 ProblemError when it is not one."""
    topic = payload.get("topic")
    if payload.get("type") != "notification_event" or not isinstance(topic, str) or not topic:
        raise ProblemError(422, "invalid-payload", "not an Intercom webhook notification: expected "
                           '{"type": "notification_event", "topic": ..., "data": {"item": ...}}',
                           title="Invalid payload")
    data = payload.get("data")
    item = data.get("item") if isinstance(data, dict) else None
    item_type = item.get("type") if isinstance(item, dict) else None
    raw_id = payload.get("id")
    notification_id = raw_id if isinstance(raw_id, str) and 0 < len(raw_id) <= MAX_ID_CHARS else None
    return Notification(notification_id, topic[:MAX_ID_CHARS], item_type if isinstance(item_type, str) else None)


class Seen:
    """Notification ids this worker has handled, with the decision each got; bounded and expiring."""

    def __init__(self, size: int = SEEN_IDS, seconds: float = SEEN_SECONDS):
        self.size = size
        self.seconds = seconds
        self._ids: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def get(self, notification_id: str | None) -> str | None:
        """The decision id the notification got, when this worker handled it recently."""
        if notification_id is None:
            return None
        found = self._ids.get(notification_id)
        if found is None:
            return None
        if time.monotonic() - found[0] > self.seconds:
            del self._ids[notification_id]
            return None
        return found[1]

    def add(self, notification_id: str | None, decision_id: str) -> None:
        if notification_id is None:
            return
        self._ids[notification_id] = (time.monotonic(), decision_id)
        self._ids.move_to_end(notification_id)
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)
