"""leadscore's package: the pure scoring domain, the service layer (use cases), the adapters
(sources in, crm out, storage, the task queue) and the entry points that wire them to triggers."""
