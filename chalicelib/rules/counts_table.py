"""The README's "What counts by default" table, written from a rules file: each event name, the
canonical type it maps to, the points its rules give and how they decay. Generated so the README
cannot drift from the bundled rules (a test compares them)."""

from __future__ import annotations

from chalicelib.domain.decay import DecaySchedule
from chalicelib.domain.event_rule import EngagementRule
from chalicelib.domain.rules import Rules

# Types the sources emit without a tracking name (rules/vocabulary.py), said in words.
SOURCE_NAMES = {
    "page_view": "Segment/RudderStack `page` calls, HubSpot visits",
    "email_sent": "HubSpot email events (SENT, DELIVERED)",
    "email_open": "HubSpot email events (OPEN)",
    "email_click": "HubSpot email events (CLICK)",
    "email_bounce": "HubSpot email events (BOUNCE)",
    "email_spam": "HubSpot email events (SPAMREPORT)",
    "demo_request": "forms named like a demo request",
    "quote_request": "forms about pricing or a quote",
    "content_download": "forms for a download, guide, whitepaper, ebook",
    "webinar_registered": "webinar forms, Salesforce webinar campaigns",
    "trial_started": "trial and sign-up forms",
    "form_submitted": "any other form",
    "email_reply": "HubSpot replies, Salesforce Email tasks, Pipedrive email activities",
    "unsubscribe": "HubSpot opt-outs and unsubscribes",
    "meeting_booked": "HubSpot meetings, Salesforce Events, Pipedrive meetings, Calendly and Cal.com bookings",
    "call": "Salesforce Call tasks, Pipedrive calls",
    "crm_lead_created": "Pipedrive leads",
    "deal_created": "Pipedrive deals",
    "webinar_attended": "Salesforce webinar campaigns (Attended)",
    "event_attended": "Salesforce conference and event campaigns (Attended)",
}
OPERATORS = {"in_": "in", "not_in": "not in", "min": "≥", "below": "<", "pattern": "matches", "equals": "="}


def counts_table(rules: Rules) -> str:
    engagement = rules.engagement
    by_type: dict[str, list[EngagementRule]] = {}
    for rule in engagement.rules:
        by_type.setdefault(rule.event, []).append(rule)
    rows = ["| event names | canonical type | points | decay |", "|---|---|---|---|"]
    for canonical, names in engagement.event_types.items():
        sent = ", ".join(f"`{name}`" for name in names)
        if canonical in SOURCE_NAMES:
            sent = f"{sent}; {SOURCE_NAMES[canonical]}" if sent else SOURCE_NAMES[canonical]
        scored = by_type.get(canonical, [])
        if not scored:
            kept = "recorded only" if canonical in engagement.recorded_only else "no rule"
            rows.append(f"| {sent} | `{canonical}` | 0 ({kept}) | |")
            continue
        for position, rule in enumerate(scored):
            names_cell = sent if position == 0 else "(the same)"
            rows.append(f"| {names_cell} | `{canonical}` | {_points(rule)} | {_decay(rule, rules)} |")
    return "\n".join(rows)


def _number(value: float) -> str:
    text = f"{value:g}"
    return text.replace("-", "−")


def _points(rule: EngagementRule) -> str:
    where = ", ".join(
        f"{prop} {_test(test.model_dump(exclude_none=True, exclude_defaults=True))}"
        for prop, test in rule.where.items()
    )
    text = _number(rule.points)
    if rule.distinct_days:
        text = f"{text} once active on {rule.distinct_days} distinct days"
    elif rule.then is not None:
        text = f"{text}, then {_number(rule.then)} each" + (f" per `{rule.repeat_per}`" if rule.repeat_per else "")
    if rule.multipliers:
        text += f" × {' × '.join(rule.multipliers)}"
    if rule.cap is not None and not rule.distinct_days:
        text += " (once at a time)" if rule.cap == abs(rule.points) else f" (cap {_number(rule.cap)})"
    return f"{text}: {rule.description or rule.name}" + (f" ({where})" if where else "")


def _test(test: dict[str, object]) -> str:
    def shown(value: object) -> str:
        if isinstance(value, list):
            return " or ".join(str(item) for item in value)
        return f"{value:g}" if isinstance(value, float) else str(value)

    return " and ".join(f"{OPERATORS.get(key, key)} {shown(value)}" for key, value in test.items())


def _decay(rule: EngagementRule, rules: Rules) -> str:
    if rule.decay is None:
        return "never"
    schedule: DecaySchedule = rules.decay[rule.decay]
    if schedule.half_life_days is not None:
        return f"`{rule.decay}`: half-life {schedule.half_life_days:g} d"
    steps = ", ".join(
        f"{'full' if step.keep == 1 else f'{step.keep:.0%}'} to {step.until_days:g} d" for step in schedule.steps or []
    )
    return f"`{rule.decay}`: {steps}, then {'nothing' if schedule.after == 0 else f'{schedule.after:.0%}'}"
