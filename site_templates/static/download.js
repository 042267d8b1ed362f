// Start-up's byte work, kept off the Python worker's thread: download the lock, then the heap
// snapshot and the wheels it names (each checked against the lock's sha256), gunzip the snapshot
// and unzip the wheels, natively (DecompressionStream).
//
// Over HTTP the page runs this file as a second worker, named "download", beside Python's worker
// (worker.js): it works on another core while that one loads Pyodide's 1.2 MB script and runtime,
// and hands over the results through a MessageChannel. From disk the files are already in memory:
// the bundle's worker script holds this file too, and start-up (startup.js) calls prepare() itself.
// Messages (protocol.js): the page sends "download"; this worker sends "snapshot" then "wheels",
// or "failed", on the port it was given, then closes.
"use strict";

if (self.name === "download") {
  if (typeof Protocol === "undefined") importScripts("protocol.js");
  self.onmessage = ({ data }) => {
    const wrong = Protocol.problem(data, "page", "download");
    if (wrong) throw new Error(wrong);               // the page's bug: its onerror says so
    const deliver = (message) => data.port.postMessage(message, buffersOf(message.bytes || message.files));
    prepare(data.indexURL, deliver)
      .catch((error) => deliver(Protocol.message("failed", { message: String(error && error.message || error) })))
      .finally(() => self.close());
  };
}

// The snapshot first, since Python's start waits for it; the wheels are needed only once it has
// started, so they do not take the snapshot's share of the connection.
async function prepare(indexURL, deliver) {
  const lock = await (await fetch(indexURL + "pyodide-lock.json")).json();
  const download = (entry) => fetchBytes(indexURL + entry.file_name, entry.sha256);
  const snapshot = lock.snapshot ? await download(lock.snapshot) : null;
  const wheels = Object.values(lock.packages).map(download);
  for (const wheel of wheels) wheel.catch(() => {});   // awaited below, in turn
  deliver(Protocol.message("snapshot", { bytes: snapshot && await gunzip(snapshot) }));
  const files = [];
  for (const wheel of wheels) files.push(await unzip(await wheel));
  deliver(Protocol.message("wheels", { files }));
}

async function fetchBytes(url, sha256) {
  const response = await fetch(url, { integrity: sri(sha256) });
  if (!response.ok) throw new Error(url.split("/").pop() + ": HTTP " + response.status);
  return new Uint8Array(await response.arrayBuffer());
}

function sri(hexSha256) {
  const bytes = hexSha256.match(/../g).map((pair) => parseInt(pair, 16));
  return "sha256-" + btoa(String.fromCharCode(...bytes));
}

// A wheel's files: [[path, bytes]], read from its zip directory and inflated natively.
async function unzip(zip) {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = zip.length - 22;                   // the end-of-directory record, found from the back
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < 0) throw new Error("a wheel is not a zip file");
  const count = view.getUint16(end + 10, true);
  const names = new TextDecoder();
  const entries = [];
  for (let i = 0, at = view.getUint32(end + 16, true); i < count; i++) {
    const method = view.getUint16(at + 10, true);
    const size = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const local = view.getUint32(at + 42, true);
    const path = names.decode(zip.subarray(at + 46, at + 46 + nameLength));
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (!path.endsWith("/")) entries.push([path, method, zip.subarray(start, start + size)]);
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  const files = [];
  for (const [path, method, data] of entries) files.push([path, method === 0 ? data : await decompress(data, "deflate-raw")]);
  return files;
}

// A DecompressionStream fed and drained directly (a Blob and Response around it cost ten times
// more for the wheels' many small files).
async function decompress(data, format) {
  const inflater = new DecompressionStream(format);
  const writer = inflater.writable.getWriter();
  writer.write(data).catch(() => {});         // a corrupt input is reported by the reader
  writer.close().catch(() => {});
  const reader = inflater.readable.getReader();
  const chunks = [];
  let size = 0;
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    chunks.push(read.value);
    size += read.value.length;
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(size);
  for (let i = 0, at = 0; i < chunks.length; at += chunks[i].length, i++) bytes.set(chunks[i], at);
  return bytes;
}

async function gunzip(bytes) {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;   // a host may have decoded it already
  return decompress(bytes, "gzip");
}

// Every buffer under a value (bytes, or wheels' files), so that posting it moves them instead of
// copying.
function buffersOf(value) {
  if (value instanceof Uint8Array) return [value.buffer];
  if (!Array.isArray(value)) return [];
  return [...new Set(value.flat(2).filter((x) => x instanceof Uint8Array).map((x) => x.buffer))];
}

