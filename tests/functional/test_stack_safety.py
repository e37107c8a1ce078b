"""Setup is safe against itself and teardown shows what it would destroy (issue 13, items
4 and 5), on moto: pending keys, the alias race, unaliased keys, the --force refusal."""

from __future__ import annotations

import io
import json
import threading

import pytest
from typer.testing import CliRunner, Result

from sqsidem.aws import Aws
from sqsidem.cli.app import app
from sqsidem.errors import Aborted, Interrupted, SqsidemError
from sqsidem.names import names_for
from sqsidem.render.sink import Renderer
from sqsidem.render.stack import TeardownView
from sqsidem.retry import Pacing, instant
from sqsidem.stack.contents import count_live_locks
from sqsidem.stack.executor import apply, run_call
from sqsidem.stack.kind import TeardownOptions
from sqsidem.stack.model import Plan, Step
from sqsidem.stack.options import SetupOptions
from sqsidem.stack.setup import Planned, plan_setup, prepare, run_setup
from sqsidem.stack.teardown import plan_teardown, run_teardown, teardown_stack
from tests.support_locks import completed, in_progress, now_ms, put_all
from tests.support_stack import leftovers, live_stack_keys

STACK = "k9"
NAMES = names_for(STACK)


def planned(aws: Aws) -> Planned:
    return plan_setup(aws, prepare(NAMES, SetupOptions()))


def setup(aws: Aws) -> None:
    run_setup(aws, planned(aws), pacing=instant())


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["--stack", STACK, *args])


def test_a_key_left_pending_by_an_interrupted_run_is_adopted_not_doubled(moto_aws: Aws) -> None:
    """CreateKey made, then the run died before CreateAlias: the next run aliases that key."""
    first = planned(moto_aws).plan.steps[0]
    run_call(moto_aws, first.calls[0], {}, instant())  # only the key's CreateKey ran
    [pending] = live_stack_keys(moto_aws, STACK)
    assert pending.pending

    again = planned(moto_aws).plan
    step = again.step("key")
    assert step is not None and step.action == "update", step
    assert [c.operation for c in step.calls] == ["CreateAlias", "UntagResource"]
    assert step.calls[0].params["TargetKeyId"] == pending.key_id
    run_setup(moto_aws, planned(moto_aws), pacing=instant())

    [key] = live_stack_keys(moto_aws, STACK)
    assert key.key_id == pending.key_id and not key.pending
    aliased = moto_aws.kms.describe_key(KeyId=NAMES.key_alias)["KeyMetadata"]["KeyId"]
    assert aliased == key.key_id
    assert planned(moto_aws).plan.converged


def test_a_replacement_key_left_pending_takes_over_the_alias(moto_aws: Aws) -> None:
    """The aliased key was disabled; the run replacing it died after CreateKey: the next run
    points the alias at that key (no third key), and teardown schedules both."""
    setup(moto_aws)
    old = moto_aws.kms.describe_key(KeyId=NAMES.key_alias)["KeyMetadata"]["KeyId"]
    moto_aws.kms.disable_key(KeyId=old)
    replacing = planned(moto_aws).plan.step("key")
    assert replacing is not None and replacing.action == "replace"
    made = run_call(moto_aws, replacing.calls[0], {}, instant())["KeyMetadata"]["KeyId"]

    step = planned(moto_aws).plan.step("key")
    assert step is not None and step.action == "update", step
    assert [
        (c.operation, c.params["KeyId" if c.operation == "UntagResource" else "TargetKeyId"])
        for c in step.calls
    ] == [("UpdateAlias", made), ("UntagResource", made)]
    setup(moto_aws)
    assert moto_aws.kms.describe_key(KeyId=NAMES.key_alias)["KeyMetadata"]["KeyId"] == made
    assert {k.key_id for k in live_stack_keys(moto_aws, STACK)} == {old, made}
    run_teardown(moto_aws, NAMES, plan_teardown(moto_aws, NAMES), pacing=instant())
    assert set(leftovers(moto_aws, STACK).values()) == {0}


def test_the_run_that_loses_the_alias_race_schedules_its_key_and_stops(moto_aws: Aws) -> None:
    """Two runs planned from nothing; the second to alias deletes its own key, says so."""
    first, second = planned(moto_aws), planned(moto_aws)
    run_setup(moto_aws, first, pacing=instant())
    with pytest.raises(SqsidemError, match="another setup of this stack got there first"):
        run_setup(moto_aws, second, pacing=instant())
    [key] = live_stack_keys(moto_aws, STACK)
    assert key.key_id == moto_aws.kms.describe_key(KeyId=NAMES.key_alias)["KeyMetadata"]["KeyId"]
    assert planned(moto_aws).plan.converged


def test_a_create_that_finds_its_name_taken_is_one_clear_line(moto_aws: Aws) -> None:
    """Another run made the role between our reading and our create: no raw ClientError."""
    role = planned(moto_aws).plan.step("role")
    assert role is not None and role.action == "create"
    setup(moto_aws)
    with pytest.raises(SqsidemError) as caught:
        apply(moto_aws, Plan(STACK, (role,)), pacing=instant())
    line = caught.value.one_line()
    assert line.startswith("role k9-sqs-receive-role was created by someone else"), line
    assert "another setup of stack 'k9'" in line and "run setup again" in line


def test_a_table_made_meanwhile_is_not_waited_for(moto_aws: Aws) -> None:
    """CreateTable's "Table already exists" is another run's table, not one being deleted."""
    table = planned(moto_aws).plan.step("table")
    assert table is not None and table.action == "create"
    setup(moto_aws)
    with pytest.raises(SqsidemError, match=r"table Idempotent-k9 was created by someone else"):
        apply(moto_aws, Plan(STACK, (table,)), pacing=Pacing(sleep=_no_wait))


def _no_wait(seconds: float) -> None:
    raise AssertionError(f"waited {seconds} s for a table another run made")


def test_teardown_schedules_every_key_tagged_for_the_stack(moto_aws: Aws) -> None:
    """Keys no alias names (a lost race, an interrupt) are scheduled too; none is left."""
    setup(moto_aws)
    stray = moto_aws.kms.create_key(Tags=[{"TagKey": "sqsidem:stack", "TagValue": STACK}])[
        "KeyMetadata"
    ]["KeyId"]
    other = moto_aws.kms.create_key(Tags=[{"TagKey": "sqsidem:stack", "TagValue": "else"}])
    assert len(live_stack_keys(moto_aws, STACK)) == 2
    plan = plan_teardown(moto_aws, NAMES)
    assert any(i.name == stray and i.action == "delete" for i in plan.items)
    run_teardown(moto_aws, NAMES, plan, pacing=instant())
    assert leftovers(moto_aws, STACK) == dict.fromkeys(
        ("keys", "queues", "tables", "roles", "functions", "mappings"), 0
    )
    other_state = moto_aws.kms.describe_key(KeyId=other["KeyMetadata"]["KeyId"])
    assert other_state["KeyMetadata"]["KeyState"] == "Enabled"


def _fill(aws: Aws) -> None:
    """3 messages in the queue, 1 in the DLQ, one live lock among finished and stale ones."""
    for name, count in ((NAMES.queue, 3), (NAMES.dlq, 1)):
        url = aws.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        for n in range(count):
            aws.sqs.send_message(
                QueueUrl=url, MessageBody="{}", MessageGroupId="g", MessageDeduplicationId=f"d{n}"
            )
    items = [in_progress("live", 600), in_progress("stale", -60), completed("done")]
    put_all(aws, items, NAMES.table)


def test_teardown_refuses_without_force_and_shows_the_counts(moto_aws: Aws) -> None:
    """--yes answers the question only: messages and a live lock refuse (exit 1), in JSON too."""
    setup(moto_aws)
    _fill(moto_aws)
    refused = run("-o", "json", "teardown", "--yes")
    assert refused.exit_code == 1, refused.stderr
    error = refused.stderr.strip().splitlines()[-1]
    assert error.startswith("error: stack 'k9' still holds "), error
    for part in ("3 message(s) in k9-queue.fifo", "1 message(s) in k9-queue-dlq.fifo"):
        assert part in error
    assert "1 in-progress lock(s)" in error and "--force" in error
    shown = json.loads(refused.stdout)
    assert shown["refused"] is True and shown["deleted"] == []
    assert shown["contents"] == {
        "queue_messages": 3,
        "dlq_messages": 1,
        "in_progress_locks": 1,
        "in_progress_locks_at_least": False,
    }
    assert moto_aws.sqs.get_queue_url(QueueName=NAMES.queue)  # nothing was deleted

    human = run("teardown", "--yes")
    assert human.exit_code == 1
    assert "queue      3 message(s)" in human.stdout and "locks      1 in-progress" in human.stdout

    forced = run("teardown", "--yes", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert "--force: teardown destroys 3 message(s) in k9-queue.fifo" in forced.stderr
    assert leftovers(moto_aws, STACK)["queues"] == 0


def test_an_empty_stack_needs_no_force(moto_aws: Aws) -> None:
    """Finished locks and empty queues lose nothing: --yes is enough, the counts are 0."""
    setup(moto_aws)
    put_all(moto_aws, [completed("done"), in_progress("stale", -60)], NAMES.table)
    down = run("-o", "json", "teardown", "--yes")
    assert down.exit_code == 0, down.stderr
    contents = json.loads(down.stdout)["contents"]
    assert (contents["queue_messages"], contents["in_progress_locks"]) == (0, 0)


def test_a_kept_table_keeps_its_locks_so_they_do_not_refuse(moto_aws: Aws) -> None:
    """--keep-table: the locks stay, so they are neither counted nor a reason to refuse."""
    setup(moto_aws)
    put_all(moto_aws, [in_progress("live", 600)], NAMES.table)
    assert run("teardown", "--yes").exit_code == 1
    kept = run("-o", "json", "teardown", "--yes", "--keep-table")
    assert kept.exit_code == 0, kept.stderr
    assert json.loads(kept.stdout)["contents"]["in_progress_locks"] is None


def test_a_capped_lock_count_is_a_floor(moto_aws: Aws) -> None:
    setup(moto_aws)
    put_all(moto_aws, [in_progress(f"l{n}", 600) for n in range(5)], NAMES.table)
    assert count_live_locks(moto_aws, NAMES.table, now_ms()) == (5, False)
    assert count_live_locks(moto_aws, NAMES.table, now_ms(), limit=2) == (5, True)


def test_a_stop_between_steps_ends_setup_and_teardown_with_what_was_done(moto_aws: Aws) -> None:
    """The step in flight finishes, none starts after it; a re-run finishes, nothing twice."""
    stop = threading.Event()

    def stop_after_first(step: Step, phase: str) -> None:
        if phase == "done":
            stop.set()

    fresh = planned(moto_aws)
    total = len(fresh.plan.mutating)
    result = run_setup(moto_aws, fresh, pacing=instant(), on_step=stop_after_first, stop=stop)
    assert len(result.applied) == 1 and len(result.not_done) == total - 1
    with pytest.raises(Interrupted) as caught:
        result.check()
    assert caught.value.one_line().startswith(f"interrupted: 1 of {total} steps done; not done: ")
    assert "dlq k9-queue-dlq.fifo" in caught.value.one_line()
    setup(moto_aws)
    assert len(live_stack_keys(moto_aws, STACK)) == 1 and planned(moto_aws).plan.converged

    stop.clear()
    plan = plan_teardown(moto_aws, NAMES)
    items = len(plan.to_delete)

    def stop_now(_item: object, phase: str) -> None:
        if phase == "done":
            stop.set()

    stopped = run_teardown(moto_aws, NAMES, plan, pacing=instant(), on_item=stop_now, stop=stop)
    with pytest.raises(Interrupted) as caught:
        stopped.check()
    said = caught.value.one_line()
    assert said.startswith(f"interrupted: 1 of {items} steps done; not done: topic "), said
    run_teardown(moto_aws, NAMES, plan_teardown(moto_aws, NAMES), pacing=instant())
    assert set(leftovers(moto_aws, STACK).values()) == {0}


def test_the_question_says_what_would_be_destroyed(
    moto_aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person at the terminal, with --force: the counts are in the question; "n" keeps all."""
    setup(moto_aws)
    _fill(moto_aws)
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    out, err = io.StringIO(), io.StringIO()
    view = TeardownView(Renderer(stdout=out, stderr=err, interactive=True), yes=False)
    how = TeardownOptions(force=True)
    with pytest.raises(Aborted, match="not confirmed"):
        teardown_stack(lambda: moto_aws, NAMES, how, view)
    asked = err.getvalue()
    assert "Delete 10 resource(s) of stack k9, destroying 3 message(s) in k9-queue.fifo, " in asked
    assert "1 message(s) in k9-queue-dlq.fifo, 1 in-progress lock(s)? [y/n]" in asked
    assert "locks      1 in-progress lock(s)" in out.getvalue()
    assert leftovers(moto_aws, STACK)["queues"] == 2
