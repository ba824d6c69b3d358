"""/messages, /conversations, /dead-letters, /capabilities, /events: what flows between
agents, and what the server noticed about it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from caxton.acl import decode_fipa, decode_json
from caxton.agents import ANSWERING, InvalidVersion, VersionRange
from caxton.agents.directory import MAX_NAME, MAX_RANGE
from caxton.api import views
from caxton.api.deps import ServerDep, read_body
from caxton.api.problems import ApiProblem, not_found
from caxton.api.streams import sse
from caxton.api.types import (
    CapabilityList,
    CapabilityView,
    ConversationView,
    DeadLetterList,
    EventList,
    EventView,
    MessageList,
    SendResult,
)

router = APIRouter(tags=["messages"])

FIPA_ACL = "application/fipa-acl"
_MESSAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/AclMessage"}},
            FIPA_ACL: {"schema": {"type": "string"}},
        },
    }
}


@router.post(
    "/messages",
    status_code=202,
    response_model=SendResult,
    summary="Send one message to any agent (JSON, or FIPA string syntax)",
    openapi_extra=_MESSAGE_BODY,
)
async def send(request: Request, server: ServerDep) -> SendResult:
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    body = await read_body(request, server)
    if kind == FIPA_ACL:
        message = decode_fipa(body)
    elif kind in ("application/json", ""):
        message = decode_json(body)
    else:
        raise ApiProblem(
            415, "unsupported-media-type", f"send application/json or {FIPA_ACL}, not {kind!r}"
        )
    server.gateway.post(message)
    return SendResult(
        message_id=message["message_id"], conversation_id=message.get("conversation_id")
    )


@router.get("/messages", response_model=MessageList, summary="Recent messages, filtered")
def recent(
    server: ServerDep,
    agent: str | None = None,
    conversation: str | None = None,
    after: Annotated[int | None, Query(ge=0, description="Only messages after this seq")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    follow: Annotated[bool, Query(description="Stream new ones as server-sent events")] = False,
) -> Any:
    history = server.history
    if follow:

        def wait(seq: int, timeout: float) -> tuple[int, list[tuple[int, Any]]]:
            records = history.wait_after(seq, timeout)
            newest = records[-1].seq if records else seq
            chosen = [r for r in records if r.matches(agent, conversation)]
            return newest, [(r.seq, r.message) for r in chosen]

        start = history.last_seq if after is None or after > history.last_seq else after
        return sse(wait, start, lambda: server.closed)
    last_seq = history.last_seq  # before reading: a later message is not skipped by a follow
    records = history.recent(limit, agent=agent, conversation=conversation, after_seq=after)
    items = [views.message(r) for r in records if r.seq <= last_seq]
    return MessageList(items=items, last_seq=last_seq)


@router.get(
    "/conversations/{conversation_id}",
    response_model=ConversationView,
    summary="A conversation and its messages",
)
def conversation(conversation_id: str, server: ServerDep) -> ConversationView:
    stored = server.store.conversations.get(conversation_id)
    view = views.conversation(server, conversation_id, stored)
    if view is None:
        if server.history.conversation(conversation_id):
            raise ApiProblem(
                404, "conversation-not-found", f"conversation {conversation_id!r} is over"
            )
        raise not_found("conversation", conversation_id)
    return view


@router.get("/events", response_model=EventList, summary="What the server noticed")
def events(
    server: ServerDep,
    agent: str | None = None,
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1_000)] = 100,
) -> EventList:
    """Mailbox thresholds crossed and message-rate spikes, newest last (the last 1000 kept)."""
    found = [
        EventView(at=event.at, kind=event.kind, agent=event.agent, detail=dict(event.detail))
        for event in list(server.telemetry.watcher.recent)
        if (agent is None or event.agent == agent) and (kind is None or event.kind == kind)
    ]
    return EventList(items=found[-limit:])


@router.get("/dead-letters", response_model=DeadLetterList, summary="Undeliverable messages")
def dead_letters(
    server: ServerDep, limit: Annotated[int, Query(ge=1, le=10_000)] = 100
) -> DeadLetterList:
    return DeadLetterList(
        items=[views.dead_letter(letter) for letter in server.store.dead_letters.recent(limit)]
    )


_VERSION_HELP = (
    "Only versions in this SemVer range: `>=1.2.0 <2.0.0`, `^1.2`, `~1.4.1`, `1.x`, `=1.2.3`; "
    "comparators separated by spaces or commas must all hold, `||` separates alternatives"
)


@router.get(
    "/capabilities",
    response_model=CapabilityList,
    summary="Agents offering a capability",
    tags=["capabilities"],
)
def capabilities(
    server: ServerDep,
    name: Annotated[str, Query(min_length=1, max_length=MAX_NAME)],
    version: Annotated[str | None, Query(max_length=MAX_RANGE, description=_VERSION_HELP)] = None,
    all_states: Annotated[
        bool, Query(description="Agents in every state, not only those Running")
    ] = False,
) -> CapabilityList:
    """The agents that declared capability `name`: by default those Running, which can answer now.

    Answered from the manager's in-memory catalogue, never a SQLite read.
    """
    try:
        versions = None if version is None else VersionRange.parse(version)
    except InvalidVersion as error:
        raise ApiProblem(
            422, "invalid-version-range", f"version: {error}", field="version"
        ) from None
    offers = server.manager.catalogue.search(
        name, versions, states=None if all_states else ANSWERING
    )
    items = [
        CapabilityView(
            agent=offer.agent,
            agent_state=views.agent_state(offer.state),
            name=offer.capability.name,
            version=offer.capability.version,
            description=offer.capability.description,
            input_schema=offer.capability.input_schema,
        )
        for offer in offers
    ]
    return CapabilityList(items=items, version_range=None if versions is None else str(versions))
