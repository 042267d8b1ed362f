// Page glue: starts the Python worker, sends each widget's control state, shows the views.
// All drawing is done by Python (widgetkit.handle); this file only moves messages and text.
// Protocol: the top of worker.js. Contract for tests: data-widget, data-stage = static|loading|ready|failed.
"use strict";

(function () {
  const roots = Array.from(document.querySelectorAll("[data-widget]"));
  if (roots.length === 0) return;

  // Relative to this script, not to the page, so any page depth and any sub-path work.
  const SCRIPT_URL = document.currentScript.src;
  // Opened from disk, the browser refuses workers and fetch() for file URLs: see bundledWorker.
  const FROM_DISK = location.protocol === "file:";
  const STAGE_TEXT = {
    downloading: "Downloading Python\u2026",
    unpacking: "Unpacking Python from this folder\u2026",
    starting: "Starting Python\u2026",
    ready: "Live: computed by Python in your browser.",
    failed: "Python could not start, so this figure stays as it was built",
    broken: "Python could not draw this figure here, so it stays as it was built.",
  };
  const LOADING = new Set(["downloading", "unpacking", "starting"]);   // all "loading" for tests
  const REQUEST_TIMEOUT_MS = 20000;
  const MAX_RESTARTS = 2;
  const pending = new Map();       // request id -> {root, key, state, early}: sent, not answered
  const queued = new Map();        // widget root -> latest state waiting to be sent
  const wantedKey = new Map();     // widget root -> key of the state its controls show
  const changes = new Map();       // widget root -> how many times the reader changed it
  const shownChange = new Map();   // widget root -> the change whose view it shows
  const drawn = new Map();         // widget root -> Map(state key -> view reply), oldest first
  const KEPT_VIEWS = 64;           // per figure
  const lastSlider = new Map();    // widget root -> the range input the reader moved last
  const direction = new Map();     // widget root -> +1 or -1: which way it moved last
  const lastValue = new Map();     // widget root -> that slider's value then
  let worker = null;
  let downloader = null;
  const live = new Set();          // the widget roots Python has drawn once and now answers for
  let restarts = 0;
  const redraw = new Set();       // widgets whose request a dead worker took with it
  let nextId = 1;

  // A stage for every figure, or (figure given) for one: each goes live on its own (worker.js).
  function setStage(stage, detail, figure) {
    const contractStage = LOADING.has(stage) ? "loading" : stage;
    for (const root of figure === undefined ? roots : [roots[figure]]) {
      if (!root) continue;
      if (contractStage === "ready") live.add(root);
      else live.delete(root);
      root.dataset.stage = contractStage;
      root.querySelector(".stage").textContent = figure !== undefined && stage === "failed"
        ? STAGE_TEXT.broken : STAGE_TEXT[stage] + (detail ? ": " + detail + "." : "");
      root.querySelector(".controls-set").disabled = contractStage !== "ready";
    }
  }

  // Chromium gives scripts "" for a number box holding what is not a number ("1e", "--"), as for
  // an empty one, which an optional setting takes as "off". Such a box sends NOT_A_NUMBER instead,
  // which Python refuses with the control's own message.
  const NOT_A_NUMBER = "not a number";

  function stateOf(root, submitter) {
    const form = root.querySelector("form");
    const state = {};
    for (const [name, value] of new FormData(form, submitter || null)) state[name] = value;
    for (const input of form.querySelectorAll('input[type="number"]')) {
      if (input.name && input.validity.badInput) state[input.name] = NOT_A_NUMBER;
    }
    return state;
  }

  // Views are pure functions of the controls' state, so a view drawn once is kept (by the state's
  // JSON), and the views one slider step either side of the reader's are drawn ahead, while the
  // reader looks: a slider moved a step is answered at once, from the page (README, "Speed").
  const keyOf = (state) => JSON.stringify(state);
  const inFlight = (root, test) => [...pending.values()].some((r) => r.root === root && test(r));

  // The reader changed a control: show the view for the new state, kept or asked for.
  function want(root, state) {
    if (!live.has(root)) return;
    const key = keyOf(state);
    wantedKey.set(root, key);
    changes.set(root, (changes.get(root) || 0) + 1);
    const kept = drawn.get(root) && drawn.get(root).get(key);
    if (kept) {
      queued.delete(root);
      show(root, kept, changes.get(root));
      drawAhead(root, state);
    } else if (inFlight(root, (r) => r.key === key)) {
      queued.delete(root);                                  // on its way already
    } else {
      send(root, state, false);
    }
  }

  function send(root, state, early) {
    if (!live.has(root)) return;
    if (!early && inFlight(root, (r) => !r.early)) {
      queued.set(root, state);       // a drag: only the latest state is drawn next
      return;
    }
    const id = nextId++;
    pending.set(id, { root, key: keyOf(state), state, early, change: changes.get(root) || 0 });
    if (!early) {
      root.setAttribute("aria-busy", "true");
      setTimeout(() => { if (pending.has(id)) restartWorker("no answer from Python"); }, REQUEST_TIMEOUT_MS);
    }
    worker.postMessage({ type: "render", id, widget: root.dataset.widget, state });
  }

  // Ask for the views one and two steps on in the direction the reader moves the slider they
  // moved last, and one step back (the values the browser itself would give that slider:
  // stepUp and stepDown on a copy of it). Those already kept or on their way are not asked again.
  function drawAhead(root, state) {
    const slider = lastSlider.get(root);
    if (!slider || inFlight(root, (r) => !r.early)) return;
    const [on, back] = (direction.get(root) || 1) > 0 ? ["stepUp", "stepDown"] : ["stepDown", "stepUp"];
    for (const [move, steps] of [[on, 1], [on, 2], [back, 1]]) {
      const probe = slider.cloneNode();
      probe.value = state[slider.name];
      probe[move](steps);
      if (probe.value === state[slider.name]) continue;           // at the end of its range
      const next = { ...state, [slider.name]: probe.value };
      const key = keyOf(next);
      if (drawn.get(root) && drawn.get(root).has(key)) continue;
      if (inFlight(root, (r) => r.key === key)) continue;
      send(root, next, true);
    }
  }

  function keep(root, key, reply) {
    if (!drawn.has(root)) drawn.set(root, new Map());
    const views = drawn.get(root);
    views.delete(key);
    views.set(key, reply);
    if (views.size > KEPT_VIEWS) views.delete(views.keys().next().value);
  }

  function showMessage(root, text, param) {
    const message = root.querySelector(".message");
    message.textContent = text || "";
    message.hidden = !text;
    for (const input of root.querySelectorAll("input[name]")) {
      if (input.type === "hidden") continue;
      if (text && input.name === param) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
  }

  // The new view is patched into the old one rather than replacing it: a slider step changes a
  // few numbers, bars and classes, and patching leaves every other node as it was, so the browser
  // restyles and lays out less (for the top-p widget, half the time per step; README, "Speed").
  function showView(view, html) {
    const next = document.createElement("template");
    next.innerHTML = html;
    patch(view, next.content);
  }

  // Make target's children equal to source's (source is consumed): same kinds of node in the
  // same places are updated in place; anything else is replaced.
  function patch(target, source) {
    const now = target.childNodes;
    const wanted = source.childNodes;
    if (now.length !== wanted.length) {
      target.replaceChildren(...wanted);
      return;
    }
    for (let i = wanted.length - 1; i >= 0; i--) {   // backwards: a replaced node leaves source
      const old = now[i];
      const fresh = wanted[i];
      if (old.nodeType !== fresh.nodeType || old.nodeName !== fresh.nodeName) {
        old.replaceWith(fresh);
      } else if (old.nodeType === Node.ELEMENT_NODE) {
        for (const { name, value } of fresh.attributes) {
          if (old.getAttribute(name) !== value) old.setAttribute(name, value);
        }
        for (const { name } of [...old.attributes]) {
          if (!fresh.hasAttribute(name)) old.removeAttribute(name);
        }
        patch(old, fresh);
      } else if (old.nodeValue !== fresh.nodeValue) {
        old.nodeValue = fresh.nodeValue;
      }
    }
  }

  function applyReply(reply) {
    const request = pending.get(reply.id);
    if (!request) return;
    pending.delete(reply.id);
    const { root, key, state, early, change } = request;
    if (!inFlight(root, (r) => !r.early)) root.removeAttribute("aria-busy");
    if (reply.type === "view") keep(root, key, reply);
    const latest = changes.get(root) || 0;
    const current = wantedKey.get(root) === key;
    // Shown if it is the state the reader wants now, or, for the reader's own request, if no
    // later state is shown already: during a drag that outpaces Python, each answer shows on the
    // way to the latest. A view drawn ahead shows only once the reader has moved to it.
    const shownAt = shownChange.get(root) || 0;
    if ((current && shownAt < latest) || (!early && change > shownAt)) {
      show(root, reply, current ? latest : change);
      if (current && reply.type === "view") drawAhead(root, state);
    }
    if (!early && queued.has(root)) {
      const next = queued.get(root);
      queued.delete(root);
      want(root, next);
    }
  }

  function show(root, reply, change) {
    shownChange.set(root, change);
    if (reply.type === "view") {
      showView(root.querySelector(".view"), reply.html);
      root.querySelector(".summary").textContent = reply.summary;
      const form = root.querySelector("form");
      for (const [name, value] of Object.entries(reply.state || {})) {
        if (form.elements[name]) form.elements[name].value = value;
      }
      showMessage(root, "");
    } else {
      showMessage(root, reply.message, reply.param);   // the last good view stays
    }
  }

  function onMessage(event) {
    const message = event.data;
    if (message.type === "stage") {
      if (message.figure !== undefined && message.stage === "failed") console.warn(message.message);
      setStage(message.stage, message.message, message.figure);
      for (const root of [...redraw].filter((r) => live.has(r))) {
        redraw.delete(root);
        want(root, stateOf(root));   // what the reader last set
      }
    } else if (message.type === "reply") {
      applyReply(message.reply);
    }
  }

  function startWorker() {
    setStage(FROM_DISK ? "unpacking" : "downloading");
    (FROM_DISK ? bundledWorker() : servedWorker()).then((made) => {
      worker = made;
      worker.onmessage = onMessage;
      worker.postMessage({ type: "page", widgets: roots.map((root) => ({ widget: root.dataset.widget, state: stateOf(root) })) });
      worker.onerror = (event) => {
        event.preventDefault();
        restartWorker(event.message || "the worker stopped");
      };
    }, (error) => {
      restarts = MAX_RESTARTS;   // a missing bundle will not appear on a retry
      restartWorker(error.message);
    });
  }

  // Two workers: Python's, and one that downloads and unpacks the heap snapshot and the wheels
  // meanwhile, on the other core, then hands them over on a channel of their own (download.js).
  async function servedWorker() {
    const made = new Worker(new URL("worker.js", SCRIPT_URL));
    downloader = new Worker(new URL("download.js", SCRIPT_URL), { name: "download" });
    downloader.onerror = (event) => {
      event.preventDefault();
      restartWorker(event.message || "the download worker stopped");
    };
    const channel = new MessageChannel();
    downloader.postMessage({ indexURL: new URL("../pyodide/", SCRIPT_URL).href, port: channel.port1 }, [channel.port1]);
    made.postMessage({ type: "bytes", port: channel.port2 }, [channel.port2]);
    return made;
  }

  // From disk, classic scripts still load: offline/runtime.js (loaded only in this mode, so
  // readers over HTTP never download it) holds the worker's whole script and the runtime's files
  // as text. The worker is made from a blob of that script (the policy allows blob: workers
  // for this), and the files go to it in its first message; it decodes them itself, so the page
  // stays responsive while Python starts. The page keeps no copy (a restart loads it again).
  function loadBundle() {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = new URL("../offline/runtime.js", SCRIPT_URL).href;
      script.onload = () => {
        const runtime = self.bundledRuntime;
        delete self.bundledRuntime;
        script.remove();
        resolve(runtime);
      };
      script.onerror = () => reject(new Error("offline/runtime.js is missing next to this page"));
      document.head.append(script);
    });
  }

  async function bundledWorker() {
    const runtime = await loadBundle();
    const url = URL.createObjectURL(new Blob([runtime.worker], { type: "text/javascript" }));
    const made = new Worker(url);
    made.addEventListener("message", () => URL.revokeObjectURL(url), { once: true });
    made.postMessage({ type: "files", indexURL: new URL("../pyodide/", SCRIPT_URL).href, files: runtime.files });
    return made;
  }

  function restartWorker(reason) {
    if (worker) worker.terminate();
    if (downloader) downloader.terminate();   // closes itself when done; this is for a failure
    worker = null;
    downloader = null;
    for (const { root, early } of pending.values()) if (!early) redraw.add(root);
    for (const root of queued.keys()) redraw.add(root);
    pending.clear();
    queued.clear();
    for (const root of roots) root.removeAttribute("aria-busy");
    if (restarts >= MAX_RESTARTS) {
      setStage("failed", reason);
      return;
    }
    restarts += 1;
    startWorker();
  }

  function wire(root) {
    const form = root.querySelector("form");
    form.addEventListener("input", (event) => {
      const output = form.querySelector('output[for="' + event.target.id + '"]');
      if (output) output.textContent = event.target.value;
      if (event.target.type === "range") {
        const before = lastSlider.get(root) === event.target ? lastValue.get(root) : undefined;
        const now = Number(event.target.value);
        if (before !== undefined && now !== before) direction.set(root, now > before ? 1 : -1);
        lastSlider.set(root, event.target);
        lastValue.set(root, now);
      }
      if (event.target.type !== "radio") want(root, stateOf(root));
    });
    form.addEventListener("change", (event) => {
      if (event.target.type === "radio") want(root, stateOf(root));
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      want(root, stateOf(root, event.submitter));
    });
  }

  roots.forEach(wire);
  // Python starts once the page has been painted: its downloads and start-up never hold up the
  // first view of the article (requestAnimationFrame runs just before the next paint; the
  // timeout, just after it).
  requestAnimationFrame(() => setTimeout(startWorker, 0));
})();
