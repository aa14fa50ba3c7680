"""The use cases, in the service's own vocabulary: the commands they take (commands.py), the
errors a client sees (errors.py), the tasks they queue (messages.py), and one module per use case:
ingest, enrichment, write-back, notifications, upkeep, CRM import, rules preview, lead views and
reports. They depend on ports (storage, CRM, task queue), never on an adapter."""
