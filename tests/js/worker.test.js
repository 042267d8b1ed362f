// Python's worker as a message loop (site_templates/static/worker.js), run in a bare context
// with start-up and widgets.handle stood in for: every request gets exactly one reply.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");
const Protocol = require("../../site_templates/static/protocol.js");

const SOURCE = fs.readFileSync(path.join(__dirname, "../../site_templates/static/worker.js"), "utf8");

// A worker whose Python starts (or fails to, with `failure`) when told, and whose handle echoes
// a view of the state it is given. Returns what it posts and a way to send it messages.
function makeWorker({ failure = null } = {}) {
  const posted = [];
  const marks = [];
  let finishStart = null;
  const handle = (json) => {
    const request = JSON.parse(json);
    if (request.widget === "crash") throw new Error("Traceback\nZeroDivisionError: division by zero");
    return JSON.stringify({ id: request.id, type: "view", html: "<p></p>", summary: request.widget, state: {} });
  };
  const Startup = {
    startPython: (start, report) => new Promise((resolve, reject) => {
      finishStart = () => { report("starting"); if (failure) reject(new Error(failure)); else resolve(handle); };
    }),
  };
  const self = { postMessage: (message) => posted.push(message) };
  const context = vm.createContext({ self, Startup, Protocol, performance: { mark: (name) => marks.push(name) },
                                     setTimeout, importScripts: () => assert.fail("nothing to import") });
  vm.runInContext(SOURCE, context);
  const send = (data) => self.onmessage({ data });
  return { posted, marks, send, start: () => finishStart() };
}

// Wait until `done()` holds (the worker yields between figures with setTimeout), or fail.
async function until(done, what) {
  for (const deadline = Date.now() + 5000; !done();) {
    if (Date.now() > deadline) assert.fail("the worker never " + what);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
const flush = () => new Promise((resolve) => setImmediate(resolve));   // every pending promise job
const render = (id, widget = "temperature") => Protocol.message("render", { id, widget, state: {} });

test("renders are answered once Python has started, each by its id", async () => {
  const worker = makeWorker();
  worker.send(Protocol.message("start", { indexURL: "x/" }));
  worker.send(render("0:2"));
  await flush();
  assert.deepEqual(worker.posted, []);                     // Python is not there yet
  worker.start();
  await until(() => worker.posted.length === 2, "answered");
  assert.deepEqual(worker.posted.map((m) => [m.type, m.stage || m.id]), [["stage", "starting"], ["view", "0:2"]]);
  for (const message of worker.posted) assert.equal(Protocol.problem(message, "worker", "page"), null);
});

test("the page's first renders are answered in order, and marked", async () => {
  const worker = makeWorker();
  worker.send(Protocol.message("start", { indexURL: "x/" }));
  worker.send(Protocol.message("page", { renders: [render("0:1", "a"), render("1:1", "b"), { id: "2:1" }] }));
  worker.start();
  await until(() => worker.marks.length === 2, "finished the page");
  assert.deepEqual(worker.posted.slice(1).map((m) => [m.type, m.id]), [["view", "0:1"], ["view", "1:1"], ["error", "2:1"]]);
  assert.deepEqual(worker.marks, ["python:first-figure", "python:all-figures"]);
});

test("a view that raises is an error reply naming the exception, not a dead worker", async () => {
  const worker = makeWorker();
  worker.send(Protocol.message("start", { indexURL: "x/" }));
  worker.start();
  worker.send(render("0:3", "crash"));
  await until(() => worker.posted.length === 2, "answered");
  const reply = worker.posted.at(-1);
  assert.equal(reply.type, "error");
  assert.equal(reply.id, "0:3");
  assert.match(reply.message, /ZeroDivisionError: division by zero/);
});

test("messages out of order or not in the protocol get an error reply at once", () => {
  const worker = makeWorker();
  worker.send(render("0:1"));
  worker.send({ type: "exec", id: 7, code: "import os" });
  worker.send(null);
  worker.send(Protocol.message("start", { indexURL: "x/" }));
  worker.send(Protocol.message("start", { indexURL: "x/" }));
  worker.send(Protocol.message("page", { renders: "all of them" }));
  assert.deepEqual(worker.posted.map((m) => [m.type, m.id]),
                   [["error", "0:1"], ["error", 7], ["error", null], ["error", null], ["error", null]]);
  assert.equal(worker.posted[0].message, "Python's worker needs its start message first.");
  assert.equal(worker.posted[3].message, "Python's worker is started once.");
  assert.equal(worker.posted[4].message, "A page message's renders must be a list.");
});

test("if Python cannot start, the page is told once and every render still gets a reply", async () => {
  const worker = makeWorker({ failure: "pyodide.asm.wasm: HTTP 404" });
  worker.send(Protocol.message("start", { indexURL: "x/" }));
  worker.send(Protocol.message("page", { renders: [render("0:1")] }));
  worker.start();
  worker.send(render("0:2"));
  await until(() => worker.posted.length === 4, "answered");
  assert.deepEqual(worker.posted.map((m) => [m.type, m.stage || m.id]),
                   [["stage", "starting"], ["stage", "failed"], ["error", "0:1"], ["error", "0:2"]]);
  assert.equal(worker.posted[1].message, "pyodide.asm.wasm: HTTP 404");
});
