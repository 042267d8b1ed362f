// The Python worker: owns Pyodide, answers the page's requests.
// It runs only widgetkit.handle(), which draws registered widgets; it never runs code sent by the page.
//
// Messages, page -> worker:
//   {type: "bytes", port}                    over HTTP, sent first: the MessagePort on which the
//                                            download worker (download.js) delivers the heap
//                                            snapshot and the wheels' files
//   {type: "files", indexURL, files}         file:// only, sent first: the runtime's files,
//                                            {name: gzip + base64 text}, since there this worker
//                                            can fetch nothing
//   {type: "page", widgets: [{widget, state}]}  sent first too: the page's figures, in the
//                                            page's order, each with the state of its controls
//   {type: "render", id, widget, state}      draw one widget for this state of its controls
// Messages, worker -> page:
//   {type: "stage", stage, message?, figure?}   downloading | unpacking | starting | ready |
//                                            failed; for every figure, or only for the page's
//                                            figure number `figure` (its index in "page")
//   {type: "reply", reply}                   widgetkit.handle's answer to one render: its id and
//                                            type (view | invalid | error) and what goes with it
//
// Two ways to start. Over HTTP this file is the worker's script and loads Pyodide from the site's
// pyodide/ folder. Opened from disk, the page builds the worker from Pyodide's scripts, then
// download.js, then this file (offline/runtime.js), so loadPyodide already exists and the files
// come as a message.
//
// Start-up is what a reader waits for (README, "Speed"). So:
// - Pyodide's own files are requested at this worker's first line, all at once (answerEarly);
// - the snapshot and the wheels are downloaded and unpacked by download.js, over HTTP in a second
//   worker, on the other core, while this one loads Pyodide;
// - Python starts from the heap snapshot (pyodide/snapshot.bin.gz, made by the build) of an
//   interpreter that has booted and imported the standard modules the site uses;
// - the wheels' files are written straight into site-packages (no loadPackage, whose unzip in
//   Python costs half a second); their extension modules load when first imported;
// - the figures go live one by one, in the page's order: each is drawn once for the state it was
//   built with, which imports its widget's module and whatever its view needs (numpy for the
//   first; the language model only for its own figure), and is then "ready". The reader's
//   requests go first: they are answered between two of these.
// Each step ends with a performance mark ("python:..."), which bench/bench_site.py reads.
"use strict";

const FROM_PAGE = typeof loadPyodide === "function";
let handle = null;
let receiveFiles = null;
const filesFromPage = new Promise((resolve) => { receiveFiles = resolve; });
let receivePort = null;
const portFromPage = new Promise((resolve) => { receivePort = resolve; });
let receiveFigures = null;
const figuresOnPage = new Promise((resolve) => { receiveFigures = resolve; });

function post(message) {
  self.postMessage(message);
}

async function boot() {
  let indexURL;
  if (FROM_PAGE) {
    post({ type: "stage", stage: "unpacking" });
    indexURL = await answerFetchesFrom(await filesFromPage);
  } else {
    post({ type: "stage", stage: "downloading" });
    indexURL = new URL("../pyodide/", self.location.href).href;
  }
  const { lock, compiled } = answerEarly(indexURL, ["python_stdlib.zip", "pyodide-lock.json"]);
  const prepared = deliveries();
  if (FROM_PAGE) prepare(indexURL, prepared.deliver).catch(prepared.fail);
  else portFromPage.then((port) => { port.onmessage = ({ data }) => prepared.deliver(data.kind, data.value); });
  if (!FROM_PAGE) importScripts(indexURL + "pyodide.js");
  prepared.snapshot.then(() => performance.mark("python:snapshot-here"), () => {});
  prepared.wheels.then(() => performance.mark("python:wheels-here"), () => {});
  const pyodide = await startPython(indexURL, (await lock).snapshot, prepared.snapshot, compiled);
  performance.mark("python:started");
  post({ type: "stage", stage: "starting" });
  install(pyodide, await prepared.wheels);
  performance.mark("python:installed");
  handle = pyodide.pyimport("widgetkit").handle;
  performance.mark("python:ready");
}

// Draw each figure of the page once, in order, and tell the page it is live (or that its view
// failed here, where the build's view succeeded: then it keeps the built view).
async function goLive(figures) {
  for (let figure = 0; figure < figures.length; figure++) {
    const reply = render({ type: "render", id: null, ...figures[figure] });
    if (reply.type === "view") post({ type: "stage", stage: "ready", figure });
    else post({ type: "stage", stage: "failed", figure, message: reply.message });
    if (figure === 0) performance.mark("python:first-figure");
    await new Promise((resolve) => setTimeout(resolve, 0));   // the reader's requests first
  }
  performance.mark("python:all-figures");
}

function render(request) {
  try {
    return JSON.parse(handle(JSON.stringify(request)));
  } catch (error) {
    return { id: request.id, type: "error", message: "Python failed: " + String(error.message || error).split("\n").slice(-2).join(" ") };
  }
}

// Request Pyodide's own files now, in parallel, and answer its later fetch() of each with the
// download already under way (it would ask for them one after another, the wasm only once its
// 1.2 MB script has loaded). The wasm is compiled as it arrives, meanwhile (startPython hands
// Pyodide the compiled module). Returns the lock, parsed, and the compiled wasm (promises).
function answerEarly(indexURL, names) {
  const early = new Map(names.map((name) => [indexURL + name, fetch(indexURL + name)]));
  const wasmURL = indexURL + "pyodide.asm.wasm";
  const compiled = WebAssembly.compileStreaming(fetch(wasmURL));
  compiled.catch(() => {});                    // then Pyodide compiles it itself (startPython)
  const plainFetch = self.fetch;
  self.fetch = (resource, init) => {
    const url = String(resource.url || resource);
    if (url === wasmURL) return new Promise(() => {});   // never read: see startPython
    const started = early.get(url);
    if (!started) return plainFetch(resource, init);
    early.delete(url);                         // each download is handed over once
    return started.then((response) => response.clone());
  };
  const lock = self.fetch(indexURL + "pyodide-lock.json").then((response) => response.json());
  return { lock, compiled: compiled.then((module) => ({ module, fetchAgain: () => plainFetch(wasmURL) }),
                                        () => ({ module: null, fetchAgain: () => plainFetch(wasmURL) })) };
}

// What download.js delivers: {snapshot, wheels} as promises, and the functions that settle them.
function deliveries() {
  const settle = {};
  const promises = {};
  for (const kind of ["snapshot", "wheels"]) {
    promises[kind] = new Promise((resolve, reject) => { settle[kind] = { resolve, reject }; });
    promises[kind].catch(() => {});           // handled where awaited
  }
  const fail = (error) => { for (const kind in settle) settle[kind].reject(error); };
  const deliver = (kind, value) => (kind === "error" ? fail(new Error(value)) : settle[kind].resolve(value));
  return { ...promises, deliver, fail };
}

// Pyodide from its heap snapshot when the site has one (the lock's "snapshot" entry), booted from
// scratch otherwise, or if the snapshot cannot be restored: it is experimental in Pyodide 0.27.
async function startPython(indexURL, entry, snapshot, compiled) {
  const instantiate = WebAssembly.instantiateStreaming;
  let heap = null;
  // Pyodide asks for its wasm to be fetched and instantiated: it gets the module compiled early
  // (answerEarly), or, if that failed, the fetch and compilation it asked for.
  WebAssembly.instantiateStreaming = async (source, imports) => {
    const { module, fetchAgain } = await compiled;
    const made = module ? { module, instance: await WebAssembly.instantiate(module, imports) }
                        : await instantiate(fetchAgain(), imports);
    performance.mark("python:wasm-compiled");
    if (heap) await heap.filled;
    return made;
  };
  try {
    if (entry) {
      try {
        heap = waitForHeap(entry.size, snapshot);
        const pyodide = await loadPyodide({ indexURL, _loadSnapshot: heap.bytes });
        performance.mark("python:from-snapshot");
        const random = pyodide.pyimport("random");
        random.seed();                         // the snapshot's generator is the same for everyone
        random.destroy();
        return pyodide;
      } catch (error) {
        console.warn("Python starts without its snapshot:", error);
        heap = null;
      }
    }
    return await loadPyodide({ indexURL });
  } finally {
    WebAssembly.instantiateStreaming = instantiate;
  }
}

// loadPyodide needs the snapshot's length at once (to size the heap), its bytes only when it
// restores them, after the wasm is instantiated. So it gets a buffer of that length now, and the
// instantiation it asks for is made to wait until the download has filled it (startPython):
// meanwhile Pyodide's script sets up and the wasm compiles. A failed download leaves zeros, which
// Pyodide refuses as a snapshot, and Python boots without.
function waitForHeap(size, snapshot) {
  const bytes = new Uint8Array(size);
  const filled = snapshot.then((got) => { if (got && got.length === size) bytes.set(got); }, () => {});
  return { bytes, filled };
}

// Write the wheels' files into site-packages, as installing them would.
function install(pyodide, wheels) {
  const sys = pyodide.pyimport("sys");
  const sitePackages = sys.path.toJs().find((folder) => folder.endsWith("site-packages"));
  for (const files of wheels) {
    for (const [path, bytes] of files) {
      const target = sitePackages + "/" + path;
      pyodide.FS.mkdirTree(target.slice(0, target.lastIndexOf("/")));
      pyodide.FS.writeFile(target, bytes, { canOwn: true });
    }
  }
  // Only this folder's listing is stale. (importlib.invalidate_caches() would also re-read the
  // standard library's zip directory: half a second.)
  const finders = sys.path_importer_cache;
  const finder = finders.get(sitePackages);
  if (finder) finder.invalidate_caches();
  for (const proxy of [finder, finders, sys]) if (proxy) proxy.destroy();
}

// Decode the files the page sent, then answer Pyodide's fetch() calls from them by file name.
async function answerFetchesFrom({ indexURL, files }) {
  const bytes = {};
  for (const name of Object.keys(files)) {
    bytes[name] = await gunzip(base64Bytes(files[name]));
    delete files[name];                       // the text is no longer needed: free it early
  }
  self.fetch = async (resource) => {
    const name = String(resource.url || resource).split("/").pop();
    if (!(name in bytes)) return new Response(null, { status: 404, statusText: name + " is not in the bundle" });
    // instantiateStreaming needs the wasm type; the other files are read as bytes or JSON.
    const type = name.endsWith(".wasm") ? "application/wasm" : "application/octet-stream";
    return new Response(bytes[name], { headers: { "Content-Type": type } });
  };
  return indexURL;
}

function base64Bytes(text) {
  if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text);   // native: ten times faster
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const booted = boot().catch((error) => {
  post({ type: "stage", stage: "failed", message: String(error && error.message || error) });
  throw error;
});
booted.then(() => figuresOnPage).then(goLive, () => {});

self.onmessage = async (event) => {
  const request = event.data;
  if (request && request.type === "files") {
    receiveFiles(request);
    return;
  }
  if (request && request.type === "bytes") {
    receivePort(request.port);
    return;
  }
  if (request && request.type === "page") {
    receiveFigures(Array.isArray(request.widgets) ? request.widgets : []);
    return;
  }
  try {
    await booted;
  } catch (error) {
    return;
  }
  if (!request || request.type !== "render") {
    post({ type: "reply", reply: { id: request && request.id, type: "error", message: "Unknown request." } });
    return;
  }
  post({ type: "reply", reply: render(request) });
};
