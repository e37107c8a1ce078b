"""``sqsidem worker``: poll the queue ourselves with the event source mapping's semantics.

For when the mapping cannot be used (e.g. messages must come through a VPC endpoint) or to
run the consumer without Lambda. Library code: it prints nothing; decision lines go to an
injected ``emit`` and counters come back in a :class:`~sqsidem.worker.model.WorkerStats`.

- ``model``: clients, options and stats of a run;
- ``config``: the consumer settings and processor a run uses (deployed function + flags);
- ``preflight``: the queue's facts and the check that no mapping competes with us;
- ``poller``: long-polling threads, processing threads and the run's end (``run_worker``);
- ``state``: the counters and stop state the threads share;
- ``event``: a received message as the Lambda SQS event record, and the Lambda-like context;
- ``batch``: one received batch while its units (message groups) run;
- ``deleter``: the thread that deletes what the batches acknowledged;
- ``heartbeat``: keeps a slow batch invisible and its locks owned;
- ``run``: a run for a stack, as ``sqsidem worker`` asks for it; the first SIGINT/SIGTERM
  stops it gracefully, a second aborts (:func:`sqsidem.interrupt.until_stopped`).
"""
