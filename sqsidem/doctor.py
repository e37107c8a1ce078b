"""Probes for `sqsidem doctor`: short timeouts, no retries, in parallel."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqsidem.aws import Aws
from sqsidem.errors import explain
from sqsidem.jsondata import fields

PROBE_CONNECT_TIMEOUT_S = 2.0
PROBE_READ_TIMEOUT_S = 5.0

# service label -> (client name, cheap read-only call)
PROBES: dict[str, tuple[str, Callable[[Any], object]]] = {
    "sts": ("sts", lambda c: c.get_caller_identity()),
    "sqs": ("sqs", lambda c: c.list_queues(MaxResults=1)),
    "lambda": ("lambda", lambda c: c.list_functions(MaxItems=1)),
    "dynamodb": ("dynamodb", lambda c: c.list_tables(Limit=1)),
    "iam": ("iam", lambda c: c.list_roles(MaxItems=1)),
    "kms": ("kms", lambda c: c.list_keys(Limit=1)),
    "logs": ("logs", lambda c: c.describe_log_groups(limit=1)),
    "sns": ("sns", lambda c: c.list_topics()),
    "cloudwatch": ("cloudwatch", lambda c: c.describe_alarms(MaxRecords=1)),
}


@dataclass(frozen=True)
class Probe:
    service: str
    ok: bool
    detail: str
    latency_ms: int | None = None


@dataclass
class DoctorReport:
    region: str
    endpoint: str
    credentials: str | None
    account: str | None = None
    arn: str | None = None
    probes: list[Probe] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return len(self.probes) == len(PROBES) and all(probe.ok for probe in self.probes)

    @property
    def failures(self) -> list[Probe]:
        return [probe for probe in self.probes if not probe.ok]

    def context_lines(self) -> list[tuple[str, str]]:
        return [
            ("account", self.account or "unknown"),
            ("identity", self.arn or "unknown"),
            ("region", self.region),
            ("endpoint", self.endpoint),
            ("credentials", self.credentials or "none found"),
        ]

    def as_dict(self) -> dict[str, object]:
        who = fields(self, "ok", "account", "arn", "region", "endpoint", "credentials")
        checks = [fields(p, "service", "ok", "detail", "latency_ms") for p in self.probes]
        return {**who, "checks": checks}


def _probe(aws: Aws, service: str) -> tuple[Probe, object]:
    client_name, call = PROBES[service]
    start = time.monotonic()
    try:
        answer = call(aws.client(client_name))
    except Exception as exc:
        return Probe(service, False, explain(exc).line), None
    latency = int((time.monotonic() - start) * 1000)
    return Probe(service, True, f"answers ({latency} ms)", latency), answer


def run_checks(aws: Aws) -> DoctorReport:
    probing = aws.with_options(
        max_attempts=1,
        connect_timeout=PROBE_CONNECT_TIMEOUT_S,
        read_timeout=PROBE_READ_TIMEOUT_S,
    )
    report = DoctorReport(
        region=probing.region,
        endpoint=probing.endpoint_url or f"AWS public endpoints ({probing.region})",
        credentials=probing.credential_source(),
    )
    if report.credentials is None:
        report.probes.append(
            Probe(
                "credentials",
                False,
                "none found: set AWS_PROFILE, run `aws configure`, or use --local",
            )
        )
        return report
    # Who am I first: when that fails (dead endpoint, bad credentials) the rest would only
    # repeat the same failure nine times.
    identity, answer = _probe(probing, "sts")
    report.probes.append(identity)
    if not identity.ok:
        return report
    if isinstance(answer, dict):
        report.account = answer.get("Account")
        report.arn = answer.get("Arn")
    others = [service for service in PROBES if service != "sts"]
    # Build the clients first: botocore's client creation is not thread-safe on one session.
    for service in others:
        probing.client(PROBES[service][0])
    with ThreadPoolExecutor(max_workers=len(others)) as pool:
        report.probes.extend(probe for probe, _ in pool.map(lambda s: _probe(probing, s), others))
    return report
