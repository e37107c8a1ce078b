"""`sqsidem watch`: one stack's live picture (queue, flow, DLQ, locks, blocked FIFO groups,
recent decisions), sampled at a bounded cost per refresh; every panel degrades to
"n/a: <why>" on its own. ``sampler`` makes the calls, ``flow`` reads the decision lines,
``model`` is the snapshot (plain data, also the JSON of `watch -o json`)."""
