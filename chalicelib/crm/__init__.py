"""Outbound CRM adapters (HubSpot, Salesforce)."""
