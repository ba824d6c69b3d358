"""Agents: the lifecycle state machine, the failure policy, the manager that applies them,
and capability discovery (the catalogue, version ranges, the built-in directory agent)."""

from caxton.agents.catalogue import ANSWERING, Catalogue, Offer
from caxton.agents.directory import DIRECTORY, Directory
from caxton.agents.lifecycle import (
    STATES,
    Action,
    AgentState,
    Draining,
    Failed,
    Loaded,
    Module,
    Removed,
    Running,
    StateName,
    Stopped,
    Transition,
    Unloaded,
    apply,
)
from caxton.agents.manager import AgentManager, AgentView, UnknownAgent
from caxton.agents.policy import (
    Continue,
    Decision,
    Exhaustion,
    Fail,
    FailurePolicy,
    FailureTracker,
    Restart,
)
from caxton.agents.versions import InvalidVersion, Version, VersionRange

__all__ = [
    "ANSWERING",
    "DIRECTORY",
    "STATES",
    "Action",
    "AgentManager",
    "AgentState",
    "AgentView",
    "Catalogue",
    "Continue",
    "Decision",
    "Directory",
    "Draining",
    "Exhaustion",
    "Fail",
    "Failed",
    "FailurePolicy",
    "FailureTracker",
    "InvalidVersion",
    "Loaded",
    "Module",
    "Offer",
    "Removed",
    "Restart",
    "Running",
    "StateName",
    "Stopped",
    "Transition",
    "UnknownAgent",
    "Unloaded",
    "Version",
    "VersionRange",
    "apply",
]
