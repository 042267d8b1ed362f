// Page glue: starts Python's workers, carries out the decisions figures.js makes for each figure
// of the page, and shows the views. All drawing is done by Python (widgetkit.handle); this file only
// moves messages (protocol.js) and text. Contract for tests: data-widget, data-stage =
// static|loading|ready|failed.
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
  // One record per figure (figures.js): its state, its views, what is in flight and queued.
  let records = null;
  // How many figures, in the page's order, have been given their first steps (drawFirstSteps).
  let stepsDrawn = 0;
  let worker = null;
  let downloader = null;
  let restarts = 0;

  // A stage for every figure, or (figure given) for one: each goes live on its own (worker.js).
  function setStage(stage, detail, figure) {
    const contractStage = LOADING.has(stage) ? "loading" : stage;
    for (const root of figure === undefined ? roots : [roots[figure]]) {
      root.dataset.stage = contractStage;
      root.querySelector(".stage").textContent = figure !== undefined && stage === "failed"
        ? STAGE_TEXT.broken : STAGE_TEXT[stage] + (detail ? ": " + detail + "." : "");
      root.querySelector(".controls-set").disabled = contractStage !== "ready";
      syncHandles(root);
    }
  }

  // Chromium gives scripts "" for a number box holding what is not a number ("1e", "--"), as for
  // an empty one, which an optional setting takes as "off". Such a box sends NOT_A_NUMBER instead,
  // which Python refuses with the control's own message.
  const NOT_A_NUMBER = "not a number";

  // The state of a figure's controls, {name: value}. Read while they are disabled too (before the
  // figure is live, for its first render), which FormData alone would leave out.
  function stateOf(root, submitter) {
    const form = root.querySelector("form");
    const controls = root.querySelector(".controls-set");
    const disabled = controls.disabled;
    controls.disabled = false;
    try {
      const state = {};
      for (const [name, value] of new FormData(form, submitter || null)) state[name] = value;
      for (const input of form.querySelectorAll('input[type="number"]')) {
        if (input.name && input.validity.badInput) state[input.name] = NOT_A_NUMBER;
      }
      return state;
    } finally {
      controls.disabled = disabled;
    }
  }

  // A slider's value n steps from `value`, as the browser itself gives it (stepUp and stepDown on
  // a copy of the slider): the states figures.js draws ahead.
  function stepper(root) {
    const form = root.querySelector("form");
    return (name, value, n) => {
      const slider = form.elements[name];
      if (!slider || slider.type !== "range") return value;
      const probe = slider.cloneNode();
      probe.value = value;
      if (n > 0) probe.stepUp(n);
      else probe.stepDown(-n);
      return probe.value;
    };
  }

  // The reader changed a control of figure `figure`.
  function want(figure, state) {
    apply(figure, Figures.want(records[figure], state, stepper(roots[figure])));
  }

  // Carry out a decision about a figure: keep its new record, then do what it says, in order.
  function apply(figure, [record, effects]) {
    records[figure] = record;
    const root = roots[figure];
    for (const effect of effects) {
      if (effect.do === "ask") send(effect);
      else if (effect.do === "show") show(root, effect.message);
      else if (effect.do === "live") setStage("ready", "", figure);
      else if (effect.do === "redraw") want(figure, stateOf(root));   // what the reader last set
      else if (effect.do === "broken") {
        console.warn(effect.message);
        setStage("failed", effect.message, figure);
      }
    }
    if (Figures.busy(records[figure])) root.setAttribute("aria-busy", "true");
    else root.removeAttribute("aria-busy");
  }

  const renderOf = (ask) => Protocol.message("render", { id: ask.id, widget: ask.widget, state: ask.state });

  // A reader's render unanswered in time means the worker is dead (protocol.js).
  function send(ask) {
    worker.postMessage(renderOf(ask));
    if (ask.why !== "reader") return;
    setTimeout(() => {
      if (records.some((record) => record.asked.has(ask.id))) restartWorker("no answer from Python");
    }, Protocol.RENDER_TIMEOUT_MS);
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
    requestAnimationFrame(() => reachable(view));
  }

  // A view wider than its column scrolls sideways; a region that scrolls must be reachable from
  // the keyboard (focusable, named), and one that does not must not be an extra tab stop.
  function reachable(view) {
    const scrolls = view.scrollWidth > view.clientWidth + 1;
    if (scrolls === view.hasAttribute("tabindex")) return;
    if (scrolls) {
      view.setAttribute("tabindex", "0");
      view.setAttribute("role", "region");
      view.setAttribute("aria-label", "Figure, scrolls sideways");
    } else {
      for (const name of ["tabindex", "role", "aria-label"]) view.removeAttribute(name);
    }
  }
  // Checked once the browser has laid a view out, and again whenever its size changes: a
  // ResizeObserver reports after the frame's own layout, so the page is not made to lay itself
  // out early as it loads (a whole article, in a task of its own: README, "Speed"). A new view is
  // checked in showView.
  const sized = new ResizeObserver((entries) => entries.forEach((entry) => reachable(entry.target)));
  for (const root of roots) {
    const view = root.querySelector(".view");
    if (view) sized.observe(view);
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
          if (!fresh.hasAttribute(name) && !(HANDLE_ATTRIBUTES.has(name) && old.hasAttribute("data-edit"))) {
            old.removeAttribute(name);
          }
        }
        patch(old, fresh);
      } else if (old.nodeValue !== fresh.nodeValue) {
        old.nodeValue = fresh.nodeValue;
      }
    }
  }

  function show(root, message) {
    if (message.type === "view") {
      showView(root.querySelector(".view"), message.html);
      syncHandles(root);
      root.querySelector(".summary").textContent = message.summary;
      const form = root.querySelector("form");
      for (const [name, value] of Object.entries(message.state || {})) {
        if (form.elements[name]) form.elements[name].value = value;
      }
      showMessage(root, "");
    } else {
      showMessage(root, message.message, message.param);   // the last good view stays
    }
  }

  function onMessage(event) {
    if (event.target !== worker) return;   // a worker ended since: what it said is moot
    const message = event.data;
    const wrong = Protocol.problem(message, "worker", "page");
    if (wrong) throw new Error(wrong);   // our own bug: the worker and the page disagree
    if (message.type === "stage" && message.stage === "failed") {
      stopWorkers();                     // Python cannot start: a new worker would not either
      setStage("failed", message.message);
      return;
    }
    if (message.type === "stage") {
      setStage(message.stage);
      return;
    }
    const figure = records.findIndex((record) => record.asked.has(message.id));
    if (figure >= 0) apply(figure, Figures.answer(records[figure], message, stepper(roots[figure])));
    else if (message.type === "error") throw new Error("Python's worker: " + message.message);
    if (records.every((record) => record.asked.size === 0)) drawFirstSteps();
  }

  // Whenever Python is idle, once every figure has had its first render answered: the first steps
  // of one more figure's sliders (figures.js firstSteps), one figure at a time, so that a
  // reader's request never waits behind more than one figure's.
  function drawFirstSteps() {
    while (stepsDrawn < records.length) {
      const figure = stepsDrawn++;
      const [record, effects] = Figures.firstSteps(records[figure], stateOf(roots[figure]), stepper(roots[figure]));
      apply(figure, [record, effects]);
      if (effects.length) return;         // the next figure's once Python is idle again
    }
  }

  function startWorker() {
    setStage(FROM_DISK ? "unpacking" : "downloading");
    (FROM_DISK ? bundledWorker() : servedWorker()).then(({ made, events }) => {
      worker = made;
      worker.onmessage = onMessage;
      worker.onerror = (event) => {
        event.preventDefault();
        restartWorker(event.message || "the worker stopped");
      };
      const started = records.map((record, figure) => Figures.start(record, stateOf(roots[figure])));
      records = started.map(([record]) => record);
      worker.postMessage(Protocol.message("page", { renders: started.map(([, [ask]]) => renderOf(ask)) }));
      for (const event of events) {
        if (worker !== made) break;                 // a failure has stopped it
        if (event.target !== made) downloader.onerror(event);   // the download worker only fails
        else if (event.type === "message") onMessage(event);
        else worker.onerror(event);
      }
    }, (error) => {
      restarts = Protocol.RESTARTS;   // a missing bundle will not appear on a retry
      restartWorker(error.message);
    });
  }

  // Python's workers over HTTP: the ones python.js started with the page, the first time, with
  // the events they sent before this script took them (replayed by startWorker), else new ones.
  async function servedWorker() {
    const { worker: made, downloader: helper, events } = Python.take() || Python.served(SCRIPT_URL);
    downloader = helper;
    downloader.onerror = (event) => {
      event.preventDefault();
      restartWorker(event.message || "the download worker stopped");
    };
    return { made, events };
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
    made.postMessage(Protocol.message("start", { indexURL: new URL("../pyodide/", SCRIPT_URL).href, files: runtime.files }));
    return { made, events: [] };
  }

  function stopWorkers() {
    if (worker) worker.terminate();
    if (downloader) downloader.terminate();   // closes itself when done; this is for a failure
    worker = null;
    downloader = null;
    records = records.map(Figures.stop);      // the reader's lost requests are asked again once live
    stepsDrawn = 0;                           // first steps again once live: those not kept
    for (const root of roots) root.removeAttribute("aria-busy");
  }

  function restartWorker(reason) {
    stopWorkers();
    if (restarts >= Protocol.RESTARTS) {
      setStage("failed", reason);
      return;
    }
    restarts += 1;
    startWorker();
  }

  // ---- Lists edited in the view (edits.js; the "edit" control of widgetkit/base.py). The form holds
  // each list in a hidden field (data-built: the list the page was built with, data-min/max/step);
  // the view marks one handle per entry (data-edit=NAME, data-index, data-value, data-label,
  // data-valuetext). Once the figure is live, each handle is a slider: keys and pointer drags set
  // its entry, and the new list goes through the same decisions as any control (figures.js).
  const HANDLE_ATTRIBUTES = new Set(["role", "tabindex", "aria-label", "aria-valuemin", "aria-valuemax",
    "aria-valuenow", "aria-valuetext", "aria-disabled"]);

  // The hidden field of list `name`, if the figure's form has one.
  function listField(root, name) {
    const field = root.querySelector("form").elements[name];
    return field && field.dataset && "built" in field.dataset ? field : null;
  }

  function handlesOf(root, name) {
    return Array.from(root.querySelectorAll('.view [data-edit="' + CSS.escape(name) + '"][data-index]'));
  }

  // Make the view's handles sliders while the figure is live, plain marks otherwise (no dead control).
  function syncHandles(root) {
    const live = root.dataset.stage === "ready";
    for (const handle of root.querySelectorAll(".view [data-edit][data-index]")) {
      const field = listField(root, handle.dataset.edit);
      if (!live || !field) {
        for (const name of HANDLE_ATTRIBUTES) handle.removeAttribute(name);
        continue;
      }
      const attributes = {
        role: "slider", tabindex: "0", "aria-label": handle.dataset.label || handle.dataset.edit,
        "aria-valuemin": field.dataset.min, "aria-valuemax": field.dataset.max,
        "aria-valuenow": handle.dataset.value, "aria-valuetext": handle.dataset.valuetext || handle.dataset.value,
      };
      for (const [name, value] of Object.entries(attributes)) {
        if (handle.getAttribute(name) !== value) handle.setAttribute(name, value);
      }
    }
  }

  // The list the reader wants now: the field's, or, while it holds none (the figure's own), the
  // values the view's handles were drawn with; null while the view is still an older state's
  // (a new prompt asked for, say), whose handles may not be the ones wanted.
  function listOf(figure, field) {
    const root = roots[figure];
    const values = Edits.parse(field.value);
    if (values.length) return values;
    if (Figures.busy(records[figure])) return null;
    const handles = handlesOf(root, field.name);
    const list = [];
    for (const handle of handles) list[Number(handle.dataset.index)] = Number(handle.dataset.value);
    return list;
  }

  // Entry `index` of list `name` becomes `value`: the handle says so at once, Python redraws.
  function setEntry(figure, handle, value) {
    const root = roots[figure];
    const field = listField(root, handle.dataset.edit);
    const index = Number(handle.dataset.index);
    const list = listOf(figure, field);
    if (value === null || !list || !(index in list) || list[index] === value) return;
    field.value = Edits.text(Edits.replaced(list, index, value));
    handle.setAttribute("aria-valuenow", String(value));
    handle.setAttribute("aria-valuetext", String(value));
    want(figure, stateOf(root));
  }

  // The handle an event is on, if the figure is live and the handle's list is one of its fields.
  function liveHandle(root, event) {
    const handle = event.target.closest && event.target.closest("[data-edit][data-index]");
    if (!handle || root.dataset.stage !== "ready" || !listField(root, handle.dataset.edit)) return null;
    return handle;
  }

  const specOf = (field) => Edits.specOf(field.dataset);

  // The value under the pointer, along the handle's track (data-edit-track), or the handle itself.
  function pointedValue(root, handle, event) {
    const track = handle.querySelector("[data-edit-track]") || handle;
    const box = track.getBoundingClientRect();
    const spec = specOf(listField(root, handle.dataset.edit));
    return spec && Edits.valueAt(event.clientX, box.left, box.width, spec);
  }

  function wireEdits(root, figure) {
    const view = root.querySelector(".view");
    view.addEventListener("keydown", (event) => {
      const handle = liveHandle(root, event);
      if (!handle || event.altKey || event.ctrlKey || event.metaKey) return;
      const field = listField(root, handle.dataset.edit);
      const spec = specOf(field);
      const list = listOf(figure, field);
      const value = spec && Edits.keyed(list ? list[Number(handle.dataset.index)] : NaN, event.key, event.shiftKey, spec);
      if (value === null) return;
      event.preventDefault();   // a slider's key, even when the list cannot take it yet: no page scroll
      setEntry(figure, handle, value);
    });
    let drag = null;   // {handle, pointer} while a pointer holds a handle
    view.addEventListener("pointerdown", (event) => {
      const handle = liveHandle(root, event);
      if (!handle || drag || (event.pointerType === "mouse" && event.button !== 0)) return;
      event.preventDefault();
      handle.focus();
      handle.setPointerCapture(event.pointerId);
      drag = { handle, pointer: event.pointerId };
      setEntry(figure, handle, pointedValue(root, handle, event));
    });
    view.addEventListener("pointermove", (event) => {
      if (!drag || event.pointerId !== drag.pointer || root.dataset.stage !== "ready") return;
      setEntry(figure, drag.handle, pointedValue(root, drag.handle, event));
    });
    const release = (event) => {
      if (drag && event.pointerId === drag.pointer) drag = null;
    };
    view.addEventListener("pointerup", release);
    view.addEventListener("pointercancel", release);
    view.addEventListener("lostpointercapture", release);
    for (const button of root.querySelectorAll("button[data-reset]")) {
      button.addEventListener("click", () => {
        const field = listField(root, button.dataset.reset);
        if (!field) return;
        field.value = field.dataset.built;
        want(figure, stateOf(root));
      });
    }
  }

  // A control changed: the lists that belong to it (data-reset-by) go back to the built ones.
  function resetListsOf(root, name) {
    for (const field of root.querySelectorAll("input[data-reset-by]")) {
      if (field.dataset.resetBy.split(" ").includes(name)) field.value = field.dataset.built;
    }
  }

  function wire(root, figure) {
    const form = root.querySelector("form");
    wireEdits(root, figure);
    form.addEventListener("input", (event) => {
      resetListsOf(root, event.target.name);
      const output = form.querySelector('output[for="' + event.target.id + '"]');
      if (output) output.textContent = event.target.value;
      if (event.target.type === "range") records[figure] = Figures.moved(records[figure], event.target.name, event.target.value);
      if (event.target.type !== "radio") want(figure, stateOf(root));
    });
    form.addEventListener("change", (event) => {
      resetListsOf(root, event.target.name);
      if (event.target.type === "radio") want(figure, stateOf(root));
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      want(figure, stateOf(root, event.submitter));
    });
  }

  records = roots.map((root, figure) => Figures.create(figure, root.dataset.widget, stateOf(root)));
  roots.forEach(wire);
  // Over HTTP, Python has been starting since the page's head (python.js); from disk it starts
  // once the page has been painted, since the runtime's script is read on this thread
  // (requestAnimationFrame runs just before the next paint; the timeout, just after it).
  if (FROM_DISK) requestAnimationFrame(() => setTimeout(startWorker, 0));
  else startWorker();
})();
