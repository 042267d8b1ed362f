// One record per figure of the page, and the page's decisions about it: which reply to show, what
// to ask Python next, which views to draw ahead. Each decision is a pure function of a record and
// an event; it returns the new record and a list of effects, which widgets.js carries out (it owns
// the DOM and the worker; this file touches neither, so Node's tests run it as it is).
// A classic script for the page (it also opens from disk, where module scripts are refused), and a
// CommonJS module for Node.
const Figures = (() => {
  "use strict";

  const KEPT_VIEWS = 64;   // per figure: a drag goes back and forth over the same few states

  // Views are pure functions of the controls' state, so a view is kept by its state, as JSON
  // (the controls' names come in the form's order, so the same state gives the same key).
  const keyOf = (state) => JSON.stringify(state);

  // A figure as the page starts: its controls' state, nothing drawn, not live.
  function create(figure, widget, state) {
    return Object.freeze({
      figure,              // its index among the page's figures: ids are unique per page
      widget,
      live: false,         // Python has drawn it here once, and answers for it
      views: new Map(),    // state key -> view message, oldest first
      wanted: state,       // the state the reader set last (at first, the one it was built with)
      changes: 0,          // how many times the reader changed it
      shown: 0,            // which of those changes its view (or message) shows
      asked: new Map(),    // request id -> {key, state, why: "first" | "reader" | "ahead", change}
      sent: 0,             // requests made so far, for their ids
      queued: null,        // the reader's latest state, waiting for their request in flight
      lost: false,         // a dead worker took the reader's request: ask again once live
      slider: null,        // the slider moved last: {name, direction: +1 | -1}
    });
  }

  const with_ = (record, changes) => Object.freeze({ ...record, ...changes });
  const inFlight = (record, test) => [...record.asked.values()].some(test);
  const busy = (record) => inFlight(record, (r) => r.why === "reader");

  // Ask Python for `state`; the effect tells the page to send it.
  function ask(record, state, why) {
    const id = record.figure + ":" + (record.sent + 1);
    const asked = new Map(record.asked).set(id, { key: keyOf(state), state, why, change: record.changes });
    return [with_(record, { asked, sent: record.sent + 1 }), [{ do: "ask", id, widget: record.widget, state, why }]];
  }

  // Python (a new worker) starts: the figure's first render, for the state its controls show.
  function start(record, state) {
    return ask(with_(record, { live: false, asked: new Map(), queued: null }), state, "first");
  }

  // The worker died: its requests with it. The reader's are asked again once live.
  function stop(record) {
    const lost = record.lost || busy(record) || record.queued !== null;
    return with_(record, { live: false, asked: new Map(), queued: null, lost });
  }

  // The reader moved slider `name` to `value`: remember which slider, and which way it went from
  // the state they set before (the same way as last time if it did not move).
  function moved(record, name, value) {
    const before = Number(record.wanted[name]);
    const now = Number(value);
    const direction = now > before ? 1 : now < before ? -1 : (record.slider ? record.slider.direction : 1);
    return with_(record, { slider: { name, direction } });
  }

  function keep(views, key, view) {
    const kept = new Map(views);
    kept.delete(key);                              // the newest goes last
    kept.set(key, view);
    if (kept.size > KEPT_VIEWS) kept.delete(kept.keys().next().value);
    return kept;
  }

  // The reader changed a control to `state`: show the view kept for it, or ask for it, unless
  // it is on its way already. `step(name, value, n)` is the slider's value n steps from value.
  function want(record, state, step) {
    if (!record.live) return [record, []];
    const key = keyOf(state);
    const changed = with_(record, { wanted: state, changes: record.changes + 1 });
    const kept = record.views.get(key);
    if (kept) {
      const shown = with_(changed, { queued: null, shown: changed.changes });
      const [ahead, effects] = drawAhead(shown, state, step);
      return [ahead, [{ do: "show", message: kept }, ...effects]];
    }
    if (inFlight(record, (r) => r.key === key)) return [with_(changed, { queued: null }), []];
    if (busy(record)) return [with_(changed, { queued: state }), []];   // a drag: only its latest next
    return ask(changed, state, "reader");
  }

  // The views one and two steps on in the direction the reader moves their last slider, and one
  // step back; those kept or on their way already are not asked again. Only between the reader's
  // own requests: theirs come first.
  function drawAhead(record, state, step) {
    const slider = record.slider;
    if (!slider || !(slider.name in state) || busy(record)) return [record, []];
    const d = slider.direction;
    return askAhead(record, state, [[slider.name, d], [slider.name, 2 * d], [slider.name, -d]], step);
  }

  // Python is idle, every figure of the page has had its first render answered, and this one is
  // live: the views one step either way of each of its sliders from `state` (what its controls
  // show), so that the reader's first move of any slider shows at once. (Running Python's code
  // once more is also what makes the browser keep the code it compiled: README, "Speed".)
  function firstSteps(record, state, step) {
    if (!record.live || busy(record)) return [record, []];
    return askAhead(record, state, Object.keys(state).flatMap((name) => [[name, 1], [name, -1]]), step);
  }

  // Ask ahead for `state` moved by each [slider, steps] of `moves`; a control that is not a
  // slider, or a slider at the end of its range, does not move (step gives its value back).
  function askAhead(record, state, moves, step) {
    let next = record;
    const effects = [];
    for (const [name, n] of moves) {
      const value = step(name, state[name], n);
      if (value === state[name]) continue;
      const probe = { ...state, [name]: value };
      const key = keyOf(probe);
      if (next.views.has(key) || inFlight(next, (r) => r.key === key)) continue;
      const [asked, asks] = ask(next, probe, "ahead");
      next = asked;
      effects.push(...asks);
    }
    return [next, effects];
  }

  // Python answered request `message.id` (a view, invalid or error message).
  function answer(record, message, step) {
    const request = record.asked.get(message.id);
    if (!request) return [record, []];                         // not this figure's, or a dead worker's
    const asked = new Map(record.asked);
    asked.delete(message.id);
    const isView = message.type === "view";
    const got = with_(record, { asked, views: isView ? keep(record.views, request.key, message) : record.views });
    if (request.why === "first") return wentLive(got, message);
    const current = keyOf(record.wanted) === request.key;
    // Shown if it is the state the reader wants now, or, for the reader's own request, if no
    // later state is shown already: during a drag that outpaces Python, each answer shows on the
    // way to the latest. A view drawn ahead shows only once the reader has moved to it.
    let [next, effects] = [got, []];
    if ((current && got.shown < got.changes) || (request.why === "reader" && request.change > got.shown)) {
      next = with_(got, { shown: current ? got.changes : request.change });
      effects.push({ do: "show", message });
      if (current && isView) [next, effects] = then(drawAhead(next, request.state, step), effects);
    }
    if (request.why === "reader" && next.queued !== null) {
      [next, effects] = then(want(with_(next, { queued: null }), next.queued, step), effects);
    }
    return [next, effects];
  }

  // The first render's answer: with a view, the figure is live, and that view is kept (a step
  // back to where the reader started needs no request); otherwise Python cannot draw it here.
  // A reader's request lost with a dead worker is made again, for what the controls show now
  // ("redraw": a button's press is not pressed again); usually that is the state just drawn.
  function wentLive(record, message) {
    if (message.type !== "view") return [record, [{ do: "broken", message: message.message }]];
    const live = with_(record, { live: true, lost: false });
    return [live, record.lost ? [{ do: "live" }, { do: "redraw" }] : [{ do: "live" }]];
  }

  const then = ([record, effects], before) => [record, [...before, ...effects]];

  return Object.freeze({ KEPT_VIEWS, keyOf, create, start, stop, moved, want, answer, firstSteps, busy });
})();

if (typeof module === "object" && module.exports) module.exports = Figures;
