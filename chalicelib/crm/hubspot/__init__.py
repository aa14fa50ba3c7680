"""HubSpot: the score writer, the one contacts reader (enrichment, import, reconciliation), the
marketing email events poller, and the portal setup (properties, webhook subscriptions). The
webhook parser is inbound: sources/hubspot.py."""
