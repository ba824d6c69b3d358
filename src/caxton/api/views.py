"""From the server's objects to the API's types: what each resource looks like."""

from __future__ import annotations

from caxton.agents import AgentView, StateName
from caxton.api.types import (
    Agent,
    AgentCounters,
    AgentStateName,
    ConversationView,
    DeadLetterView,
    Job,
    MessageRecord,
)
from caxton.router.history import HistoryRecord
from caxton.server.server import Server
from caxton.store import ConversationRecord, StoredDeadLetter
from caxton.store.jobs import JobRecord

# The lifecycle's states as the API names them (Removed agents are never shown).
_STATE_NAMES: dict[StateName, AgentStateName] = {
    StateName.UNLOADED: "Unloaded",
    StateName.LOADED: "Loaded",
    StateName.RUNNING: "Running",
    StateName.DRAINING: "Draining",
    StateName.STOPPED: "Stopped",
    StateName.FAILED: "Failed",
}


def agent_state(state: StateName) -> AgentStateName:
    return _STATE_NAMES[state]


def agent(server: Server, view: AgentView) -> Agent:
    return Agent(
        name=view.name,
        id=view.id,
        state=agent_state(view.state),
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
        errors=server.manager.errors(name),
        fuel_used=sandbox.fuel_consumed,
        memory_bytes=sandbox.memory_bytes,
    )


def message(record: HistoryRecord) -> MessageRecord:
    return MessageRecord(seq=record.seq, at=record.at, message=record.message)


def conversation(
    server: Server, conversation_id: str, stored: ConversationRecord | None
) -> ConversationView | None:
    """The live conversation if the router still tracks it, else as the store kept it."""
    live = server.router.conversations.get(conversation_id)
    if live is not None:
        found = ConversationRecord(
            live.id, live.initiator, live.protocol, live.state, live.started, live.last_activity
        )
        participants = sorted(live.participants)
    elif stored is not None:
        found, participants = stored, []
    else:
        return None
    return ConversationView(
        id=found.id,
        initiator=found.initiator,
        participants=participants,
        protocol=found.protocol,
        state=found.state,
        started=found.started_at,
        last_activity=found.last_activity,
        live=live is not None,
        messages=[message(r) for r in server.history.conversation(conversation_id)],
    )


def dead_letter(letter: StoredDeadLetter) -> DeadLetterView:
    return DeadLetterView(
        at=letter.at, receiver=letter.receiver, reason=letter.reason, message=letter.message
    )


def job(record: JobRecord) -> Job:
    return Job(
        id=record.id,
        agent=record.agent_name,
        state=record.state,
        attempts=record.attempts,
        request=record.request,
        result=record.result,
        error=record.error,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )
