// The Python worker: owns Pyodide, answers the page's requests. Protocol: protocol.md.
// It runs only widgets.handle(), which draws registered widgets; it never runs code sent by the page.
"use strict";

const RUNTIME_URL = new URL("../pyodide/", self.location.href).href;
let handle = null;

function post(message) {
  self.postMessage(message);
}

async function boot() {
  post({ type: "stage", stage: "downloading" });
  importScripts(RUNTIME_URL + "pyodide.js");
  const pyodide = await loadPyodide({ indexURL: RUNTIME_URL });
  post({ type: "stage", stage: "starting" });
  await pyodide.loadPackage(["sampling"], { messageCallback: () => {} });
  handle = pyodide.pyimport("widgets").handle;
  post({ type: "stage", stage: "ready" });
}

const booted = boot().catch((error) => {
  post({ type: "stage", stage: "failed", message: String(error && error.message || error) });
  throw error;
});

self.onmessage = async (event) => {
  const request = event.data;
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
