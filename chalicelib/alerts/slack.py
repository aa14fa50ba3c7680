"""An alert as a Slack incoming-webhook message: Block Kit built with slack_sdk's models (which
check Slack's limits when the message is built), every sender's text in plain_text objects (Slack
never parses mentions or links there), and the fallback `text` escaped as Slack asks (&, <, >)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, HeaderBlock, SectionBlock
from slack_sdk.models.blocks.basic_components import PlainTextObject

from chalicelib.domain.alerts import Alert

HEADER_LIMIT = 150  # Slack's limits on a header's text, a field, a section's text, a button's text
FIELD_LIMIT = 2000
TEXT_LIMIT = 3000
BUTTON_LIMIT = 75
BUTTONS_LIMIT = 25


def slack_message(alert: Alert) -> dict[str, Any]:
    """The webhook body: `text` (the notification's line) and `blocks`."""
    return {"text": escape(alert.headline), "blocks": [block.to_dict() for block in blocks(alert)]}


def blocks(alert: Alert) -> list[Block]:
    facts = [alert.standing]
    facts += [f"{label}: {value}" for label, value in (("Title", alert.title), ("Company", alert.company),
                                                       ("Owner", alert.owner)) if value]  # fmt: skip
    found: list[Block] = [
        HeaderBlock(text=plain(alert.headline, HEADER_LIMIT)),
        SectionBlock(fields=[plain(fact, FIELD_LIMIT) for fact in facts]),
    ]
    if alert.reasons:
        found.append(SectionBlock(text=plain("Why:\n" + "\n".join(f"• {reason}" for reason in alert.reasons))))
    if alert.links:
        buttons = [
            ButtonElement(text=plain(label, BUTTON_LIMIT), url=url, action_id=f"open-{number}")
            for number, (label, url) in enumerate(alert.links[:BUTTONS_LIMIT])
        ]
        found.append(ActionsBlock(elements=buttons))
    if alert.from_tier:
        found.append(ContextBlock(elements=[plain(f"was {alert.from_tier.replace('_', ' ')} · {alert.at}")]))
    return found


def plain(text: str, limit: int = TEXT_LIMIT) -> PlainTextObject:
    return PlainTextObject(text=text if len(text) <= limit else text[: limit - 1] + "…", emoji=False)


def escape(text: str) -> str:
    """Text for a field Slack reads as mrkdwn: its three control characters escaped (so `<!channel>`
    is shown, never acted on), and @here/@channel/@everyone kept from linking."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for word in ("here", "channel", "everyone"):
        text = text.replace(f"@{word}", f"@\u2060{word}")  # a word joiner: shown the same, never a mention
    return text


DIGEST_LEADS = 20  # Slack takes 50 blocks a message; the rest are counted


def slack_digest(alerts: list[Alert], title: str) -> dict[str, Any]:
    """A day's alerts in one message: a section per lead (its line, its top reason, a button to
    its first link), the first DIGEST_LEADS of them."""
    found: list[Block] = [HeaderBlock(text=plain(title, HEADER_LIMIT))]
    for alert in alerts[:DIGEST_LEADS]:
        text = alert.headline + (f"\n{alert.reasons[0]}" if alert.reasons else "")
        button = None
        if alert.links:
            label, url = alert.links[0]
            button = ButtonElement(text=plain(label, BUTTON_LIMIT), url=url, action_id=f"open-{alert.lead_id}")
        found.append(SectionBlock(text=plain(text), accessory=button))
    if len(alerts) > DIGEST_LEADS:
        found.append(ContextBlock(elements=[plain(f"and {len(alerts) - DIGEST_LEADS} more")]))
    return {"text": escape(title), "blocks": [block.to_dict() for block in found]}
