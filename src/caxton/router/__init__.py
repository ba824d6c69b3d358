"""Message routing: mailboxes, delivery, batching, conversations and dead letters."""

from caxton.router.attach import attach, instantiate
from caxton.router.conversations import PLATFORM, Conversation, ConversationManager
from caxton.router.dead_letters import DeadLetter, DeadLetters
from caxton.router.dispatcher import Dispatcher
from caxton.router.endpoint import Endpoint, Recipient
from caxton.router.router import Router, RouterError

__all__ = [
    "PLATFORM",
    "Conversation",
    "ConversationManager",
    "DeadLetter",
    "DeadLetters",
    "Dispatcher",
    "Endpoint",
    "Recipient",
    "Router",
    "RouterError",
    "attach",
    "instantiate",
]
