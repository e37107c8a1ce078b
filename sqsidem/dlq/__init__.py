"""The stack's dead-letter queue: look without consuming, list, redrive, purge.

- :mod:`.peek`: receive and release at once, so looking consumes nothing;
- :mod:`.link`: the DLQ and its source queue, through the source's RedrivePolicy;
- :mod:`.listing`: `dlq list`, messages with their keys' lock states;
- :mod:`.redrive`: plan and run a redrive, by :mod:`.move_task` or by :mod:`.copy`;
- :mod:`.result`: what a redrive did; :mod:`.purge`: `dlq purge`.
"""
