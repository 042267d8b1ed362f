// Python's start-up in its worker, with one entry point: Startup.startPython(start, report), which
// takes the page's start message (protocol.js) and resolves to widgetkit.handle once Python can draw.
//
// Start-up is what a reader waits for (README, "What start-up does"). So:
// - Pyodide's own files are requested at once, all together, and the wasm is compiled as it
//   arrives while Pyodide's script loads (earlyFetches); Pyodide would ask for them one after
//   another, the wasm only once its 1.2 MB script has run;
// - the snapshot and the wheels are downloaded and unpacked by download.js, over HTTP in a second
//   worker on the other core, while this one loads Pyodide (from disk, here, from the start
//   message's files);
// - Python starts from the heap snapshot (pyodide/snapshot.bin.gz, made by the build) of an
//   interpreter that has booted and imported the standard modules the site uses;
// - the wheels' files are written straight into site-packages (no loadPackage, whose unzip in
//   Python costs half a second); their extension modules load when first imported.
// Pyodide 0.27 takes no options for where its files come from, so for the length of start-up only,
// this worker's fetch() answers Pyodide's requests from those early downloads (or, from disk, from
// the files), and WebAssembly.instantiateStreaming hands it the module compiled early; both are
// put back before startPython returns. Each step ends with a performance mark ("python:..."),
// which bench/bench_site.py and the tests read.
// From disk this runs in a worker made from offline/runtime.js, which holds Pyodide's scripts,
// protocol.js and download.js before this file; over HTTP, worker.js imports it.
const Startup = (() => {
  "use strict";

  async function startPython({ indexURL, port, files }, report) {
    const served = self.fetch;
    const base = files ? await fetchFrom(files) : served.bind(self);
    const early = earlyFetches(indexURL, base);
    self.fetch = early.fetch;
    try {
      const delivered = deliveries();
      if (port) port.onmessage = ({ data }) => delivered.take(data);
      else prepare(indexURL, delivered.take).catch((error) => delivered.take(failure(error)));   // download.js
      delivered.snapshot.then(() => performance.mark("python:snapshot-here"), () => {});
      delivered.wheels.then(() => performance.mark("python:wheels-here"), () => {});
      if (typeof loadPyodide !== "function") importScripts(indexURL + "pyodide.js");
      const entry = (await early.lock).snapshot;
      const pyodide = await loadPython(indexURL, entry, delivered.snapshot, early.compiled);
      performance.mark("python:started");
      report("starting");
      install(pyodide, await delivered.wheels);
      performance.mark("python:installed");
      const handle = pyodide.pyimport("widgetkit").handle;
      performance.mark("python:ready");
      return handle;
    } finally {
      self.fetch = served;
    }
  }

  const failure = (error) => Protocol.message("failed", { message: String(error && error.message || error) });

  // Request Pyodide's own files now, in parallel, from `base` (the network, or the files from
  // disk), and answer Pyodide's later fetch() of each with the download already under way. The
  // wasm is compiled as it arrives (compileWasm, once the lock has named its file); Pyodide's own
  // fetch of it gets an empty placeholder, since loadPython hands it the compiled module instead
  // (or, if that failed, the real download).
  function earlyFetches(indexURL, base) {
    const wasmURL = indexURL + "pyodide.asm.wasm";   // what Pyodide asks for
    const started = new Map(["python_stdlib.zip", "pyodide-lock.json"].map((name) => [indexURL + name, base(indexURL + name)]));
    const fetch = (resource, init) => {
      const url = String(resource.url || resource);
      if (url === wasmURL) return compiled.then((module) => (module ? new Response(null) : served.then(base)));
      const download = started.get(url);
      if (!download) return base(resource, init);
      started.delete(url);                       // each download is handed over once
      return download.then((response) => response.clone());
    };
    const lock = fetch(indexURL + "pyodide-lock.json").then((response) => response.json());
    // The wasm's address: a name made from its sha256 (the lock's "wasm", runtime.py).
    const served = lock.then((got) => indexURL + got.wasm.file_name);
    const compiled = served.then((url) => compileWasm(base, url), () => null);
    return { fetch, lock, compiled };
  }

  // The wasm compiled as it downloads, from the browser's HTTP cache, where the browser keeps the
  // code it compiled (it keeps none for a response from the service worker's own cache the first
  // time it serves one): asked for with "?from=network", which the service worker (sw.js) leaves
  // to the network. Its name is its hash, so the host has these bytes or none (a newer deploy):
  // then, or offline, it is compiled from the service worker's copy. Resolves to the module, or
  // null.
  async function compileWasm(base, url) {
    try {
      return await WebAssembly.compileStreaming(base(url + "?from=network").then((response) => {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response;
      }));
    } catch (error) {
      return WebAssembly.compileStreaming(base(url)).catch(() => null);
    }
  }

  // What download.js delivers (protocol.js: snapshot, wheels, or failed), as two promises.
  function deliveries() {
    const settle = {};
    const [snapshot, wheels] = ["snapshot", "wheels"].map((kind) => new Promise((resolve, reject) => {
      settle[kind] = { resolve, reject };
    }));
    for (const promise of [snapshot, wheels]) promise.catch(() => {});   // handled where awaited
    const take = (message) => {
      const wrong = Protocol.problem(message, "download", "worker");
      if (wrong || message.type === "failed") {
        const error = new Error(wrong || message.message);
        for (const kind in settle) settle[kind].reject(error);
      } else if (message.type === "snapshot") {
        settle.snapshot.resolve(message.bytes);
      } else {
        settle.wheels.resolve(message.files);
      }
    };
    return { snapshot, wheels, take };
  }

  // Pyodide from its heap snapshot when the site has one (the lock's "snapshot" entry), booted from
  // scratch otherwise, or if the snapshot cannot be restored: it is experimental in Pyodide 0.27.
  async function loadPython(indexURL, entry, snapshot, compiled) {
    const instantiate = WebAssembly.instantiateStreaming;
    let heap = null;
    WebAssembly.instantiateStreaming = async (source, imports) => {
      const module = await compiled;
      const made = module ? { module, instance: await WebAssembly.instantiate(module, imports) }
                          : await instantiate(source, imports);
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
  // instantiation it asks for waits until the download has filled it (loadPython): meanwhile
  // Pyodide's script sets up and the wasm compiles. A failed download leaves zeros, which Pyodide
  // refuses as a snapshot, and Python boots without.
  function waitForHeap(size, snapshot) {
    const bytes = new Uint8Array(size);
    const filled = snapshot.then((got) => { if (got && got.length === size) bytes.set(got); }, () => {});
    return { bytes, filled };
  }

  // Write the wheels' files into site-packages, as installing them would. Every Python object
  // handed to JavaScript here is destroyed when done.
  function install(pyodide, wheels) {
    const sys = pyodide.pyimport("sys");
    const path = sys.path;
    const finders = sys.path_importer_cache;
    let finder = null;
    try {
      const sitePackages = path.toJs().find((folder) => folder.endsWith("site-packages"));
      for (const files of wheels) {
        for (const [name, bytes] of files) {
          const target = sitePackages + "/" + name;
          pyodide.FS.mkdirTree(target.slice(0, target.lastIndexOf("/")));
          pyodide.FS.writeFile(target, bytes, { canOwn: true });
        }
      }
      // Only this folder's listing is stale. (importlib.invalidate_caches() would also re-read the
      // standard library's zip directory: half a second.)
      finder = finders.get(sitePackages);
      if (finder) finder.invalidate_caches();
    } finally {
      for (const proxy of [finder, finders, path, sys]) if (proxy) proxy.destroy();
    }
  }

  // From disk: decode the files of the start message, and make a fetch() that answers from them
  // by file name. The text is freed as each file is decoded.
  async function fetchFrom(files) {
    const bytes = {};
    for (const name of Object.keys(files)) {
      bytes[name] = await gunzip(base64Bytes(files[name]));   // download.js
      delete files[name];
    }
    return async (resource) => {
      const name = String(resource.url || resource).split("?")[0].split("/").pop();
      if (!(name in bytes)) return new Response(null, { status: 404, statusText: name + " is not in the bundle" });
      // instantiateStreaming needs the wasm type; the other files are read as bytes or JSON.
      const type = name.endsWith(".wasm") ? "application/wasm" : "application/octet-stream";
      return new Response(bytes[name], { headers: { "Content-Type": type } });
    };
  }

  function base64Bytes(text) {
    if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text);   // native: ten times faster
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  return Object.freeze({ startPython });
})();
