"""`sqsidem demo`: the tour on the embedded backend.

``tour`` says what is sent and why; ``settle`` waits until every message found its place;
``run`` is the one service call the command makes; ``demo_processor`` is the processing
code the demo stack deploys.
"""
