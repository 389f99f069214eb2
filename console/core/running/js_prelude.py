# ruff: noqa: E501  (JavaScript source; its lines are as long as they read best)
"""The JavaScript side of a JavaScript job's run: the portal's server-script
globals (`tables`, `require('request')`, `require('mobileservice-config')`,
`console`, timers), evaluated in the engine before the script.

Nothing here does input or output. Every table operation, HTTP request and
log line is queued as a plain object; the script host (`js_host.py`) takes
the queue after each turn of the loop (`__mc.drain()`), does the work in
Python and hands the results back (`__mc.settle(...)`), which calls the
script's callbacks: Node's event loop, driven from Python.
"""

PRELUDE = r"""
(function (global) {
  "use strict";
  const MAX_SAFE = Number.MAX_SAFE_INTEGER;
  let ops = [];
  const waiting = new Map();   // callback id -> what to call back
  let nextId = 1;
  const timers = new Map();    // timer id -> {fn, args, ms, repeat, due, ref}
  let nextTimer = 1;
  const origins = new Map();   // a double beyond 2^53 -> the digits it was parsed from
  const precision = new Map(); // "in|field" -> how many times
  let config = {};
  let rejected;

  function send(op) { ops.push(op); }
  function hold(what) { const id = nextId++; waiting.set(id, what); return id; }

  // -- numbers beyond 2^53 ------------------------------------------------
  function note(direction, field, exact, value) {
    const key = direction + "|" + field;
    const seen = precision.get(key) || 0;
    precision.set(key, seen + 1);
    if (seen === 0) {
      send({t: "precision", direction: direction, field: String(field),
            exact: exact === undefined ? null : String(exact), js: String(value)});
    }
  }
  const parse = JSON.parse;
  JSON.parse = function (text, reviver) {
    // An integer beyond 2^53 has at least 16 digits; most texts have none.
    if (typeof text !== "string" || !/\d{16}/.test(text)) {
      return parse.call(JSON, text, reviver);
    }
    return parse.call(JSON, text, function (key, value, context) {
      if (typeof value === "number" && Math.abs(value) > MAX_SAFE + 1 && context &&
          /^-?\d+$/.test(context.source)) {
        origins.set(value, context.source);
        // Beside an exact "<key>_str" (Twitter's id_str), the script has the
        // digits: it is warned only if it sends the number on (outgoing).
        if (this[key + "_str"] !== context.source) note("in", key, context.source, value);
      }
      return reviver ? reviver.call(this, key, value, context) : value;
    });
  };
  // What crosses to Python: JSON, with a Date and a BigInt tagged (a string
  // starting with \u0001, then D or B) so that they arrive as a datetime and
  // an exact int. toJSON rather than a replacer
  // function: JSON.stringify then runs at native speed (a replacer made a
  // 200,000-insert turn twice as slow); the script's own toJSON for Date is
  // back in place before any of its code runs again.
  const dateToJSON = Object.getOwnPropertyDescriptor(Date.prototype, "toJSON");
  function taggedDate() { return isNaN(this.getTime()) ? null : "\u0001D" + this.toISOString(); }
  function taggedBigInt() { return "\u0001B" + this.toString(); }
  function serialize(value) {
    const bigIntToJSON = Object.getOwnPropertyDescriptor(BigInt.prototype, "toJSON");
    const tag = {configurable: true, writable: true, enumerable: false};
    Object.defineProperty(Date.prototype, "toJSON", Object.assign({value: taggedDate}, tag));
    Object.defineProperty(BigInt.prototype, "toJSON", Object.assign({value: taggedBigInt}, tag));
    try {
      return JSON.stringify(value);
    } finally {
      Object.defineProperty(Date.prototype, "toJSON", dateToJSON);
      if (bigIntToJSON) {
        Object.defineProperty(BigInt.prototype, "toJSON", bigIntToJSON);
      } else {
        delete BigInt.prototype.toJSON;
      }
    }
  }
  function incoming(row) {
    for (const key in row) {
      const value = row[key];
      if (value !== null && typeof value === "object" && typeof value["$date"] === "string") {
        row[key] = new Date(value["$date"]);
      }
    }
    return row;
  }

  // -- console ------------------------------------------------------------
  function inspect(value) {
    if (typeof value === "string") return value;
    if (value === undefined) return "undefined";
    if (typeof value === "function") return "[Function" + (value.name ? ": " + value.name : "") + "]";
    if (value instanceof Error) return value.stack || String(value);
    if (typeof value === "symbol" || typeof value === "bigint") return String(value);
    try {
      const text = JSON.stringify(value);
      return text === undefined ? String(value) : text;
    } catch (e) {
      return String(value);
    }
  }
  function format(args) {
    if (args.length === 0) return "";
    let next = 1;
    let out;
    if (typeof args[0] === "string") {
      out = args[0].replace(/%[sdifjoO%]/g, function (m) {
        if (m === "%%") return "%";
        if (next >= args.length) return m;
        const a = args[next++];
        switch (m) {
          case "%s": return (typeof a === "object" && a !== null) ? inspect(a) : String(a);
          case "%d": return (typeof a === "object" && a !== null) ? "NaN" : String(Number(a));
          case "%i": return String(parseInt(a, 10));
          case "%f": return String(parseFloat(a));
          case "%j":
            try { return JSON.stringify(a); } catch (e) { return "[Circular]"; }
          default: return inspect(a);
        }
      });
    } else {
      out = inspect(args[0]);
    }
    for (; next < args.length; next++) out += " " + inspect(args[next]);
    return out;
  }
  function logger(level) {
    return function () { send({t: "log", level: level, msg: format(Array.from(arguments))}); };
  }
  global.console = {
    log: logger("information"), info: logger("information"), debug: logger("information"),
    warn: logger("warning"), error: logger("error"),
  };

  // -- timers ---------------------------------------------------------------
  class Timeout {
    constructor(id) { this._id = id; }
    ref() { const t = timers.get(this._id); if (t) t.ref = true; return this; }
    unref() { const t = timers.get(this._id); if (t) t.ref = false; return this; }
    hasRef() { const t = timers.get(this._id); return !!(t && t.ref); }
    [Symbol.toPrimitive]() { return this._id; }
  }
  function addTimer(fn, ms, args, repeat) {
    if (typeof fn !== "function") {
      throw new TypeError('The "callback" argument must be of type function');
    }
    ms = Number(ms);
    if (!(ms >= 1 && ms <= 2147483647)) ms = 1;  // as Node
    const id = nextTimer++;
    timers.set(id, {fn: fn, args: args, ms: ms, repeat: repeat, due: Date.now() + ms, ref: true});
    return new Timeout(id);
  }
  function clearTimer(handle) {
    if (handle !== undefined && handle !== null) timers.delete(Number(handle));
  }
  global.setTimeout = function (fn, ms, ...args) { return addTimer(fn, ms, args, false); };
  global.setInterval = function (fn, ms, ...args) { return addTimer(fn, ms, args, true); };
  global.setImmediate = function (fn, ...args) { return addTimer(fn, 0, args, false); };
  global.clearTimeout = global.clearInterval = global.clearImmediate = clearTimer;
  global.process = {env: {}, platform: "mobile-console", nextTick: function (fn, ...args) {
    queueMicrotask(function () { fn.apply(null, args); });
  }};

  // -- tables ---------------------------------------------------------------
  function callbacksOf(options) {
    options = options || {};
    return {success: typeof options.success === "function" ? options.success : null,
            error: typeof options.error === "function" ? options.error : null};
  }
  function plain(item, what) {
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      throw new TypeError(what + " needs an object");
    }
    return item;
  }
  function columns(args) {
    const out = [];
    for (const a of args) {
      if (typeof a === "function") throw new TypeError("select() with a function is not supported; give column names");
      String(a).split(",").forEach(function (c) { if (c.trim()) out.push(c.trim()); });
    }
    return out;
  }
  function count(n, what) {
    if (!Number.isInteger(n) || n < 0) throw new TypeError(what + "() needs a whole number >= 0, not " + n);
    return n;
  }
  class Query {
    constructor(table, state) {
      this._table = table;
      this._state = state || {filters: [], functions: [], ordering: [], skip: 0, take: null,
                              select: [], total: false};
    }
    _with(change) { return new Query(this._table, Object.assign({}, this._state, change)); }
    where(filter, ...args) {
      if (typeof filter === "function") {
        return this._with({functions: this._state.functions.concat([[filter, args]])});
      }
      if (filter !== null && typeof filter === "object") {
        return this._with({filters: this._state.filters.concat([Object.assign({}, filter)])});
      }
      throw new TypeError("where() takes an object or a function");
    }
    orderBy(...cols) {
      return this._with({ordering: this._state.ordering.concat(columns(cols).map(c => [c, false]))});
    }
    orderByDescending(...cols) {
      return this._with({ordering: this._state.ordering.concat(columns(cols).map(c => [c, true]))});
    }
    skip(n) { return this._with({skip: count(n, "skip")}); }
    take(n) { return this._with({take: count(n, "take")}); }
    select(...cols) { return this._with({select: columns(cols)}); }
    includeTotalCount() { return this._with({total: true}); }
    read(options) {
      const s = this._state;
      const inJs = s.functions.length > 0;  // a function filter runs here, over the rows
      const query = {filters: s.filters, ordering: s.ordering,
                     skip: inJs ? 0 : s.skip, take: inJs ? null : s.take,
                     select: inJs ? [] : s.select, total: s.total && !inJs};
      const id = hold({kind: "read", cb: callbacksOf(options), state: s});
      send({t: "read", table: this._table, query: query, id: id});
    }
  }
  function finishRead(state, rows, total) {
    rows.forEach(incoming);
    if (state.functions.length) {
      rows = rows.filter(function (row) {
        return state.functions.every(function (f) { return f[0].apply(row, f[1]); });
      });
      total = rows.length;
      rows = rows.slice(state.skip, state.take === null ? undefined : state.skip + state.take);
      if (state.select.length) {
        rows = rows.map(function (row) {
          const out = {};
          state.select.forEach(function (c) { out[c] = c in row ? row[c] : null; });
          return out;
        });
      }
    }
    if (state.total) rows.totalCount = total;
    return rows;
  }
  class Table extends Query {
    constructor(name) { super(name); }
    insert(item, options) {
      plain(item, "insert()");
      const cb = callbacksOf(options);
      const id = (cb.success || cb.error) ? hold({kind: "write", cb: cb, item: item}) : null;
      send({t: "insert", table: this._table, item: item, id: id, back: !!cb.success});
    }
    update(item, options) {
      plain(item, "update()");
      const cb = callbacksOf(options);
      const id = (cb.success || cb.error) ? hold({kind: "write", cb: cb, item: item}) : null;
      send({t: "update", table: this._table, item: item, id: id});
    }
    del(idOrItem, options) {
      const key = (idOrItem !== null && typeof idOrItem === "object") ? idOrItem.id : idOrItem;
      const cb = callbacksOf(options);
      const id = (cb.success || cb.error) ? hold({kind: "delete", cb: cb}) : null;
      send({t: "del", table: this._table, key: key, id: id});
    }
  }
  global.tables = {getTable: function (name) { return new Table(String(name)); }};

  // -- request ----------------------------------------------------------------
  function doRequest(method, options, callback) {
    if (typeof options === "string") options = {url: options};
    options = Object.assign({}, options || {});
    if (typeof callback !== "function") callback = options.callback;
    const spec = {};
    ["url", "uri", "qs", "headers", "body", "form", "json", "oauth", "timeout", "followRedirect"]
      .forEach(function (k) { if (options[k] !== undefined) spec[k] = options[k]; });
    if (spec.url === undefined && spec.uri !== undefined) spec.url = spec.uri;
    if (spec.url !== null && typeof spec.url === "object" && spec.url.href) spec.url = spec.url.href;
    spec.method = String(method || options.method || "GET").toUpperCase();
    const id = hold({kind: "http", callback: typeof callback === "function" ? callback : null,
                     json: !!spec.json});
    send({t: "http", spec: spec, id: id});
  }
  function request(options, callback) { return doRequest(null, options, callback); }
  [["get", "GET"], ["post", "POST"], ["put", "PUT"], ["patch", "PATCH"], ["head", "HEAD"],
   ["del", "DELETE"], ["delete", "DELETE"]].forEach(function (pair) {
    request[pair[0]] = function (options, callback) { return doRequest(pair[1], options, callback); };
  });

  // -- require --------------------------------------------------------------
  function settingsProxy(values, unavailable) {
    const out = Object.assign({}, values);
    Object.keys(unavailable).forEach(function (name) {
      Object.defineProperty(out, name, {enumerable: true, get: function () {
        throw new Error("app setting " + name + " is unavailable: " + unavailable[name]);
      }});
    });
    return out;
  }
  function identity(name, label) {
    if (config.unavailable && name in config.unavailable) {
      throw new Error("the " + label + " is unavailable: " + config.unavailable[name]);
    }
    if (!(name in (config.identity || {}))) {
      throw new Error("the " + label + " is not set: fill Configure > Identity or run " +
                      "`mobile-console identity twitter`");
    }
    return config.identity[name];
  }
  const missing = {
    mssql: "mssql (SQL queries): use tables.getTable(name) for the console's tables",
    push: "push (push notifications): the console sends none",
  };
  global.require = function (name) {
    if (name === "request") return request;
    if (name === "mobileservice-config") {
      const out = {appSettings: settingsProxy(config.app_settings || {}, config.unavailable || {})};
      Object.defineProperty(out, "twitterConsumerKey", {enumerable: true,
        get: function () { return identity("twitter_consumer_key", "Twitter consumer key"); }});
      Object.defineProperty(out, "twitterConsumerSecret", {enumerable: true,
        get: function () { return identity("twitter_consumer_secret", "Twitter consumer secret"); }});
      return out;
    }
    const why = missing[name] ? ": " + missing[name] + " is not available in Mobile Console" : "";
    const e = new Error("Cannot find module '" + name + "'" + why +
                        " (JavaScript jobs have 'request' and 'mobileservice-config')");
    e.code = "MODULE_NOT_FOUND";
    throw e;
  };
  Object.keys(missing).forEach(function (name) {
    Object.defineProperty(global, name, {configurable: true,
      get: function () { throw new Error(missing[name] + " is not available in Mobile Console"); },
      set: function (v) { Object.defineProperty(global, name, {value: v, writable: true, configurable: true}); }});
  });

  // -- what the host calls ----------------------------------------------------
  function settleOne(r) {
    const what = waiting.get(r.id);
    if (what === undefined) return;
    waiting.delete(r.id);
    if (what.kind === "http") {
      if (!what.callback) return;
      if (!r.ok) {
        const e = new Error(r.error);
        if (r.code) e.code = r.code;
        what.callback(e, undefined, undefined);
        return;
      }
      let body = r.response.body;
      if (what.json && typeof body === "string" && body.length) {
        try { body = JSON.parse(body); } catch (e) { /* as request: the text, unparsed */ }
      }
      r.response.body = body;
      what.callback(null, r.response, body);
      return;
    }
    if (!r.ok) {
      if (what.cb.error) { what.cb.error(new Error(r.error)); return; }
      send({t: "unhandled", error: r.error});
      return;
    }
    if (!what.cb.success) return;
    if (what.kind === "read") {
      what.cb.success(finishRead(what.state, r.rows, r.total));
    } else if (what.kind === "write") {
      what.cb.success(r.row ? Object.assign(what.item, incoming(r.row)) : what.item);
    } else {
      what.cb.success();
    }
  }
  global.__mc = {
    configure: function (c) { config = c; },
    enter: function (name) {
      if (typeof global[name] !== "function") {
        throw new ReferenceError("the script defines no function " + name + "()");
      }
      const result = global[name]();
      // An async job function: its rejection fails the run, as an uncaught
      // exception does (Node ends on an unhandled rejection).
      if (result !== null && typeof result === "object" && typeof result.then === "function") {
        result.then(undefined, function (e) { rejected = e; });
      }
    },
    rejection: function () {  // the job function's rejected promise, as V8 reports errors
      if (rejected === undefined) return "";
      const e = rejected;
      if (e instanceof Error) return String(e) + "\n" + (e.stack || "");
      return "Uncaught " + inspect(e);
    },
    drain: function () {
      if (ops.length === 0) return "";
      // Inserts without callbacks travel as one list of rows per table.
      const out = [];
      let batch = null;
      for (const op of ops) {
        if (op.t === "insert" && op.id === null) {
          if (batch === null || batch.table !== op.table) {
            batch = {t: "rows", table: op.table, items: []};
            out.push(batch);
          }
          batch.items.push(op.item);
        } else {
          batch = null;
          out.push(op);
        }
      }
      ops = [];
      return serialize(out);
    },
    settle: function (results) { results.forEach(settleOne); },
    waiting: function () { return waiting.size; },
    nextDue: function () {  // ms until the next timer that keeps the loop alive, or -1
      let due = Infinity;
      timers.forEach(function (t) { if (t.ref && t.due < due) due = t.due; });
      return due === Infinity ? -1 : Math.max(0, due - Date.now());
    },
    fireDue: function () {
      const now = Date.now();
      const ready = [];
      timers.forEach(function (t, id) { if (t.due <= now) ready.push([t.due, id, t]); });
      ready.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
      ready.forEach(function (entry) {
        const id = entry[1], t = entry[2];
        if (timers.get(id) !== t) return;  // cleared by an earlier one
        if (t.repeat) { t.due = Date.now() + t.ms; } else { timers.delete(id); }
        t.fn.apply(null, t.args);
      });
    },
    origin: function (value) {  // the digits a rounded number was parsed from, if known
      const digits = origins.get(value);
      return digits === undefined ? "" : digits;
    },
    precisionCounts: function () {
      const out = {};
      precision.forEach(function (n, key) { out[key] = n; });
      return JSON.stringify(out);
    },
  };
})(globalThis);
"""
