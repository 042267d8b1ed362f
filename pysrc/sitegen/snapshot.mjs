// Build step (Node.js): a heap snapshot of Pyodide that has already booted, for the worker to
// restore instead of booting Python (about a second less before the widgets are live).
//
//   node snapshot.mjs RUNTIME_DIR MODULES_JSON OUT_FILE
//
// RUNTIME_DIR is the site's pyodide/ folder as served (the snapshot only fits the very
// pyodide.asm.wasm and python_stdlib.zip it was made with). MODULES_JSON lists the pure-Python
// standard modules the site's code imports (json, html, pickle, ...: runtime.py finds them); the
// snapshot holds them imported. Extension modules (numpy's) cannot be in a snapshot: Pyodide 0.27
// restores the heap only, not the libraries loaded into it. Nor are the wheels: the snapshot does
// not depend on the site's own code, so editing it does not make a new one.
//
// The output depends only on the inputs: random bytes and clocks are fixed while Python runs, and
// every setting that would come from the machine (hash seed, locale, program name) is given.
import fs from "node:fs";
import path from "node:path";

let seed = 0x9e3779b9;
globalThis.crypto.getRandomValues = (view) => {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  for (let i = 0; i < bytes.length; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;   // a fixed LCG: the same bytes each build
    bytes[i] = seed >>> 24;
  }
  return view;
};
Date.now = () => 315532800000;           // 1980-01-01, as the zips' dates
performance.now = () => 0;

const [runtimeDir, modulesFile, outFile] = process.argv.slice(2);
const indexURL = path.resolve(runtimeDir) + "/";
const { loadPyodide } = await import(indexURL + "pyodide.mjs");
const SETTINGS = {
  indexURL,
  env: { PYTHONHASHSEED: "0", LANG: "C.UTF-8" },
  _sysExecutable: "./this.program",
  stdout: () => {},
  stderr: (line) => process.stderr.write(line + "\n"),
};

const modules = JSON.parse(fs.readFileSync(modulesFile, "utf8"));
const python = await loadPyodide({ ...SETTINGS, _makeSnapshot: true });
python.runPython(`
import importlib
for name in ${JSON.stringify(modules)}:
    try:
        importlib.import_module(name)
    except Exception:
        pass   # not in Pyodide's standard library (the list comes from the build's CPython)
`);
fs.writeFileSync(outFile, python.makeMemorySnapshot());
