"""The realism layer's SQS and DynamoDB behaviours (mixed into :class:`tests.realism.Realism`):
deleted queues that still answer, late queue attributes, short polls, DELETING tables, TTL."""

from __future__ import annotations

from typing import Any

from tests.realism_parts import TTL_TOO_OFTEN, Answer, Ghost, error, last, ok


class StorageBehaviours:
    """Queues and tables. Uses the host's ``_state``, ``_now``, ``_note``, ``_bypass``."""

    # -- queues -----------------------------------------------------------------------
    def _queue_ghost(self, url: str) -> Ghost | None:
        ghost = self._state.queues.get(last(url, "/"))
        if ghost is None or ghost.data["url"] != url or self._now() >= ghost.until:
            return None
        return ghost

    def _delete_queue(self, client: Any, params: dict[str, Any]) -> Answer | None:
        url = str(params["QueueUrl"])
        if self._queue_ghost(url) is not None:
            return ok({})
        b = self.behaviours
        if not (b.queue_ghost_s or b.queue_reuse_s):
            return None
        with self._bypass():
            attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
            tags = client.list_queue_tags(QueueUrl=url).get("Tags", {})
        data = {"url": url, "attributes": attributes.get("Attributes", {}), "tags": dict(tags)}
        now = self._now()
        ghost = Ghost(data, now + (b.queue_ghost_s or 0), now + (b.queue_reuse_s or 0))
        self._state.queues[last(url, "/")] = ghost
        return None

    def _get_queue_url(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        ghost = self._state.queues.get(str(params["QueueName"]))
        if ghost is not None and self._now() < ghost.until:
            self._note("queue-ghost", "GetQueueUrl")
            return ok({"QueueUrl": ghost.data["url"]})
        return None

    def _get_queue_attributes(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        ghost = self._queue_ghost(str(params["QueueUrl"]))
        if ghost is None:
            return None
        self._note("queue-ghost", "GetQueueAttributes")
        return ok({"Attributes": dict(ghost.data["attributes"])})

    def _list_queue_tags(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        ghost = self._queue_ghost(str(params["QueueUrl"]))
        return None if ghost is None else ok({"Tags": dict(ghost.data["tags"])})

    def _tag_queue(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        ghost = self._queue_ghost(str(params["QueueUrl"]))
        if ghost is None:
            return None
        ghost.data["tags"].update(params.get("Tags", {}))
        return ok({})

    def _create_queue(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        ghost = self._state.queues.get(str(params["QueueName"]))
        if ghost is not None and self._now() < ghost.reuse_until:
            self._note("queue-reuse", "CreateQueue")
            return error(
                "AWS.SimpleQueueService.QueueDeletedRecently",
                "You must wait 60 seconds after deleting a queue before you can create "
                "another queue with the same name.",
            )
        return None

    def _queue_made(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        del parsed
        self._state.queues.pop(str(params["QueueName"]), None)

    def _set_queue_attributes(self, client: Any, params: dict[str, Any]) -> Answer | None:
        url, delay = str(params["QueueUrl"]), self.behaviours.attribute_lag_s
        if not delay or self._queue_ghost(url) is not None:
            return None
        with self._bypass():
            now = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        old = {k: now[k] for k in params.get("Attributes", {}) if k in now}
        self._state.lagging[url] = (old, self._now() + delay)
        return None

    def _stale(self, url: str) -> dict[str, str]:
        old, until = self._state.lagging.get(url, ({}, 0.0))
        return old if self._now() < until else {}

    def _attributes_seen(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        stale = self._stale(str(params["QueueUrl"]))
        if stale and "Attributes" in parsed:
            self._note("attribute-lag", "GetQueueAttributes")
            parsed["Attributes"].update(stale)

    def _receive(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        rate = self.behaviours.short_poll_empty_rate
        if rate <= 0 or int(params.get("WaitTimeSeconds", 0)) > 0:
            return None
        if self._rand.random() >= rate:
            return None
        self._note("short-poll-empty", "ReceiveMessage")
        return ok({})

    # -- tables -----------------------------------------------------------------------
    def _table_ghost(self, name: str) -> Ghost | None:
        ghost = self._state.tables.get(name)
        return ghost if ghost is not None and self._now() < ghost.until else None

    def _delete_table(self, client: Any, params: dict[str, Any]) -> Answer | None:
        name, delay = str(params["TableName"]), self.behaviours.table_deleting_s
        if self._table_ghost(name) is not None:
            return error("ResourceInUseException", f"Table is being deleted: {name}")
        if not delay:
            return None
        with self._bypass():
            table = client.describe_table(TableName=name)["Table"]
            ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            tags = client.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags", [])
        data = {"table": {**table, "TableStatus": "DELETING"}, "ttl": ttl, "tags": tags}
        self._state.tables[name] = Ghost(data, self._now() + delay)
        return None

    def _table_read(self, params: dict[str, Any], key: str, part: str) -> Answer | None:
        name = str(params.get("TableName") or last(str(params.get("ResourceArn")), "/"))
        ghost = self._table_ghost(name)
        if ghost is None:
            return None
        self._note("table-deleting", key)
        return ok({key: ghost.data[part]})

    def _create_table(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        name = str(params["TableName"])
        if self._table_ghost(name) is not None:
            self._note("table-deleting", "CreateTable")
            return error("ResourceInUseException", f"Table is being deleted: {name}")
        return None

    def _table_made(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        del parsed
        self._state.tables.pop(str(params["TableName"]), None)
        self._state.ttl_changed_at.pop(str(params["TableName"]), None)

    def _update_ttl(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        name, interval = str(params["TableName"]), self.behaviours.ttl_interval_s
        last = self._state.ttl_changed_at.get(name)
        if interval and last is not None and self._now() < last + interval:
            self._note("ttl-once-per-hour", "UpdateTimeToLive")
            return error("ValidationException", TTL_TOO_OFTEN)
        return None

    def _ttl_changed(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        del parsed
        self._state.ttl_changed_at[str(params["TableName"])] = self._now()
