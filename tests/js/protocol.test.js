// The message protocol (site_templates/static/protocol.js): one table, checked on both ends.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const Protocol = require("../../site_templates/static/protocol.js");

test("message builds a message whose type names it", () => {
  const render = Protocol.message("render", { id: "0:1", widget: "temperature", state: { t: "1" } });
  assert.deepEqual(render, { type: "render", id: "0:1", widget: "temperature", state: { t: "1" } });
  assert.equal(Protocol.problem(render, "page", "worker"), null);
});

test("message leaves out optional fields and refuses a missing one", () => {
  assert.deepEqual(Protocol.message("stage", { stage: "starting" }), { type: "stage", stage: "starting" });
  assert.throws(() => Protocol.message("render", { id: "0:1", widget: "temperature" }),
                { message: "A render message needs state." });
});

test("message refuses a field or a type the protocol does not list", () => {
  assert.throws(() => Protocol.message("render", { id: 1, widget: "w", state: {}, code: "import os" }),
                { message: "A render message has no field code." });
  assert.throws(() => Protocol.message("eval", { source: "1" }), { message: 'There is no message of type "eval".' });
});

test("problem names a message sent the wrong way", () => {
  const view = { type: "view", id: "0:1", html: "", summary: "", state: {} };
  assert.equal(Protocol.problem(view, "worker", "page"), null);
  assert.equal(Protocol.problem(view, "page", "worker"), 'No message of type "view" goes from page to worker.');
  assert.equal(Protocol.problem({ type: "toString" }, "page", "worker"),
               'No message of type "toString" goes from page to worker.');
});

test("problem refuses what is not an object", () => {
  for (const data of [null, "render", 3, undefined]) {
    assert.match(Protocol.problem(data, "page", "worker"), /^A message must be an object/);
  }
});

test("every message goes between two of the three parties, and lists its fields once", () => {
  const parties = new Set(["page", "worker", "download"]);
  for (const [type, spec] of Object.entries(Protocol.MESSAGES)) {
    assert.ok(parties.has(spec.from) && parties.has(spec.to) && spec.from !== spec.to, type);
    const names = spec.fields.map((f) => f.replace(/\?$/, ""));
    assert.equal(new Set(names).size, names.length, type);
    assert.ok(!names.includes("type"), type);
  }
});

test("a reader's render has a timeout, and the page restarts a dead worker a bounded number of times", () => {
  assert.ok(Protocol.RENDER_TIMEOUT_MS > 0);
  assert.ok(Number.isInteger(Protocol.RESTARTS) && Protocol.RESTARTS >= 1);
});
