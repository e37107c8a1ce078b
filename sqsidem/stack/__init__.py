"""Provisioning: desired resources -> observe -> plan (pure data) -> apply; teardown; status.

One module per resource kind (observe / create / update / delete), a pure planner
(:mod:`.planner`), an executor that applies a plan in dependency order (:mod:`.executor`),
and the entry points the CLI calls (:mod:`.setup`, :mod:`.teardown`, :mod:`.status`).
"""
