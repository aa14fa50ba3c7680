"""Mistakes planted in the bundled rules file, each independent of the others: what is written,
and where and how `rules validate` must name it."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.rules import DEFAULT_RULES_PATH

DEFAULT_TEXT = DEFAULT_RULES_PATH.read_text()


@dataclass(frozen=True)
class Mistake:
    old: str
    new: str
    path: str
    says: str


MISTAKES = [
    Mistake("points: 50, cap: 50", "pionts: 50, cap: 50", "engagement.rules[demo_request].pionts",
            "unknown key `pionts`; did you mean `points`?"),
    Mistake("decay: buying_intent}", "decay: buying_intnt}", "engagement.rules[demo_request].decay",
            "'buying_intnt' is not a schedule under decay; did you mean `buying_intent`?"),
    Mistake("event: unsubscribe,", "event: unsubscibe,", "engagement.rules[unsubscribe].event",
            "did you mean `unsubscribe`?"),
    Mistake("pattern: '^/blog(/|$)'", "pattern: '^/blog(/|$'", "engagement.page_categories.categories[blog].pattern",
            "not a valid regular expression"),
    Mistake("{name: warm, min: 31}", "{name: warm, min: 0}", "tiers", "tier minimums must increase"),
    Mistake("attribute: lead_source\n", "attribute: leadsource\n", "fit[lead_source]",
            "unknown attribute 'leadsource'; did you mean `lead_source`?"),
    Mistake("event: meeting_booked}", "event: meetng_booked}",
            "crm_activity.hubspot[engagements_last_meeting_booked].event", "did you mean `meeting_booked`?"),
    Mistake("account_left, chat_message]", "account_left, chat_mesage]", "engagement.recorded_only[5]",
            "did you mean `chat_message`?"),
    Mistake("in: target_industries", "in: target_industrys", "fit[target_industry]",
            "list 'target_industrys' is not defined under lists; did you mean `target_industries`?"),
    Mistake("\ngrades:", "\ngrads:", "grads", "unknown key `grads`; did you mean `grades`?"),
]  # fmt: skip


def planted(mistakes: list[Mistake]) -> str:
    text = DEFAULT_TEXT
    for mistake in mistakes:
        assert text.count(mistake.old) >= 1, mistake.old
        text = text.replace(mistake.old, mistake.new, 1)
    return text
