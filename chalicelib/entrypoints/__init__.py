"""Thin entry points, one module per trigger: `http` (API Gateway routes), `sqs` (the task
queue's event source), `schedule` (the EventBridge rules: upkeep and the CRM sync). Each
translates its trigger's event into one use-case call and the result back; the use cases come
from bootstrap.container()."""
