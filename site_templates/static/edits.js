// A list of numbers the reader edits in place, in a figure's view (the "edit" control of
// widgetkit/base.py, Numbers): the arithmetic of it, pure, so that Node's tests run it as it is.
// widgets.js owns the DOM: it finds the handles the view marks (data-edit=NAME, data-index=I),
// makes them sliders, and asks these functions what a key or a pointer position means.
// The list travels as text, the numbers separated by commas, as every control's value is text.
// A classic script for the page, and a CommonJS module for Node.
const Edits = (() => {
  "use strict";

  const BIG_STEPS = 10;   // Shift + arrow, and Page Up / Page Down

  // How many decimals a step has: 0.1 -> 1, 0.25 -> 2, 5 -> 0.
  function decimals(step) {
    const text = String(step);
    if (text.includes("e-")) return Number(text.split("e-")[1]);
    return text.includes(".") ? text.split(".")[1].length : 0;
  }

  // `value` moved to the nearest step from min, kept within [min, max], and written without
  // binary noise (6.5, not 6.500000000000001): the text Python reads back.
  function snap(value, { min, max, step }) {
    const steps = Math.round((value - min) / step);
    const snapped = Math.min(max, Math.max(min, min + steps * step));
    return Number(snapped.toFixed(decimals(step)));
  }

  // The value at pointer position `x` on a track from `left` to `left + width` (min to max).
  function valueAt(x, left, width, spec) {
    if (!(width > 0)) return null;
    const fraction = Math.min(1, Math.max(0, (x - left) / width));
    return snap(spec.min + fraction * (spec.max - spec.min), spec);
  }

  // The value after key `key` (an event's key name) on a handle at `value`; null for a key a
  // slider does not take. Shift makes an arrow's step BIG_STEPS times bigger.
  function keyed(value, key, shift, spec) {
    const big = spec.step * BIG_STEPS;
    const moves = {
      ArrowRight: shift ? big : spec.step, ArrowUp: shift ? big : spec.step,
      ArrowLeft: shift ? -big : -spec.step, ArrowDown: shift ? -big : -spec.step,
      PageUp: big, PageDown: -big,
    };
    if (key === "Home") return snap(spec.min, spec);
    if (key === "End") return snap(spec.max, spec);
    if (!Object.hasOwn(moves, key)) return null;
    return snap(value + moves[key], spec);
  }

  // The list as text ("9,6.4,-0.5"), and back; an empty text is no list (the figure's own).
  const text = (values) => values.map(String).join(",");
  const parse = (list) => (list.trim() === "" ? [] : list.split(",").map(Number));

  // The list with entry `index` set to `value` (a new array).
  function replaced(values, index, value) {
    const next = values.slice();
    next[index] = value;
    return next;
  }

  // The spec of a list from the data attributes of its field (data-min, data-max, data-step);
  // null if they do not make one.
  function specOf({ min, max, step }) {
    const spec = { min: Number(min), max: Number(max), step: Number(step) };
    const ok = Number.isFinite(spec.min) && Number.isFinite(spec.max) && spec.min < spec.max && spec.step > 0;
    return ok ? spec : null;
  }

  return Object.freeze({ BIG_STEPS, snap, valueAt, keyed, text, parse, replaced, specOf });
})();

if (typeof module === "object" && module.exports) module.exports = Edits;
