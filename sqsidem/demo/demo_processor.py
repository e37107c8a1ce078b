"""The demo's processing code, shipped in the function's zip as ``sqsidem_processor.py``.

It does what the tutorial's handler does with a record (prints it) and rejects a poison
message every time, so the demo can show a message travelling to the dead-letter queue.
Standard library only: it runs inside the function.
"""

from __future__ import annotations

import json
from typing import Any


def process(record: dict[str, Any]) -> None:
    try:
        body = json.loads(record.get("body") or "")
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("poison"):
        raise ValueError("poison message: this processor always rejects it")
    print(json.dumps({"processed": record.get("messageId"), "body": body}, ensure_ascii=False))
