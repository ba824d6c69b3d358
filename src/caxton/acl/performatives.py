"""The 22 communicative acts of FIPA SC00037J, spelled as ABI v1 spells them."""

from typing import Final

PERFORMATIVES: Final = frozenset(
    {
        "accept-proposal",
        "agree",
        "cancel",
        "cfp",
        "confirm",
        "disconfirm",
        "failure",
        "inform",
        "inform-if",
        "inform-ref",
        "not-understood",
        "propagate",
        "propose",
        "proxy",
        "query-if",
        "query-ref",
        "refuse",
        "reject-proposal",
        "request",
        "request-when",
        "request-whenever",
        "subscribe",
    }
)

# Acts whose sender waits for an answer: a handler error on one of these is
# reported back to the sender as a `failure` (ABI v1, "Exports").
# `accept-proposal` is among them: the contract net's winner owes an inform or failure.
EXPECTS_ANSWER: Final = frozenset(
    {
        "accept-proposal",
        "cfp",
        "propose",
        "query-if",
        "query-ref",
        "request",
        "request-when",
        "request-whenever",
        "subscribe",
    }
)
