"""From the server's objects to the API's types: what each resource looks like."""

from __future__ import annotations

from caxton.agents import AgentView
from caxton.api.types import (
    Agent,
    AgentCounters,
    ConversationView,
    DeadLetterView,
    Job,
    MessageRecord,
)
from caxton.router.history import HistoryRecord
from caxton.server.server import Server
from caxton.store import ConversationRecord, StoredDeadLetter
from caxton.store.jobs import JobRecord


def agent(server: Server, view: AgentView) -> Agent:
    return Agent(
        name=view.name,
        id=view.id,
        state=view.state.value,  # type: ignore[arg-type]  # StateName values are the Literal's
        version=view.version,
        module_sha256=view.module_sha256,
        reason=view.reason,
        config=dict(view.config),
        limits=dict(view.limits),
        capabilities=[c.name for c in server.store.capabilities.of(view.id)],
        counters=counters(server, view.name),
    )


def counters(server: Server, name: str) -> AgentCounters | None:
    sandbox = server.manager.sandbox(name)
    endpoint = server.router.get(name)
    if sandbox is None or endpoint is None:
        return None
    return AgentCounters(
        messages_in=endpoint.mailbox.received,
        messages_out=endpoint.sent,
        messages_handled=sandbox.messages_handled,
        mailbox_depth=len(endpoint.mailbox),
        mailbox_peak=endpoint.mailbox.peak,
        errors=dict(server.errors.get(name, {})),
        fuel_used=sandbox.fuel_consumed,
        memory_bytes=sandbox.memory_bytes,
    )


def message(record: HistoryRecord) -> MessageRecord:
    return MessageRecord(seq=record.seq, at=record.at, message=record.message)


def conversation(
    server: Server, conversation_id: str, stored: ConversationRecord | None
) -> ConversationView | None:
    live = server.router.conversations.get(conversation_id)
    messages = [message(r) for r in server.history.conversation(conversation_id)]
    if live is not None:
        return ConversationView(
            id=live.id,
            initiator=live.initiator,
            participants=sorted(live.participants),
            protocol=live.protocol,
            state=live.state,
            started=live.started,
            last_activity=live.last_activity,
            live=True,
            messages=messages,
        )
    if stored is None:
        return None
    return ConversationView(
        id=stored.id,
        initiator=stored.initiator,
        participants=[],
        protocol=stored.protocol,
        state=stored.state,
        started=stored.started_at,
        last_activity=stored.last_activity,
        live=False,
        messages=messages,
    )


def dead_letter(letter: StoredDeadLetter) -> DeadLetterView:
    return DeadLetterView(
        at=letter.at, receiver=letter.receiver, reason=letter.reason, message=letter.message
    )


def job(record: JobRecord) -> Job:
    return Job(
        id=record.id,
        agent=record.agent_name,
        state=record.state,  # type: ignore[arg-type]  # the store checks the same four states
        attempts=record.attempts,
        request=record.request,
        result=record.result,
        error=record.error,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )
