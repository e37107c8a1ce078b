"""The render layer, the only code that prints (STYLE habit 6).

``sink`` is the output sink (data to stdout, everything else to stderr, human or JSON),
progress bars and the summary line; ``consent`` asks before destroying data; the other
modules are the views of one feature each.
"""

from sqsidem.render.sink import (
    FAIL_MARK,
    OK_MARK,
    WARN_MARK,
    ProgressHandle,
    Renderer,
    one_line,
    to_json,
)

__all__ = ["FAIL_MARK", "OK_MARK", "WARN_MARK", "ProgressHandle", "Renderer", "one_line", "to_json"]
