// The messages between the page (widgets.js), Python's worker (worker.js) and the download worker
// (download.js): every one of them, written once. Every message is an object whose `type` names
// it; its other fields are listed below (a name ending in "?" may be left out). Senders build
// messages with Protocol.message(), which refuses a type or field not listed here; receivers check
// them with Protocol.problem(). A classic script, so that the page can load it from disk (file://,
// where module scripts are refused), workers with importScripts, and Node's tests with require.
const Protocol = (() => {
  "use strict";

  const MESSAGES = {
    // ---- page -> Python's worker, in this order: start, page, then any number of renders.
    // Start Python. Over HTTP the snapshot and wheels come from download.js on `port`; opened from
    // disk, where a worker can fetch nothing, every runtime file comes in `files` ({name: gzip +
    // base64 text}) instead.
    start: { from: "page", to: "worker", fields: ["indexURL", "port?", "files?"] },
    // The first render of each figure, in the page's order: Python answers them one by one, the
    // reader's renders going first, and a figure is live from its first view (see "view").
    page: { from: "page", to: "worker", fields: ["renders"] },
    // Draw `widget` for this state of its controls ({name: string}). Answered by exactly one
    // view, invalid or error with the same id. `id` is the page's, any string.
    render: { from: "page", to: "worker", fields: ["id", "widget", "state"] },

    // ---- Python's worker -> page.
    // Start-up: Python's runtime is in and starting ("starting"), or it could not start ("failed",
    // with the reason in `message`; nothing is drawn after that).
    stage: { from: "worker", to: "page", fields: ["stage", "message?"] },
    // The replies to a render: widgetkit.handle's own answer, passed on as it is.
    // The view, and the state it hands back for the controls (hidden ones included).
    view: { from: "worker", to: "page", fields: ["id", "html", "summary", "state"] },
    // A value the widget refuses: `param` names the control ("" if none), `message` says why.
    invalid: { from: "worker", to: "page", fields: ["id", "param", "message"] },
    // The view failed, or the request was not one the worker takes (`id` null if it had none).
    error: { from: "worker", to: "page", fields: ["id", "message"] },

    // ---- page -> download worker, over HTTP only: fetch the snapshot and wheels that indexURL's
    // lock names, and deliver them on `port` (the other end is Python's worker's).
    download: { from: "page", to: "download", fields: ["indexURL", "port"] },

    // ---- download worker -> Python's worker, on that port, in this order (from disk, start-up
    // makes the same deliveries itself). `bytes` is the unzipped heap snapshot, or null if the site
    // has none; `files` holds each wheel's files as [[path, bytes], ...].
    snapshot: { from: "download", to: "worker", fields: ["bytes"] },
    wheels: { from: "download", to: "worker", fields: ["files"] },
    // Instead of either, if anything failed; the download worker then closes.
    failed: { from: "download", to: "worker", fields: ["message"] },
  };

  // A reader's render unanswered this long means a dead worker: the page ends it and starts
  // another, at most RESTARTS times, then says Python failed. Renders drawn ahead and the first
  // renders have no timeout: they wait behind start-up, which on a slow connection takes minutes.
  const RENDER_TIMEOUT_MS = 20000;
  const RESTARTS = 2;

  const required = (spec) => spec.fields.filter((f) => !f.endsWith("?"));
  const allowed = (spec) => spec.fields.map((f) => f.replace(/\?$/, ""));

  // What is wrong with `data` as a message from `from` to `to`, as a sentence; null if nothing.
  function problem(data, from, to) {
    if (data === null || typeof data !== "object") return "A message must be an object; got " + String(data) + ".";
    const spec = Object.hasOwn(MESSAGES, data.type) ? MESSAGES[data.type] : null;
    if (!spec || spec.from !== from || spec.to !== to) {
      return "No message of type " + JSON.stringify(data.type) + " goes from " + from + " to " + to + ".";
    }
    const missing = required(spec).filter((f) => !(f in data));
    if (missing.length) return "A " + data.type + " message needs " + missing.join(", ") + ".";
    const extra = Object.keys(data).filter((f) => f !== "type" && !allowed(spec).includes(f));
    if (extra.length) return "A " + data.type + " message has no field " + extra.join(", ") + ".";
    return null;
  }

  // The message `type` with these fields; a mistake in our own code throws at once.
  function message(type, fields) {
    const spec = MESSAGES[type];
    const made = { type, ...fields };
    const wrong = spec ? problem(made, spec.from, spec.to) : "There is no message of type " + JSON.stringify(type) + ".";
    if (wrong) throw new Error(wrong);
    return made;
  }

  return Object.freeze({ MESSAGES, RENDER_TIMEOUT_MS, RESTARTS, problem, message });
})();

if (typeof module === "object" && module.exports) module.exports = Protocol;
