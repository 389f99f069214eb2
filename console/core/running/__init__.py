"""Running one job: the supervisor that starts a child per run, streams
its log and records its end (`runner`), the child's own side (`script_host`
with the globals of `script_api`, `js_host` and `js_prelude` for
JavaScript, `http_redirects` for its requests), and what keeps the child
contained: its process group (`host_process`), its whole tree ending with
the supervisor (`process_tree`), pre-forked hosts (`fork_server`) and output
read in bounded memory (`bounded_lines`).

May import: `jobs`, `tables`, `config`, `store` and the leaves. It never
decides when a job runs: that is `scheduling`.
"""
