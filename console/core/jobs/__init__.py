"""Jobs and their runs, as records: the jobs themselves (`job_store`), when
each is due (`timing`), its retry policy (`retry_policy`), the run records
with their logs and the lease that keeps one job from running twice
(`runs`), who owns a run (`owners`), a JavaScript script's syntax check
(`js_syntax`) and unsaved script drafts (`drafts`).

May import: `tables`, `config`, `store` and the leaves. Nothing here runs
a script or decides when: that is `running` and `scheduling`.
"""
