// Python's worker: the protocol loop (the messages: protocol.js). It owns Pyodide, which
// startup.js starts, and runs only widgetkit.handle(), which draws registered widgets; it never runs
// code sent by the page. Every render gets exactly one reply: a view, invalid or error.
//
// The page sends "start" first, then "page": the first render of each figure, which go live one
// by one in the page's order, each drawn once for the state its controls show (that imports its
// widget's module and whatever its view needs: numpy for the first, the language model only for
// its own figure). The reader's renders go first: they are answered between two of these.
// Over HTTP this file is the worker's script; from disk the page builds the worker from
// offline/runtime.js, which holds Pyodide's scripts and ours, this file last.
"use strict";

if (typeof Startup === "undefined") importScripts("protocol.js", "startup.js");

let python = null;   // widgetkit.handle, once start-up has it (a promise, from the start message on)

function post(message) {
  self.postMessage(message);
}

self.onmessage = ({ data }) => {
  const wrong = Protocol.problem(data, "page", "worker") || refused(data);
  if (wrong) {
    post(Protocol.message("error", { id: idOf(data), message: wrong }));
  } else if (data.type === "start") {
    python = Startup.startPython(data, (stage) => post(Protocol.message("stage", { stage })));
    python.catch((error) => post(Protocol.message("stage", { stage: "failed", message: String(error && error.message || error) })));
  } else if (data.type === "page") {
    python.then((handle) => goLive(handle, data.renders), () => data.renders.forEach(notStarted));
  } else {
    python.then((handle) => post(render(handle, data)), () => notStarted(data));
  }
};

const idOf = (data) => (data && data.id !== undefined ? data.id : null);

// What the table of messages cannot say: their order, and that a page's renders are a list.
function refused(data) {
  if (data.type === "start") return python ? "Python's worker is started once." : null;
  if (!python) return "Python's worker needs its start message first.";
  return data.type === "page" && !Array.isArray(data.renders) ? "A page message's renders must be a list." : null;
}

function notStarted(request) {
  post(Protocol.message("error", { id: request.id, message: "Python could not start." }));
}

// Draw each figure of the page once, in order; the reply tells the page it is live (a view) or
// that it cannot be drawn here (then it keeps the view it was built with).
async function goLive(handle, renders) {
  for (let figure = 0; figure < renders.length; figure++) {
    const request = renders[figure];
    const wrong = Protocol.problem(request, "page", "worker") ||
      (request.type === "render" ? null : "A figure's first message must be a render.");
    post(wrong ? Protocol.message("error", { id: idOf(request), message: wrong }) : render(handle, request));
    if (figure === 0) performance.mark("python:first-figure");
    await new Promise((resolve) => setTimeout(resolve, 0));   // the reader's renders first
  }
  performance.mark("python:all-figures");
}

// widgetkit.handle's reply, which is already a view, invalid or error message of the protocol.
function render(handle, request) {
  try {
    return JSON.parse(handle(JSON.stringify(request)));
  } catch (error) {
    return Protocol.message("error", { id: request.id, message: "Python failed: " + String(error.message || error).split("\n").slice(-2).join(" ") });
  }
}
