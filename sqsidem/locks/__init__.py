"""The lock records in the stack's table: look at them, explain them, clear them (issue 5).

- :mod:`.model`: one record as read, its derived state and what it means;
- :mod:`.read`: one record, or the records of given keys (dlq, trace, demo);
- :mod:`.scan`: the filtered, streaming (optionally parallel) scan behind `locks list`;
- :mod:`.plan`: which locks a clear selects and how each may be deleted, counted first;
- :mod:`.delete`: the concurrent deleter (batches for final records, conditional deletes);
- :mod:`.clear`: `locks clear` end to end: observe, ask, delete while scanning.

States come from the consumer's own reading of a record (:mod:`sqsidem.consumer.lock`), so
`locks` shows exactly what the consumer would do with it.
"""
