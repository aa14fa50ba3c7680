"""Storage adapters: the ports by role (ports.py), the DynamoDB implementation (dynamodb/, over
one table: schema.py, table.py, items.py) and the in-memory one for fast tests (memory/)."""
