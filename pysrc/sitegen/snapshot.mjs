// Build step (Node.js): a heap snapshot of Pyodide that has already booted, for the worker to
// restore instead of booting Python (about a second less before the widgets are live).
//
//   node snapshot.mjs RUNTIME_DIR OUT_FILE
//
// RUNTIME_DIR is the site's pyodide/ folder as served (the snapshot only fits the very
// pyodide.asm.wasm and python_stdlib.zip it was made with). The snapshot also holds the pure-Python
// standard modules the site's code imports at start (json, dataclasses, html, pickle, ...), found
// by installing the lock's wheels in a first interpreter, as the worker does, and importing
// `widgets` there. Extension modules (numpy's) cannot be in a snapshot: Pyodide 0.27 restores
// the heap only, not the libraries loaded into it.
//
// The output depends only on the inputs: random bytes and clocks are fixed while Python runs, and
// every setting that would come from the machine (hash seed, locale, program name) is given.
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

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

const [runtimeDir, outFile] = process.argv.slice(2);
const indexURL = path.resolve(runtimeDir) + "/";
const { loadPyodide } = await import(indexURL + "pyodide.mjs");
const SETTINGS = {
  indexURL,
  env: { PYTHONHASHSEED: "0", LANG: "C.UTF-8" },
  _sysExecutable: "./this.program",
  stdout: () => {},
  stderr: (line) => process.stderr.write(line + "\n"),
};

// The standard modules importing `widgets` adds to those Pyodide imports while it boots.
async function modulesTheSiteImports() {
  const python = await loadPyodide(SETTINGS);
  const booted = new Set(python.runPython("import sys; list(sys.modules)").toJs());
  const lock = JSON.parse(fs.readFileSync(indexURL + "pyodide-lock.json", "utf8"));
  const sitePackages = python.runPython("import sys; [p for p in sys.path if p.endswith('site-packages')][0]");
  for (const entry of Object.values(lock.packages)) install(python, sitePackages, indexURL + entry.file_name);
  // Every widget module, and the model's, as the browser may import them (they load lazily there).
  python.runPython("import importlib; importlib.invalidate_caches(); import widgets; widgets.load_all(); import ngram.shipped");
  const standard = python.runPython(`
import sys
stdlib = tuple(p + "/" for p in sys.path if p.endswith(".zip"))
def standard(module):
    spec = getattr(module, "__spec__", None)
    return spec is not None and (spec.origin in ("built-in", "frozen") or str(spec.origin).startswith(stdlib))
sorted(name for name, module in sys.modules.items() if standard(module))
`).toJs();
  return standard.filter((name) => !booted.has(name));
}

// A wheel's files written into site-packages, as the worker does (worker.js, install()).
function install(python, sitePackages, wheel) {
  const zip = fs.readFileSync(wheel);
  let end = zip.length - 22;
  while (zip.readUInt32LE(end) !== 0x06054b50) end--;
  for (let i = 0, at = zip.readUInt32LE(end + 16); i < zip.readUInt16LE(end + 10); i++) {
    const nameLength = zip.readUInt16LE(at + 28);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + zip.readUInt32LE(at + 20));
    if (!name.endsWith("/")) {
      const target = sitePackages + "/" + name;
      python.FS.mkdirTree(target.slice(0, target.lastIndexOf("/")));
      python.FS.writeFile(target, new Uint8Array(zip.readUInt16LE(at + 10) === 8 ? zlib.inflateRawSync(data) : data));
    }
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
}

const modules = await modulesTheSiteImports();
const python = await loadPyodide({ ...SETTINGS, _makeSnapshot: true });
python.runPython(`
import importlib
for name in ${JSON.stringify(modules)}:
    try:
        importlib.import_module(name)
    except ImportError:
        pass   # a module that only imports beside its package's wheel: it is imported later
`);
fs.writeFileSync(outFile, python.makeMemorySnapshot());
process.stdout.write(JSON.stringify({ modules }) + "\n");
