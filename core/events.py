"""Websocket events as contracts: what every `<app>/events.py` declares.

An app that sends events on the project feed (`core.realtime.broadcast_on_commit` / `broadcast`) names
each type once, as a constant, with its payload as a TypedDict and one line saying when it is sent, and
lists them in `EVENTS`. `scripts/check_contracts.py` builds docs/EVENTS.md and
frontend/src/realtime/events.json from these lists and fails `make lint` when the catalogue is stale, when
an event is sent in the code but not declared, or when the frontend's `SERVER_EVENT_TYPES`
(frontend/src/realtime/project-feed.ts) misses one. Who may hear each type is
`projects.access.FEED_EVENT_AUDIENCE` (permissions as data).
"""

import builtins
from dataclasses import dataclass
from typing import Literal

# The apps whose events.py declare events, in layer order (core knows their names, not their code).
EVENT_MODULES = ("projects.events", "annotation.events", "quality.events", "exports.events")


@dataclass(frozen=True)
class Event:
    type: str  # "<entity>.<past tense>", e.g. "member.added"
    payload: builtins.type  # a TypedDict: the `data` of the socket message
    when: str  # one line: what happened
    # "now": during a long job, outside its transaction; "to the socket": by the consumer, to one socket
    sent: Literal["on commit", "now", "to the socket"] = "on commit"
