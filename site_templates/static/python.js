// Python's workers, started the moment a page with figures begins to load: a classic script in the
// page's head, after protocol.js, so they start while the page is still being parsed, laid out and
// painted (their work is on other threads), not after. widgets.js takes them (Python.take()) once
// the figures are in the page; until then, everything they say is kept for it. Opened from disk,
// the page starts Python itself (widgets.js: the runtime comes in a script of its own).
const Python = (() => {
  "use strict";

  // Two workers: Python's, and one that downloads and unpacks the heap snapshot and the wheels
  // meanwhile, on the other core, then hands them over on a channel of their own (download.js).
  // scriptURL: this folder's address (assets/), relative to which the runtime is found.
  function served(scriptURL) {
    const indexURL = new URL("../pyodide/", scriptURL).href;
    const worker = new Worker(new URL("worker.js", scriptURL));
    const downloader = new Worker(new URL("download.js", scriptURL), { name: "download" });
    const channel = new MessageChannel();
    downloader.postMessage(Protocol.message("download", { indexURL, port: channel.port1 }), [channel.port1]);
    worker.postMessage(Protocol.message("start", { indexURL, port: channel.port2 }), [channel.port2]);
    return { worker, downloader, events: [] };
  }

  let early = null;
  if (document.currentScript && location.protocol !== "file:" && typeof Worker === "function") {
    early = served(document.currentScript.src);
    const keep = (event) => {
      if (event.type === "error") event.preventDefault();   // widgets.js reports it
      early.events.push(event);
    };
    for (const made of [early.worker, early.downloader]) {
      made.onmessage = keep;
      made.onerror = keep;
    }
  }

  // The workers started with the page, once, with what they said meanwhile; null after that.
  function take() {
    const taken = early;
    early = null;
    return taken;
  }

  return Object.freeze({ served, take });
})();
