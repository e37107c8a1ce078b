"""The realism layer's IAM and Lambda behaviours (mixed into :class:`tests.realism.Realism`):
roles that take a while to work, triggers passing through Creating/Updating/Deleting."""

from __future__ import annotations

from typing import Any

from tests.realism_parts import (
    IN_USE,
    NO_RECEIVE,
    ROLE_NOT_ASSUMABLE,
    Answer,
    Ghost,
    error,
    function_name,
    last,
    ok,
)


class LambdaBehaviours:
    """IAM and triggers. Uses the host's ``_state``, ``_now``, ``_note``, ``_bypass``."""

    # -- IAM --------------------------------------------------------------------------
    def _role_changed(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        del parsed
        delay = self.behaviours.iam_delay_s
        if delay:
            self._state.roles_ready_at[str(params["RoleName"])] = self._now() + delay

    def _role_not_ready(self, role_arn: str) -> bool:
        return self._now() < self._state.roles_ready_at.get(last(role_arn, "/"), 0.0)

    def _create_function(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        if self._role_not_ready(str(params.get("Role", ""))):
            self._note("iam", "CreateFunction")
            return error("InvalidParameterValueException", ROLE_NOT_ASSUMABLE)
        return None

    def _update_function(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        if "Role" in params and self._role_not_ready(str(params["Role"])):
            self._note("iam", "UpdateFunctionConfiguration")
            return error("InvalidParameterValueException", ROLE_NOT_ASSUMABLE)
        return None

    def _function_made(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        del parsed
        if "Role" in params:
            name = function_name(str(params["FunctionName"]))
            self._state.function_roles[name] = str(params["Role"])

    # -- mappings ---------------------------------------------------------------------
    def _in_transition(self, uuid: str) -> str | None:
        state, until = self._state.transitions.get(uuid, ("", 0.0))
        if self._now() < until:
            return state
        ghost = self._state.mappings.get(uuid)
        return "Deleting" if ghost is not None and self._now() < ghost.until else None

    def _busy(self, uuid: str, operation: str) -> Answer | None:
        if self._in_transition(uuid) is None:
            return None
        self._note("mapping-in-use", operation)
        return error("ResourceInUseException", IN_USE)

    def _create_mapping(self, client: Any, params: dict[str, Any]) -> Answer | None:
        function = function_name(str(params["FunctionName"]))
        role = self._state.function_roles.get(function, "")
        if role and self._role_not_ready(role):
            self._note("iam", "CreateEventSourceMapping")
            return error("InvalidParameterValueException", NO_RECEIVE)
        return self._visibility_check(client, function, str(params.get("EventSourceArn", "")))

    def _visibility_check(self, client: Any, function: str, queue_arn: str) -> Answer | None:
        """AWS compares the queue's visibility timeout (as it sees it) with the function's."""
        if not self.behaviours.attribute_lag_s or ":sqs:" not in queue_arn:
            return None
        stale = [
            old
            for url, (old, _) in self._state.lagging.items()
            if last(url, "/") == last(queue_arn, ":") and self._stale(url)
        ]
        if not stale or "VisibilityTimeout" not in stale[0]:
            return None
        with self._bypass():
            timeout = int(client.get_function_configuration(FunctionName=function)["Timeout"])
        visibility = int(stale[0]["VisibilityTimeout"])
        if visibility >= timeout:
            return None
        self._note("attribute-lag", "CreateEventSourceMapping")
        return error(
            "InvalidParameterValueException",
            f"Queue visibility timeout: {visibility} seconds is less than Function timeout: "
            f"{timeout} seconds",
        )

    def _mapping_made(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        del params
        self._transition(parsed, "Creating")

    def _mapping_updated(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        del params
        self._transition(parsed, "Updating")

    def _transition(self, parsed: dict[str, Any], state: str) -> None:
        delay = self.behaviours.mapping_transition_s
        if delay and "UUID" in parsed:
            self._state.transitions[str(parsed["UUID"])] = (state, self._now() + delay)
            parsed["State"] = state

    def _update_mapping(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        return self._busy(str(params["UUID"]), "UpdateEventSourceMapping")

    def _delete_mapping(self, client: Any, params: dict[str, Any]) -> Answer | None:
        uuid, delay = str(params["UUID"]), self.behaviours.mapping_transition_s
        busy = self._busy(uuid, "DeleteEventSourceMapping")
        if busy is not None or not delay:
            return busy
        with self._bypass():
            data = client.get_event_source_mapping(UUID=uuid)
        data.pop("ResponseMetadata", None)
        self._state.mappings[uuid] = Ghost({**data, "State": "Deleting"}, self._now() + delay)
        return None

    def _get_mapping(self, client: Any, params: dict[str, Any]) -> Answer | None:
        del client
        ghost = self._state.mappings.get(str(params["UUID"]))
        if ghost is not None and self._now() < ghost.until:
            self._note("mapping-deleting", "GetEventSourceMapping")
            return ok(dict(ghost.data))
        return None

    def _mapping_seen(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        del params
        state = self._in_transition(str(parsed.get("UUID", "")))
        if state is not None:
            parsed["State"] = state

    def _mappings_listed(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        listed = parsed.get("EventSourceMappings", [])
        for item in listed:
            self._mapping_seen(params, item)
        function = function_name(str(params.get("FunctionName", "")))
        for ghost in self._state.mappings.values():
            mine = function_name(str(ghost.data.get("FunctionArn", ""))) == function
            if mine and self._now() < ghost.until:
                listed.append(dict(ghost.data))
