"""Salesforce: the org's REST session, the score writer, the record reader (import,
reconciliation) and the campaign member directory. The outbound message parser is inbound:
sources/salesforce.py."""
