"""JavaScript jobs in the script host: the server-script API, Node's event
loop, and the same limits as Python jobs (real child processes, a real
SQLite file, real loopback HTTP)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from console.app import Services
from console.core.errors import ConsoleError, NotFoundError
from console.core.tables.api import open_table
from tests.integration.test_runner import log_of, make_job


def make_js(services: Services, name: str, script: str, **options: Any) -> None:
    services.jobs.create(
        name, interval=1, unit="hour", script=script, language="javascript", **options
    )


def run_js(services: Services, name: str, script: str, **options: Any) -> tuple[Any, list[str]]:
    make_js(services, name, script, **options)
    run = services.runner.run(name)
    return run, log_of(services, run.id)


class _Echo(BaseHTTPRequestHandler):
    """Answers every request with what it received, as JSON; /fail gives 503."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        status = 503 if self.path.startswith("/fail") else 200
        data = json.dumps(
            {
                "method": self.command,
                "path": self.path,
                "body": body,
                "headers": {k.lower(): v for k, v in self.headers.items()},
            }
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Echo", "yes")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def echo() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_table_calls_succeed_and_fail_through_their_callbacks(services: Services) -> None:
    services.tables.create("Items")
    run, log = run_js(
        services,
        "crud",
        """
var items = tables.getTable('Items');
function crud() {
  items.insert({name: 'a', n: 1}, {success: function (item) {
    console.log('inserted %s with id %d', item.name, item.id);
    item.n = 2;
    items.update(item, {success: function (updated) {
      console.log('updated to %d, version %d', updated.n, updated.__version);
      items.del(updated.id, {success: function () { console.log('deleted'); }});
    }});
  }});
  items.insert({name: 'b', n: 'not a number'}, {error: function (e) {
    console.log('insert error: ' + e.message);
  }});
  items.update({id: 999, n: 3}, {error: function (e) {
    console.log('update error: ' + e.message);
  }});
  items.del(999, {error: function (e) { console.log('del error: ' + e.message); }});
  items.insert({name: 'c', n: 5});
  items.insert({name: 'd', n: 6});
  setTimeout(function () {
    items.where({name: 'c'}).read({success: function (rows) {
      console.log('where object: %j', rows.map(function (r) { return r.n; }));
    }});
    items.where(function (min) { return this.n >= min; }, 6).read({success: function (rows) {
      console.log('where function: %j', rows.map(function (r) { return r.name; }));
    }});
    items.orderByDescending('n').skip(0).take(1).select('name').includeTotalCount().read({
      success: function (rows) { console.log('top %j of %d', rows, rows.totalCount); }
    });
    items.orderBy('nope').read({success: function (rows) { console.log('rows %d', rows.length); }});
    tables.getTable('Missing').read({error: function (e) {
      console.log('read error: ' + e.message);
    }});
  }, 10);
}
""",
    )
    assert run.status == "succeeded", log
    assert "inserted a with id 1" in log
    assert "updated to 2, version 2" in log
    assert "deleted" in log
    assert any(m.startswith("insert error: n holds integer values") for m in log), log
    assert any(m.startswith("update error: no row with id 999") for m in log), log
    assert any(m.startswith("del error: no row with id 999") for m in log), log
    assert "where object: [5]" in log
    assert 'where function: ["d"]' in log
    assert 'top [{"name":"d"}] of 2' in log
    assert "rows 2" in log
    assert any(m.startswith("read error: no table") for m in log), log
    assert sorted(r["name"] for r in open_table(services.tables, "Items").read()) == ["c", "d"]


def test_a_failed_write_without_callbacks_fails_the_run_but_keeps_the_others(
    services: Services,
) -> None:
    services.tables.create("Items")
    run, _log = run_js(
        services,
        "mixed",
        "var t = tables.getTable('Items');\n"
        "function mixed() { t.insert({n: 1}); t.insert({n: 'x'}); t.insert({n: 3}); }",
    )
    assert run.status == "failed"
    assert "without an error callback" in (run.error or "")
    assert sorted(r["n"] for r in open_table(services.tables, "Items").read()) == [1, 3]


def test_fire_and_forget_inserts_all_land_before_the_run_ends(services: Services) -> None:
    services.tables.create("Items")
    run, log = run_js(
        services,
        "many",
        "var t = tables.getTable('Items');\n"
        "function many() {\n"
        "  for (var i = 0; i < 500; i++) t.insert({n: i});\n"
        "  setTimeout(function () { for (var i = 500; i < 600; i++) t.insert({n: i}); }, 20);\n"
        "  var ticks = 0;\n"
        "  var timer = setInterval(function () {\n"
        "    t.insert({n: 1000 + ticks});\n"
        "    if (++ticks === 3) clearInterval(timer);\n"
        "  }, 5);\n"
        "  setTimeout(function () { console.log('never'); }, 100000).unref();\n"
        "}",
    )
    assert run.status == "succeeded", log
    assert open_table(services.tables, "Items").count() == 603
    assert run.rows_written == 603
    assert "never" not in log


def test_request_with_every_option_and_both_callback_outcomes(
    services: Services, echo: str
) -> None:
    run, log = run_js(
        services,
        "http",
        f"""
var request = require('request');
function http() {{
  request.get({{url: '{echo}/a', qs: {{q: '#x', n: 2}}, headers: {{'X-Mine': 'yes'}}}},
    function (error, response, body) {{
      var got = JSON.parse(body);
      console.log('get %d %s %s %s', response.statusCode, got.path, got.headers['x-mine'],
                  response.headers['x-echo']);
    }});
  request.post({{url: '{echo}/b', json: {{a: 1}}}}, function (error, response, body) {{
    console.log('post json %s %s', body.method, body.body);
  }});
  request.put({{url: '{echo}/c', form: {{k: 'v w'}}}}, function (error, response, body) {{
    console.log('put form %s', JSON.parse(body).body);
  }});
  request.del({{uri: '{echo}/d', body: 'raw'}}, function (error, response, body) {{
    console.log('del %s %s', JSON.parse(body).method, JSON.parse(body).body);
  }});
  request({{url: '{echo}/fail'}}, function (error, response) {{
    console.log('status %d', response.statusCode);
  }});
  request.get('http://127.0.0.1:9/nothing', function (error, response, body) {{
    console.log('error %s %s', error.code, response === undefined);
  }});
}}
""",
    )
    assert run.status == "succeeded", log
    assert "get 200 /a?q=%23x&n=2 yes yes" in log
    assert 'post json POST {"a": 1}' in log
    assert "put form k=v+w" in log
    assert "del DELETE raw" in log
    assert "status 503" in log
    assert "error ECONNREFUSED true" in log


def test_config_gives_identity_and_settings_and_secrets_are_masked(
    services: Services,
) -> None:
    services.app_settings.set_identity("key-123", "consumer-secret-456")
    services.app_settings.set("PLAIN", "hello")
    services.app_settings.set("TOKEN", "s3cr3t-token-789", secret=True)
    run, log = run_js(
        services,
        "cfg",
        "var config = require('mobileservice-config');\n"
        "function cfg() {\n"
        "  console.log('key length %d', config.twitterConsumerKey.length);\n"
        "  console.log('plain %s', config.appSettings.PLAIN);\n"
        "  console.log('secret %s / %s', config.appSettings.TOKEN, config.twitterConsumerSecret);\n"
        "  console.log('missing %s', config.appSettings.NOPE);\n"
        "}",
    )
    assert run.status == "succeeded", log
    assert "key length 7" in log
    assert "plain hello" in log
    assert "secret •••••• / ••••••" in log
    assert "missing undefined" in log
    assert not any("s3cr3t" in m or "consumer-secret" in m for m in log)


def test_console_formats_like_node(services: Services) -> None:
    run, log = run_js(
        services,
        "fmt",
        "function fmt() {\n"
        "  console.log('%s is %d years, %j, 100%%', 'Ann', 42.5, {a: [1]}, 'extra', 7);\n"
        "  console.warn('careful');\n"
        "  console.error(new Error('shown'));\n"
        "}",
    )
    assert run.status == "succeeded"
    assert 'Ann is 42.5 years, {"a":[1]}, 100% extra 7' in log
    levels = {e.message: e.level for e in services.runs.entries(run_id=run.id)}
    assert levels["careful"] == "warning"
    assert any(m.startswith("Error: shown") for m in log)


def test_an_uncaught_exception_fails_with_the_scripts_line(services: Services) -> None:
    run, log = run_js(
        services,
        "boom",
        "var x = 1;\n"
        "function helper() {\n"
        "  throw new TypeError('kaboom ' + x);\n"
        "}\n"
        "function boom() {\n"
        "  console.log('before');\n"
        "  setTimeout(helper, 1);\n"
        "}\n",
    )
    assert run.status == "failed"
    assert run.error == "TypeError: kaboom 1 (line 3)"
    assert "before" in log
    assert any("boom.js:3" in m for m in log)


@pytest.mark.parametrize(
    ("module", "named"), [("fs", "'fs'"), ("mssql", "mssql"), ("push", "push")]
)
def test_a_missing_module_fails_the_run_naming_it(
    services: Services, module: str, named: str
) -> None:
    run, _log = run_js(services, "needs", f"var m = require('{module}');\nfunction needs() {{}}")
    assert run.status == "failed"
    assert named in (run.error or "")
    assert "(line 1)" in (run.error or "")
    assert "\n" not in (run.error or "")


def test_an_endless_loop_times_out_keeping_what_it_logged(services: Services) -> None:
    services.runner.keep_warm()  # the host is ready: its seconds are the script's
    try:
        run, log = run_js(
            services,
            "spin",
            "function spin() { console.log('about to spin'); while (true) {} }",
            # V8 stops it 1 s before the runner does; the seconds before
            # leave a loaded machine time to reach the log line.
            timeout_s=6,
        )
    finally:
        services.runner.close()
    assert run.status == "timed out"
    assert run.error == "timed out after 6 s"
    assert "about to spin" in log
    assert "The script was still running when its time ran out" in log


def test_a_memory_hog_hits_the_limit(services: Services) -> None:
    run, _log = run_js(
        services,
        "hog",
        "function hog() { var a = []; while (true) a.push(new Array(1e6).fill(1.5)); }",
        memory_mb=256,
    )
    assert run.status == "failed"
    assert run.error == "ran out of memory (limit 256 MiB)"


def test_a_syntax_error_is_refused_with_the_engines_line(services: Services) -> None:
    with pytest.raises(ConsoleError, match=r"syntax error on line 2: SyntaxError: Unexpected"):
        make_js(services, "bad", "var a = 1;\nvar b = ;\n")
    with pytest.raises(NotFoundError):
        services.jobs.get("bad")
    make_js(services, "good", "function good() {}")
    with pytest.raises(ConsoleError, match=r"line 3"):
        services.jobs.set_script("good", "function good() {\n\n  return )\n}")
    assert services.jobs.get("good").script == "function good() {}"


def test_python_jobs_are_untouched(services: Services) -> None:
    services.tables.create("Py")
    make_job(services, "py", "tables.get_table('Py').insert({'n': 1})\nconsole.log('python')")
    run = services.runner.run("py")
    assert run.status == "succeeded"
    assert services.jobs.get("py").language == "python"
    assert "python" in log_of(services, run.id)
    with pytest.raises(ConsoleError, match="syntax error"):
        services.jobs.set_script("py", "function py() {}")


def test_a_warm_spare_runs_javascript_with_the_same_limits(services: Services) -> None:
    services.runner.keep_warm()
    try:
        services.tables.create("Items")
        run, log = run_js(
            services, "quick", "function quick() { tables.getTable('Items').insert({n: 1}); }"
        )
        assert run.status == "succeeded", log
        run, _ = run_js(
            services,
            "hog",
            "function hog() { var a = []; while (true) a.push(new Array(1e6).fill(1.5)); }",
            memory_mb=256,
        )
        assert run.error == "ran out of memory (limit 256 MiB)"
        make_job(services, "pyhog", "data = bytearray(2 * 1024 ** 3)", memory_mb=256)
        run = services.runner.run("pyhog")
        assert run.error == "ran out of memory (limit 256 MiB)"
    finally:
        services.runner.close()


def test_promises_and_async_functions_finish_before_the_run_ends(services: Services) -> None:
    services.tables.create("Items")
    run, log = run_js(
        services,
        "later",
        "var t = tables.getTable('Items');\n"
        "function readAll() {\n"
        "  return new Promise(function (resolve, reject) {\n"
        "    t.read({success: resolve, error: reject});\n"
        "  });\n"
        "}\n"
        "function later() {\n"
        "  Promise.resolve(5).then(function (v) { t.insert({n: v}); });\n"
        "  (async function () {\n"
        "    await new Promise(function (r) { setTimeout(r, 20); });\n"
        "    t.insert({n: 6});\n"
        "    var rows = await readAll();\n"
        "    console.log('saw %d rows', rows.length);\n"
        "  })();\n"
        "}\n",
    )
    assert run.status == "succeeded", log
    assert "saw 2 rows" in log
    assert sorted(r["n"] for r in open_table(services.tables, "Items").read()) == [5, 6]


def test_an_async_job_function_that_rejects_fails_the_run(services: Services) -> None:
    run, log = run_js(
        services,
        "broken",
        "async function broken() {\n"
        "  await new Promise(function (r) { setTimeout(r, 5); });\n"
        "  throw new RangeError('no more');\n"
        "}\n",
    )
    assert run.status == "failed"
    assert run.error == "RangeError: no more (line 3)"
    assert any("broken.js:3" in m for m in log)


def test_a_secret_printed_as_char_code_hex_or_in_pieces_is_not_in_the_log_or_database(
    services: Services, home: Path
) -> None:
    secret = "Tk9-live-4f7Qz81mWbX2"
    services.app_settings.set("TOKEN", secret, secret=True)
    run, log = run_js(
        services,
        "leak",
        "var config = require('mobileservice-config');\n"
        "function leak() {\n"
        "  var s = config.appSettings.TOKEN, hex = '';\n"
        "  for (var i = 0; i < s.length; i++) hex += s.charCodeAt(i).toString(16);\n"
        "  console.log('hex ' + hex);\n"
        "  console.log('half ' + s.slice(0, 10));\n"
        "  console.log('half ' + s.slice(10));\n"
        "  console.log('rev ' + s.split('').reverse().join(''));\n"
        "  console.log('up ' + s.toUpperCase());\n"
        "  console.log('spaced ' + s.split('').join(' '));\n"
        "  console.log('done');\n"
        "}",
    )
    assert run.status == "succeeded", log
    assert "done" in log and len(log) >= 7
    hexed = secret.encode().hex()
    for written in (hexed, secret[:10], secret[10:], secret[::-1], secret.upper()):
        assert not any(written in line for line in log)
    assert not any(" ".join(secret[:8]) in line for line in log)
    stored = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    assert hexed.encode() not in stored and secret[::-1].encode() not in stored
    assert secret[:10].encode() not in stored and secret.upper().encode() not in stored


def test_request_stops_reading_an_answer_past_max_body_mb(services: Services) -> None:
    from tests.fakes.hostile_site import HostileSite

    services.app_settings.set("MAX_BODY_MB", "1")
    with HostileSite() as site:
        run, log = run_js(
            services,
            "greedy",
            "var request = require('request');\n"
            "function greedy() {\n"
            f"  request({{url: '{site.url('/api/huge')}'}}, function (error, response, body) {{\n"
            "    console.log(error ? 'refused: ' + error.message : 'read ' + body.length);\n"
            "  });\n"
            "}\n",
        )
        sent = site.sent["/api/huge"]
    assert run.status == "succeeded", log
    assert any("refused:" in m and "larger than 1 MB (MAX_BODY_MB)" in m for m in log), log
    assert sent < 64 * 1024 * 1024  # it hung up long before the gigabyte
