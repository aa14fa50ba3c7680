"""Outbound adapters, one folder per CRM (hubspot/, salesforce/): each writes scores back, reads
the records a webhook named, and pages through records for the import; the shared HTTP client,
pacing and ports sit beside them. A third CRM is a third folder implementing ports.py."""
