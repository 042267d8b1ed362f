// The arithmetic of a list of numbers edited in place (site_templates/static/edits.js).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const Edits = require("../../site_templates/static/edits.js");

const scores = { min: -10, max: 10, step: 0.1 };

test("snap keeps a value on the step grid, within bounds, without binary noise", () => {
  assert.equal(Edits.snap(6.4 + 0.1, scores), 6.5);        // 6.500000000000001 in floating point
  assert.equal(Edits.snap(0.1 + 0.2, scores), 0.3);
  assert.equal(Edits.snap(3.14159, scores), 3.1);
  assert.equal(Edits.snap(12, scores), 10);
  assert.equal(Edits.snap(-11, scores), -10);
  assert.equal(Edits.snap(7, { min: 0, max: 100, step: 5 }), 5);
  assert.equal(Edits.snap(0.126, { min: 0, max: 1, step: 0.25 }), 0.25);
});

test("valueAt maps a pointer's x across the track from min to max, clamped at both ends", () => {
  assert.equal(Edits.valueAt(150, 100, 200, scores), -5);   // a quarter of the way along
  assert.equal(Edits.valueAt(200, 100, 200, scores), 0);
  assert.equal(Edits.valueAt(300, 100, 200, scores), 10);
  assert.equal(Edits.valueAt(10, 100, 200, scores), -10);   // left of the track
  assert.equal(Edits.valueAt(999, 100, 200, scores), 10);   // right of it
  assert.equal(Edits.valueAt(123.4, 100, 200, scores), -7.7);
  assert.equal(Edits.valueAt(150, 100, 0, scores), null);   // a track not laid out
});

test("keyed: arrows step, Shift and Page keys step ten times further, Home and End go to the ends", () => {
  assert.equal(Edits.keyed(6.4, "ArrowRight", false, scores), 6.5);
  assert.equal(Edits.keyed(6.4, "ArrowUp", false, scores), 6.5);
  assert.equal(Edits.keyed(6.4, "ArrowLeft", false, scores), 6.3);
  assert.equal(Edits.keyed(6.4, "ArrowDown", false, scores), 6.3);
  assert.equal(Edits.keyed(6.4, "ArrowRight", true, scores), 7.4);
  assert.equal(Edits.keyed(6.4, "ArrowLeft", true, scores), 5.4);
  assert.equal(Edits.keyed(6.4, "PageUp", false, scores), 7.4);
  assert.equal(Edits.keyed(6.4, "PageDown", false, scores), 5.4);
  assert.equal(Edits.keyed(6.4, "Home", false, scores), -10);
  assert.equal(Edits.keyed(6.4, "End", false, scores), 10);
  assert.equal(Edits.keyed(9.95, "ArrowRight", true, scores), 10);   // never past the end
  assert.equal(Edits.keyed(6.4, "Tab", false, scores), null);
  assert.equal(Edits.keyed(6.4, "a", false, scores), null);
  assert.equal(Edits.keyed(6.4, "toString", false, scores), null);
});

test("the list travels as text, and one entry is replaced in a copy", () => {
  const list = Edits.parse("9,6.4,-0.5");
  assert.deepEqual(list, [9, 6.4, -0.5]);
  assert.deepEqual(Edits.parse(" "), []);
  const changed = Edits.replaced(list, 1, 7);
  assert.equal(Edits.text(changed), "9,7,-0.5");
  assert.deepEqual(list, [9, 6.4, -0.5]);
});

test("specOf reads a field's data attributes, and refuses what makes no range", () => {
  assert.deepEqual(Edits.specOf({ min: "-10.0", max: "10.0", step: "0.1" }), scores);
  assert.equal(Edits.specOf({ min: "1", max: "1", step: "0.1" }), null);
  assert.equal(Edits.specOf({ min: "0", max: "1", step: "0" }), null);
  assert.equal(Edits.specOf({ min: "0", max: "1" }), null);
});
