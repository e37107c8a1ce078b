"""sqsidem: operate an idempotent SQS FIFO -> Lambda -> DynamoDB pipeline."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sqsidem")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
