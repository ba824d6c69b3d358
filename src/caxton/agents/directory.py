"""The built-in `directory` agent: capability queries from inside agents.

In the manner of a FIPA directory facilitator (SC00023), any agent may ask
it who offers a capability, in the fipa-query protocol (SC00027):

    {"performative": "query-ref", "receiver": "directory", "protocol": "fipa-query",
     "reply_with": "q1", "content": {"capability": "translate", "version": "^1.2"}}

and gets an `inform` whose content lists the Running agents that declared
it, in a version the range admits (`caxton.agents.versions`; no `version`
means any), by agent name then version; an empty list when there are none:

    [{"agent": "linguist", "capability": "translate", "version": "1.4.0",
      "description": "...", "input_schema": {...}}]

The answer is a FIPA reply: `in_reply_to` the query's `reply_with`, the
same `conversation_id` and `protocol`.

A query the directory cannot read (content not an object, no capability
name, a key it does not know, a malformed range) and any other performative
get `not-understood`, whose content names the problem:
`{"error": "malformed-query" | "unsupported-act", "reason": "..."}`. Not
`failure`: SC00037 defines failure as an action attempted that did not
succeed, while not-understood says the receiver could not make sense of
what it was sent, which is the case; and fipa-query allows not-understood
at any point, so the conversation ends cleanly. `failure` and
`not-understood` sent to the directory are never answered (as the router
never answers them), so two parties cannot bounce them forever.

The directory answers from the manager's in-memory `Catalogue` on the
dispatcher's thread: a search is a dict lookup and a comparison per
provider, never a SQLite read.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from caxton.acl import reply
from caxton.agents.catalogue import Catalogue
from caxton.agents.versions import InvalidVersion, VersionRange
from caxton.router import PLATFORM, Endpoint, Router
from caxton.runtime import Status

DIRECTORY: Final = "directory"
# Answers are never answered, as the router never answers them with a failure.
_UNANSWERED: Final = frozenset({"failure", "not-understood"})
_QUERY_KEYS: Final = ("capability", "version")
# As the API's `name` and `version` query parameters allow.
MAX_NAME: Final = 200
MAX_RANGE: Final = 200

Message = dict[str, Any]


class MalformedQuery(ValueError):
    """A query-ref's content the directory cannot read; the text names the field."""


def parse_query(content: object) -> tuple[str, VersionRange | None]:
    """The capability name and version range a query's content asks for."""
    if not isinstance(content, dict):
        raise MalformedQuery(
            'content: expected an object {"capability": NAME, "version": RANGE?}, '
            f"got {type(content).__name__ if content is not None else 'nothing'}"
        )
    unknown = sorted(key for key in content if key not in _QUERY_KEYS)
    if unknown:
        raise MalformedQuery(
            f"content.{unknown[0]}: not a query key (the keys are capability and version)"
        )
    name = content.get("capability")
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME:
        raise MalformedQuery(
            f"content.capability: expected the capability's name, a string of 1 to {MAX_NAME} "
            f"characters, got {orjson.dumps(name).decode()[:80]}"
        )
    text = content.get("version")
    if text is None:
        return name, None
    if not isinstance(text, str) or len(text) > MAX_RANGE:
        raise MalformedQuery(
            f"content.version: expected a version range, a string of at most {MAX_RANGE} "
            f'characters such as ">=1.2.0 <2.0.0" or "^1.2", got {orjson.dumps(text).decode()[:80]}'
        )
    try:
        return name, VersionRange.parse(text)
    except InvalidVersion as error:
        raise MalformedQuery(f"content.version: {error}") from None


class Directory:
    """What the router delivers to for `directory`: answers built from the catalogue."""

    accepts_batches = False

    def __init__(self, router: Router, catalogue: Catalogue) -> None:
        self._router = router
        self._catalogue = catalogue
        self._endpoint: Endpoint | None = None
        self.answered = 0
        self.not_understood = 0

    def attach(self) -> None:
        endpoint = self._router.endpoint(DIRECTORY)
        self._router.register(endpoint, self)
        self._endpoint = endpoint

    def answer(self, message: Message) -> Message | None:
        """The directory's answer to `message` (None when it owes none), not yet routed."""
        performative = message.get("performative")
        sender = message.get("sender")
        if performative in _UNANSWERED or not isinstance(sender, str) or sender == PLATFORM:
            return None
        if performative != "query-ref":
            return self._not_understood(
                message,
                "unsupported-act",
                f"the directory answers query-ref only, not {performative}: send "
                '{"capability": NAME, "version": RANGE?} as a query-ref\'s content',
            )
        try:
            name, versions = parse_query(message.get("content"))
        except MalformedQuery as error:
            return self._not_understood(message, "malformed-query", str(error))
        inform = reply(message, "inform", DIRECTORY, sender)
        inform["content"] = [
            {
                "agent": offer.agent,
                "capability": offer.capability.name,
                "version": offer.capability.version,
                "description": offer.capability.description,
                "input_schema": offer.capability.input_schema,
            }
            for offer in self._catalogue.search(name, versions)
        ]
        self.answered += 1
        return inform

    def _not_understood(self, message: Message, error: str, reason: str) -> Message:
        answer = reply(message, "not-understood", DIRECTORY, message["sender"])
        answer["content"] = {"error": error, "reason": reason}
        self.not_understood += 1
        return answer

    # Recipient: called on a dispatcher thread.

    def handle(self, message: bytes, context: object = None) -> int:
        # The dispatcher passes the routed message itself: no need to decode the bytes.
        query = context if isinstance(context, dict) else orjson.loads(message)
        answer = self.answer(query)
        endpoint = self._endpoint
        if answer is None or endpoint is None:
            return 0
        if endpoint.send(answer, query) == Status.MAILBOX_FULL:
            # The directory cannot wait for room, as the platform cannot.
            self._router.dead_letters.keep(answer, answer["receiver"], "mailbox full")
        return 0

    def handle_batch(self, messages: bytes, count: int, context: object = None) -> int:
        raise AssertionError("the directory takes messages one at a time")
