"""Alerts about leads, as each destination takes them: Slack Block Kit, a Teams Adaptive Card, or
the documented JSON body; and the sending of them."""
