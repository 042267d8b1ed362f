// Service worker: keeps one whole build of the site (pages, assets, the Python runtime) so that
// a reader who visited once can read and use every widget with no connection.
// The build puts it at the site's top folder, so its scope is the whole site wherever that lives,
// and fills in PRECACHE below: { build: id of this build, files: [[path, sha256 SRI], ...] }.
//
// One cache per build, named after its id: a page and everything it loads always come from the
// same build. A new build is a new sw.js; the browser installs it beside the old one and it
// takes over once no open page uses the old one (the default lifecycle, no skipWaiting), then
// deletes the old cache. Readers see a new build from their next visit after it was downloaded.
"use strict";

const PRECACHE = null;  // written by the build (offline.py)
const SCOPE = new URL(self.registration.scope);
// Several sites may share an origin (github.io/site-a/, /site-b/): only ours are named so.
const CACHE_PREFIX = "nextword " + SCOPE.pathname + " ";
const CACHE = CACHE_PREFIX + PRECACHE.build;
const PATHS = new Set(PRECACHE.files.map(([path]) => path));

self.addEventListener("install", (event) => {
  event.waitUntil(precache().catch(async (error) => {
    await caches.delete(CACHE);     // no half-filled cache is left behind; the next visit retries
    throw error;
  }));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(deleteOtherBuilds().then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const path = precachedPath(event.request);
  if (path !== null) event.respondWith(fromCache(path, event.request));
  // Anything else (the download, other sites of the origin) goes to the network as usual.
});

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

// The precached path a GET request asks for ("" and folders mean their index.html), else null.
function precachedPath(request) {
  if (request.method !== "GET") return null;
  const url = new URL(request.url);
  if (url.origin !== SCOPE.origin || !url.pathname.startsWith(SCOPE.pathname)) return null;
  let path = url.pathname.slice(SCOPE.pathname.length);
  if (path === "" || path.endsWith("/")) path += "index.html";
  return PATHS.has(path) ? path : null;
}

async function fromCache(path, request) {
  const cached = await caches.match(new URL(path, SCOPE), { cacheName: CACHE });
  // Missing only if the browser evicted the cache: then the network, as if there were no worker.
  return cached || fetch(request);
}
