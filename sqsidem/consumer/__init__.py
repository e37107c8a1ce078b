"""The code zipped into the Lambda function (and run by ``sqsidem worker``).

Self-contained on purpose: stdlib + boto3/botocore only and relative imports only, because
setup ships this directory as the top-level package ``sqsidem_consumer`` (handler
``sqsidem_consumer.handler.lambda_handler``) while the CLI imports it as
``sqsidem.consumer``. Nothing is imported here so that ``sqsidem.consumer.lock`` stays cheap
for the commands that only need :func:`~.lock.derive_state`.
"""
