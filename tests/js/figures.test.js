// The page's decisions about one figure (site_templates/static/figures.js), run by Node's own
// test runner: `node --test tests/js/` (tests/test_js_units.py runs it with the other tests).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const Figures = require("../../site_templates/static/figures.js");

// A slider from 0 to 10 in steps of 1, as the browser's stepUp/stepDown would move it.
const step = (name, value, n) => String(Math.min(10, Math.max(0, Number(value) + n)));
const at = (value, example = "peaked") => ({ example, t: String(value) });
const viewFor = (id, state) => ({ type: "view", id, html: "<p>" + state.t + "</p>", summary: "t=" + state.t, state: {} });
const asks = (effects) => effects.filter((e) => e.do === "ask");
const askedValues = (effects) => asks(effects).map((e) => e.state.t);

// A figure whose first render (for t=5) has been answered: live, with that view kept.
function liveFigure() {
  let [record, effects] = Figures.start(Figures.create(0, "temperature", at(5)), at(5));
  [record] = Figures.answer(record, viewFor(effects[0].id, at(5)), step);
  return record;
}

// The reader moves the slider to `value`: the page tells the record which slider, then what it wants.
function slide(record, value) {
  return Figures.want(Figures.moved(record, "t", value), at(value), step);
}

test("create: a figure starts static, with nothing kept or asked", () => {
  const record = Figures.create(2, "top_p", at(1));
  assert.equal(record.live, false);
  assert.equal(record.views.size, 0);
  assert.equal(record.asked.size, 0);
});

test("start asks for the first render of the state the controls show", () => {
  const [record, effects] = Figures.start(Figures.create(3, "top_p", at(4)), at(4));
  assert.deepEqual(effects, [{ do: "ask", id: "3:1", widget: "top_p", state: at(4), why: "first" }]);
  assert.equal(Figures.busy(record), false);      // not the reader's request: no aria-busy
});

test("answer to the first render: the figure goes live and keeps that view", () => {
  const [started, [first]] = Figures.start(Figures.create(0, "temperature", at(5)), at(5));
  const view = viewFor(first.id, at(5));
  const [record, effects] = Figures.answer(started, view, step);
  assert.deepEqual(effects, [{ do: "live" }]);   // the built view stays: nothing is shown
  assert.equal(record.live, true);
  assert.equal(record.views.get(Figures.keyOf(at(5))), view);
});

test("answer to the first render that is not a view: the figure is broken, not live", () => {
  const [started, [first]] = Figures.start(Figures.create(0, "faulty", at(5)), at(5));
  const [record, effects] = Figures.answer(started, { type: "error", id: first.id, message: "no numpy" }, step);
  assert.deepEqual(effects, [{ do: "broken", message: "no numpy" }]);
  assert.equal(record.live, false);
  assert.deepEqual(Figures.want(record, at(6), step), [record, []]);
});

test("want before the figure is live does nothing", () => {
  const record = Figures.create(0, "temperature", at(5));
  assert.deepEqual(Figures.want(record, at(6), step), [record, []]);
});

test("a step back to the first state is shown from the page, with no request", () => {
  let record = liveFigure();
  let effects;
  [record, effects] = slide(record, 6);
  assert.deepEqual(askedValues(effects), ["6"]);
  [record, effects] = Figures.answer(record, viewFor(effects[0].id, at(6)), step);
  assert.deepEqual(askedValues(effects), ["7", "8"]);   // 5, one step back, is kept already
  [record, effects] = slide(record, 5);
  assert.deepEqual(effects.map((e) => e.do), ["show", "ask", "ask"]);
  assert.equal(effects[0].message.summary, "t=5");
  assert.deepEqual(askedValues(effects), ["4", "3"]);   // now moving down; 6 is kept
});

test("a new state is asked for, and the reader's request makes the figure busy", () => {
  const [record, effects] = slide(liveFigure(), 7);
  assert.deepEqual(effects, [{ do: "ask", id: "0:2", widget: "temperature", state: at(7), why: "reader" }]);
  assert.equal(Figures.busy(record), true);
});

test("a drag waits for the request in flight and keeps only its latest state", () => {
  let [record, effects] = slide(liveFigure(), 6);
  const first = effects[0];
  [record, effects] = slide(record, 7);
  assert.deepEqual(effects, []);
  [record, effects] = slide(record, 9);
  assert.deepEqual(effects, []);
  assert.deepEqual(record.queued, at(9));
  // The answer for 6 shows on the way to 9 (nothing later is shown), then 9 is asked; 7 never.
  [record, effects] = Figures.answer(record, viewFor(first.id, at(6)), step);
  assert.deepEqual(effects.map((e) => e.do), ["show", "ask"]);
  assert.equal(effects[0].message.summary, "t=6");
  assert.deepEqual(askedValues(effects), ["9"]);
  assert.equal(record.queued, null);
});

test("a state already on its way is not asked again", () => {
  let [record, effects] = slide(liveFigure(), 6);
  [record, effects] = Figures.answer(record, viewFor(effects[0].id, at(6)), step);   // asks 7, 8 ahead
  const ahead = asks(effects).find((e) => e.state.t === "7");
  [record, effects] = slide(record, 7);
  assert.deepEqual(effects, []);                      // drawn ahead, not answered yet: wait for it
  [record, effects] = Figures.answer(record, viewFor(ahead.id, at(7)), step);
  assert.equal(effects[0].do, "show");
  assert.equal(effects[0].message.summary, "t=7");
});

test("a view drawn ahead is kept, not shown, while the reader stays", () => {
  let [record, effects] = slide(liveFigure(), 6);
  [record, effects] = Figures.answer(record, viewFor(effects[0].id, at(6)), step);
  const ahead = asks(effects)[0];
  [record, effects] = Figures.answer(record, viewFor(ahead.id, ahead.state), step);
  assert.deepEqual(effects, []);
  assert.ok(record.views.has(Figures.keyOf(ahead.state)));
});

test("an answer never replaces a view the reader has moved past", () => {
  let [record, effects] = slide(liveFigure(), 6);
  const slow = effects[0];
  [record, effects] = slide(record, 5);               // back to the kept first view, shown at once
  assert.equal(effects[0].do, "show");
  [record, effects] = Figures.answer(record, viewFor(slow.id, at(6)), step);
  assert.deepEqual(effects.filter((e) => e.do === "show"), []);
  assert.ok(record.views.has(Figures.keyOf(at(6))));  // kept for later all the same
});

test("a refused value shows its message, and is not kept", () => {
  let [record, effects] = Figures.want(liveFigure(), { example: "peaked", t: "abc" }, step);
  const invalid = { type: "invalid", id: effects[0].id, param: "t", message: "Takes a number." };
  [record, effects] = Figures.answer(record, invalid, step);
  assert.deepEqual(effects, [{ do: "show", message: invalid }]);
  assert.equal(record.views.has(Figures.keyOf({ example: "peaked", t: "abc" })), false);
});

test("drawing ahead follows the slider down, and stops at the end of its range", () => {
  let [record, effects] = slide(liveFigure(), 4);
  [record, effects] = Figures.answer(record, viewFor(effects[0].id, at(4)), step);
  assert.deepEqual(askedValues(effects), ["3", "2"]);   // 5, one step back up, is kept
  [record, effects] = slide(record, 0);
  [record, effects] = Figures.answer(record, viewFor(effects[0].id, at(0)), step);
  assert.deepEqual(askedValues(effects), ["1"]);        // nothing below 0; one step back up
});

test("no drawing ahead before a slider has moved", () => {
  let [record, effects] = Figures.want(liveFigure(), { example: "flat", t: "5" }, step);   // a radio
  [record, effects] = Figures.answer(record, viewFor(effects[0].id, { t: "5" }), step);
  assert.deepEqual(asks(effects), []);
});

// Only "t" is a slider here: the page's stepper gives any other control's value back.
const sliderT = (name, value, n) => (name === "t" ? step(name, value, n) : value);

test("first steps: one step either way of each slider, none for other controls or past the end", () => {
  let [record, effects] = Figures.firstSteps(liveFigure(), at(5), sliderT);
  assert.deepEqual(asks(effects).map((e) => [e.state, e.why]), [[at(6), "ahead"], [at(4), "ahead"]]);
  assert.equal(Figures.busy(record), false);          // drawn ahead: the figure is not busy
  [record, effects] = Figures.answer(record, viewFor(effects[0].id, at(6)), sliderT);
  assert.deepEqual(effects, []);                      // kept, not shown: the reader is still at 5
  assert.ok(record.views.has(Figures.keyOf(at(6))));
  [, effects] = Figures.firstSteps(record, at(5), sliderT);
  assert.deepEqual(askedValues(effects), []);         // 6 is kept and 4 on its way: not asked again
  const atEnd = Figures.firstSteps(liveFigure(), at(10), sliderT)[1];
  assert.deepEqual(askedValues(atEnd), ["9"]);
});

test("first steps: none for a figure that is not live, or while the reader waits for a view", () => {
  const still = Figures.create(0, "temperature", at(5));
  assert.deepEqual(Figures.firstSteps(still, at(5), sliderT), [still, []]);
  const [waiting] = slide(liveFigure(), 7);            // the reader's request is in flight
  assert.deepEqual(Figures.firstSteps(waiting, at(7), sliderT), [waiting, []]);
});

test("moved: the direction is from the state set before, and carries over to another slider", () => {
  let record = Figures.moved(liveFigure(), "t", "3");
  assert.deepEqual(record.slider, { name: "t", direction: -1 });
  record = Figures.moved(record, "t", "6");
  assert.deepEqual(record.slider, { name: "t", direction: 1 });
  record = Figures.moved(Figures.moved(record, "t", "3"), "top_k", "40");   // no top_k before
  assert.deepEqual(record.slider, { name: "top_k", direction: -1 });
});

test("at most KEPT_VIEWS views are kept, the oldest dropped first", () => {
  let record = liveFigure();                            // keeps t=5
  for (let i = 0; i < Figures.KEPT_VIEWS; i++) {
    const state = { example: "peaked", t: "x" + i };
    let effects;
    [record, effects] = Figures.want(record, state, step);
    [record] = Figures.answer(record, viewFor(effects[0].id, state), step);
  }
  assert.equal(record.views.size, Figures.KEPT_VIEWS);
  assert.equal(record.views.has(Figures.keyOf(at(5))), false);
  assert.equal(record.views.has(Figures.keyOf({ example: "peaked", t: "x0" })), true);
});

test("a dead worker's reader request is made again once the figure is live again", () => {
  let [record, effects] = slide(liveFigure(), 6);
  record = Figures.stop(record);
  assert.equal(record.live, false);
  assert.equal(record.lost, true);
  [record, effects] = Figures.start(record, at(6));      // the new worker first draws what the controls show
  assert.deepEqual(effects.map((e) => [e.state, e.why]), [[at(6), "first"]]);
  [record, effects] = Figures.answer(record, viewFor(effects[0].id, at(6)), step);
  assert.deepEqual(effects, [{ do: "live" }, { do: "redraw" }]);   // the page wants its controls' state again
  assert.equal(record.lost, false);
  [record, effects] = Figures.want(record, at(6), step);
  assert.deepEqual(effects.map((e) => e.do), ["show", "ask", "ask"]);   // just drawn: shown with no request
  assert.equal(effects[0].message.summary, "t=6");
  assert.deepEqual(askedValues(effects), ["7", "8"]);
});

test("after a restart with no request lost, nothing is drawn again", () => {
  const [record, effects] = Figures.start(Figures.stop(liveFigure()), at(5));
  assert.deepEqual(Figures.answer(record, viewFor(effects[0].id, at(5)), step)[1], [{ do: "live" }]);
});

test("a queued state is lost with a dead worker too", () => {
  let [record] = slide(liveFigure(), 6);
  [record] = slide(record, 7);
  record = Figures.stop(record);
  assert.equal(record.queued, null);
  assert.equal(record.lost, true);
});

test("views drawn ahead die with a worker without being asked again", () => {
  let [record, effects] = slide(liveFigure(), 6);
  [record] = Figures.answer(record, viewFor(effects[0].id, at(6)), step);   // 7 and 8 in flight
  assert.equal(record.asked.size, 2);
  record = Figures.stop(record);
  assert.equal(record.lost, false);
  assert.equal(record.asked.size, 0);
});

test("an answer to a request this record did not make changes nothing", () => {
  const record = liveFigure();
  assert.deepEqual(Figures.answer(record, viewFor("1:9", at(6)), step), [record, []]);
});

test("a decision returns a new record and leaves the one it was given as it was", () => {
  const record = liveFigure();
  const views = [...record.views.keys()];
  const [next] = slide(record, 6);
  assert.notEqual(next, record);
  assert.equal(record.asked.size, 0);
  assert.equal(record.changes, 0);
  assert.deepEqual([...record.views.keys()], views);
  assert.ok(Object.isFrozen(next));
});
