// The Python worker: owns Pyodide, answers the page's requests.
// It runs only widgets.handle(), which draws registered widgets; it never runs code sent by the page.
//
// Messages, page -> worker:
//   {type: "render", id, widget, state}      draw one widget for this state of its controls
//   {type: "files", indexURL, files}         file:// only, sent first: the runtime's files,
//                                            {name: gzip + base64 text}, since there this worker
//                                            can fetch nothing
// Messages, worker -> page:
//   {type: "stage", stage, message?}         downloading | unpacking | starting | ready | failed
//   {type: "reply", reply}                   widgets.handle's answer to one render: its id and
//                                            type (view | invalid | error) and what goes with it
//
// Two ways to start. Over HTTP this file is the worker's script and loads Pyodide from the site's
// pyodide/ folder. Opened from disk, the page builds the worker from Pyodide's scripts followed by
// this file (offline/runtime.js), so loadPyodide already exists and the files come as a message.
"use strict";

const FROM_PAGE = typeof loadPyodide === "function";
let handle = null;
let receiveFiles = null;
const filesFromPage = new Promise((resolve) => { receiveFiles = resolve; });

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
    importScripts(indexURL + "pyodide.js");
  }
  const pyodide = await loadPyodide({ indexURL });
  post({ type: "stage", stage: "starting" });
  await pyodide.loadPackage(["sampling"], { messageCallback: () => {} });
  handle = pyodide.pyimport("widgets").handle;
  post({ type: "stage", stage: "ready" });
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

async function gunzip(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const booted = boot().catch((error) => {
  post({ type: "stage", stage: "failed", message: String(error && error.message || error) });
  throw error;
});

self.onmessage = async (event) => {
  const request = event.data;
  if (request && request.type === "files") {
    receiveFiles(request);
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
  let reply;
  try {
    reply = JSON.parse(handle(JSON.stringify(request)));
  } catch (error) {
    reply = { id: request.id, type: "error", message: "Python failed: " + String(error.message || error).split("\n").slice(-2).join(" ") };
  }
  post({ type: "reply", reply });
};
