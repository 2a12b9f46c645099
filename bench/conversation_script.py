"""The text of the prompt-caching phase's conversation: a support bot's system prompt of a few
thousand tokens and user turns that each paste a new part of a customer's case.

Everything is deterministic but the run's ``session`` tag (the system prompt's first line), so
one run's cached prefixes are never read by another run on the same emulator. A turn is about 130
emulator tokens (a run of word characters or one punctuation mark is a token), so the prompt grows
by roughly 160 tokens a turn with the bot's 32-token answer.
"""

from __future__ import annotations

TOPICS = (
    "billing",
    "refunds",
    "shipping",
    "account access",
    "security",
    "privacy",
    "returns",
    "warranty claims",
    "subscriptions",
    "invoices",
)
SITUATIONS = (
    "asks for an exception to the published policy",
    "reports that the amount or date shown is wrong",
    "writes in a language other than English",
    "mentions a deadline within the next two days",
    "has contacted support more than twice about it",
    "is a business customer with a signed contract",
    "asks to speak with a manager or a supervisor",
    "shares a screenshot, an order number or an invoice number",
    "wants to close the account because of it",
)
ACTIONS = (
    "confirm the details back in one sentence before answering",
    "quote the relevant policy section by its number and title",
    "offer the next step the customer can take today, and say how long it takes",
    "never promise a refund, a credit or a date that the policy does not allow",
    "escalate to the second line and tell the customer the case reference",
    "ask one precise question when a required detail is missing",
)
SUBJECTS = (
    "the invoice for March",
    "a parcel that arrived damaged",
    "two-factor codes that never arrive",
    "a subscription renewed twice",
    "an export that stops at ninety percent",
    "a warranty repair that was refused",
)


def system_prompt(session: str) -> str:
    """The support bot's instructions: about 3,100 emulator tokens, ``session`` first."""
    lines = [
        f"Session {session}.",
        "You are the support assistant of a company that sells software and hardware. Follow "
        "every rule below; when two rules conflict, the one with the lower number wins.",
    ]
    for section, topic in enumerate(TOPICS, start=1):
        lines.append(f"Section {section}: {topic}.")
        for number, situation in enumerate(SITUATIONS, start=1):
            action = ACTIONS[(section + number) % len(ACTIONS)]
            lines.append(
                f"Rule {section}.{number}: when a customer writing about {topic} {situation}, "
                f"{action}."
            )
    return "\n".join(lines)


def user_turn(turn: int) -> str:
    """The customer's ``turn``-th message (1-based): a new excerpt of the case, then a question."""
    subject = SUBJECTS[turn % len(SUBJECTS)]
    topic = TOPICS[turn % len(TOPICS)]
    excerpt = " ".join(
        f"Entry {turn}.{line}: on day {turn + line} the customer wrote again about {subject}, "
        f"listed what was tried so far, and attached reference {1000 * turn + line}."
        for line in range(1, 4)
    )
    return (
        f"Here is part {turn} of the case history. {excerpt} Given the rules on {topic}, what "
        f"should we tell the customer about {subject} now, and which rule applies?"
    )
