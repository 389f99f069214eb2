"""The script editor of the Script tab (`pane.ScriptPane`): highlighting,
diagnostics and a Problems list, completion and docs for the job script API
(from its one declaration, `resources/script_api/job_api.pyi`), signature
help, hover, find / replace, go to line and the editing keys.

This package's own import loads nothing: its completion helper process
(`assist_server`) starts without Qt."""
