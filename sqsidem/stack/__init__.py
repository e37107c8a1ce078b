"""Provisioning: a registry of resource kinds -> observe -> plan (calls as data) -> apply.

:mod:`.registry` lists the kinds in dependency order; each kind module implements the one
protocol of :class:`.kind.Kind` (observe, diff, create, update, tag, delete). The pure
:mod:`.planner` turns wanted vs observed into :class:`.model.Step` s that carry their exact
calls (:mod:`.calls`); :mod:`.executor` makes those calls as planned. :mod:`.setup`,
:mod:`.status` and :mod:`.teardown` are the entry points the CLI calls; :mod:`.eventual`
holds the retries AWS's eventual consistency needs.
"""
