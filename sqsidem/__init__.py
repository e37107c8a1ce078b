"""sqsidem: operate an idempotent SQS FIFO -> Lambda -> DynamoDB pipeline."""

# The one place the version is written: pyproject.toml reads it from here (setuptools'
# dynamic ``attr``), so `sqsidem --version` needs no importlib.metadata (a third of its
# start-up, issue 11).
__version__ = "0.1.0"
