"""sqsidem: operate an idempotent SQS FIFO -> Lambda -> DynamoDB pipeline."""

from __future__ import annotations

# The version comes from the package metadata, read only when asked for: importing
# importlib.metadata costs a tenth of `sqsidem --help`'s start-up (issue 11).


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("sqsidem")
        except PackageNotFoundError:  # running from a source tree that was never installed
            return "0+unknown"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
