// Service worker: keeps one whole build of the site (pages, assets, the Python runtime) so that
// a reader who visited once can read and use every widget with no connection.
// The build puts it at the site's top folder, so its scope is the whole site wherever that lives,
// and fills in PRECACHE below: { build: id of this build, files: [[path, sha256 SRI], ...] }.
//
// One cache per build, named after its id: a page and everything it loads always come from the
// same build. A new build is a new sw.js; the browser installs it beside the old one and it
// takes over once no open page uses the old one (the default lifecycle, no skipWaiting), then
// deletes the old cache. Readers see a new build from their next visit after it was downloaded.
//
// Pages of another build never get this build's files:
// - A navigation to a page this build does not list (a page only a newer deploy has) goes to
//   the network, and the page it makes is marked foreign: every request it, or a worker it
//   starts, makes goes to the network too, never to this build's cache. The marks are kept in
//   the cache, since the browser stops an idle service worker and its memory with it.
// - No clients.claim(): a page open before this worker took over was loaded without it, maybe
//   from another build, and keeps loading its files from the network until it is reloaded.
"use strict";

const PRECACHE = null;  // written by the build (offline.py)
const SCOPE = new URL(self.registration.scope);
// Several sites may share an origin (github.io/site-a/, /site-b/): only ours are named so.
const CACHE_PREFIX = "nextword " + SCOPE.pathname + " ";
const CACHE = CACHE_PREFIX + PRECACHE.build;
const PATHS = new Set(PRECACHE.files.map(([path]) => path));
// Where the ids of foreign clients are kept, in this build's cache: not a file of the site.
const FOREIGN = new URL("?service-worker-foreign-clients", SCOPE);
const KEEP_FOREIGN = 256;

self.addEventListener("install", (event) => {
  event.waitUntil(precache().catch(async (error) => {
    await caches.delete(CACHE);     // no half-filled cache is left behind; the next visit retries
    throw error;
  }));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(deleteOtherBuilds());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (!inScope(request)) return;      // the download, other sites of the origin: the network as usual
  const path = precachedPath(request.url);
  if (request.mode === "navigate") {
    if (path !== null) return event.respondWith(fromCache(path, request, event.resultingClientId));
    event.waitUntil(markForeign(event.resultingClientId));   // a page of another build
    return;
  }
  // Pyodide's wasm asked for "from=network" (startup.js compileWasm) goes to the network as usual:
  // the browser's HTTP cache keeps the code compiled from it, which it does not for a response
  // from this cache the first time one is served. Its name is its hash, so the host has this
  // build's bytes or none; then, or offline, the worker asks again without it, and gets this copy.
  if (path !== null && path.endsWith(".wasm") && new URL(request.url).searchParams.get("from") === "network") return;
  // A worker's script is looked at even when unlisted: a worker a foreign page starts is foreign.
  if (path === null && !["worker", "sharedworker"].includes(request.destination)) return;
  event.respondWith(forClient(event, path));
});

// A request of a page or worker: from this build's cache if the client is this build's.
async function forClient(event, path) {
  const foreignClient = await isForeign(event.clientId).catch(() => true);  // unsure: the network
  if (foreignClient) {
    // A worker that a foreign page starts is foreign too, and so is everything it loads.
    if (event.resultingClientId) await markForeign(event.resultingClientId).catch(() => {});
    return fetch(event.request);
  }
  return path === null ? fetch(event.request) : fromCache(path, event.request, null);
}

async function precache() {
  const cache = await caches.open(CACHE);
  await Promise.all(PRECACHE.files.map(async ([path, integrity]) => {
    // "no-cache": the browser's HTTP cache may answer only after the server confirms its copy is
    // current (so the page's own download is reused, not repeated); the integrity check then
    // refuses any byte that is not this build's, so a cache never mixes two deploys.
    const response = await fetch(new URL(path, SCOPE), { cache: "no-cache", integrity });
    if (!response.ok) throw new Error(path + ": HTTP " + response.status);
    await cache.put(new URL(path, SCOPE), await servable(response));
  }));
}

// Hosts that redirect (x.html -> x) give redirected responses, which a navigation may not use.
async function servable(response) {
  if (!response.redirected) return response;
  return new Response(await response.blob(), { status: response.status, headers: response.headers });
}

async function deleteOtherBuilds() {
  const names = await caches.keys();
  await Promise.all(names.filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE)
    .map((name) => caches.delete(name)));
}

function inScope(request) {
  const url = new URL(request.url);
  return request.method === "GET" && url.origin === SCOPE.origin && url.pathname.startsWith(SCOPE.pathname);
}

// The precached path an address in scope names ("" and folders mean their index.html), else null.
function precachedPath(url) {
  let path = new URL(url).pathname.slice(SCOPE.pathname.length);
  if (path === "" || path.endsWith("/")) path += "index.html";
  return PATHS.has(path) ? path : null;
}

async function fromCache(path, request, resultingClientId) {
  const cached = await caches.match(new URL(path, SCOPE), { cacheName: CACHE });
  if (cached) return cached;
  // Missing only if the browser evicted the cache: then the network, as if there were no worker;
  // a page so fetched may be of another build, so it is foreign.
  if (resultingClientId) await markForeign(resultingClientId).catch(() => {});
  return fetch(request);
}

// The foreign clients' ids, read once from the cache; every change goes through one queue.
let foreign = null;
let queue = Promise.resolve();

function withForeign(change) {
  queue = queue.then(async () => {
    if (foreign === null) {
      const kept = await caches.match(FOREIGN, { cacheName: CACHE });
      foreign = new Set(kept ? await kept.json() : []);
    }
    return change(foreign);
  });
  const result = queue;
  queue = queue.catch(() => {});
  return result;
}

// resultingClientId names the client a navigation or a worker's script makes (every browser
// since 2022), so a foreign client is marked before it makes any request of its own.
function isForeign(id) {
  return id ? withForeign((ids) => ids.has(id)) : Promise.resolve(false);
}

function markForeign(id) {
  if (!id) return Promise.resolve();
  return withForeign(async (ids) => {
    ids.add(id);
    // The newest only: an id is never reused, and clients.matchAll() does not list dedicated
    // workers, so it cannot tell which ids are gone.
    for (const old of ids) if (ids.size > KEEP_FOREIGN) ids.delete(old);
    const cache = await caches.open(CACHE);
    await cache.put(FOREIGN, new Response(JSON.stringify([...ids]), { headers: { "Content-Type": "application/json" } }));
  });
}
