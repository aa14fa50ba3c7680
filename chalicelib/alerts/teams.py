"""An alert as a Microsoft Teams incoming-webhook message: an Adaptive Card (schema 1.4, what
Teams renders) in the message envelope Teams' webhooks and Workflows take. A TextBlock reads a
subset of Markdown, so sender text is escaped; a card mentions people only through `msteams`
entities, which it never has."""

from __future__ import annotations

import re
from typing import Any

from chalicelib.domain.alerts import Alert

CARD_VERSION = "1.4"
# What would make Markdown of a sender's text in a TextBlock: emphasis and links (the subset Teams
# renders); a list marker only at the start of the text.
_MARKDOWN = re.compile(r"([\\*_\[\]])")
_BULLET_START = re.compile(r"^(\s*)([-+])(\s)")
_NUMBER_START = re.compile(r"^(\s*\d+)\.(\s)")


def teams_message(alert: Alert) -> dict[str, Any]:
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card(alert)}
        ],
    }


def card(alert: Alert) -> dict[str, Any]:
    facts = [("Score", str(alert.score)), ("Tier", alert.tier.replace("_", " ")), ("Grade", alert.grade)]
    facts += [(label, value) for label, value in (("Title", alert.title), ("Company", alert.company),
                                                  ("Owner", alert.owner)) if value]  # fmt: skip
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": escape(alert.headline), "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "FactSet", "facts": [{"title": title, "value": escape(value)} for title, value in facts]},
    ]
    if alert.reasons:
        body.append({"type": "TextBlock", "text": "Why", "weight": "Bolder", "wrap": True})
        body += [
            {"type": "TextBlock", "text": escape(reason), "wrap": True, "spacing": "None"} for reason in alert.reasons
        ]
    found: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
    }
    if alert.links:
        found["actions"] = [{"type": "Action.OpenUrl", "title": label, "url": url} for label, url in alert.links]
    return found


def escape(text: str) -> str:
    """A sender's text taken literally (a name like `[x](https://…)` stays text, never a link)."""
    text = _BULLET_START.sub(r"\1\\\2\3", _MARKDOWN.sub(r"\\\1", text))
    return _NUMBER_START.sub(r"\1\\.\2", text)


def teams_digest(alerts: list[Alert], title: str) -> dict[str, Any]:
    """A day's alerts in one card: each lead's line and its top reason."""
    body: list[dict[str, Any]] = [{"type": "TextBlock", "text": escape(title), "weight": "Bolder", "size": "Medium",
                                   "wrap": True}]  # fmt: skip
    for alert in alerts:
        body.append({"type": "TextBlock", "text": escape(alert.headline), "weight": "Bolder", "wrap": True})
        if alert.reasons:
            body.append({"type": "TextBlock", "text": escape(alert.reasons[0]), "wrap": True, "spacing": "None"})
    content = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
               "version": CARD_VERSION, "body": body}  # fmt: skip
    return {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                                "contentUrl": None, "content": content}]}  # fmt: skip
