// Reading offline, on every page. Over HTTP: register the service worker (sw.js, at the site's
// top folder) that keeps this build for visits with no connection. Opened from disk: hide the
// download link, since the reader already holds the download and it is not inside itself.
// Any failure here leaves the site as it is without a service worker: nothing is reported.
"use strict";

(function () {
  const SITE_URL = new URL("../", document.currentScript.src);

  if (location.protocol === "file:") {
    for (const link of document.querySelectorAll("[data-offline-download]")) link.hidden = true;
    return;
  }
  if (!("serviceWorker" in navigator)) return;
  if (navigator.connection && navigator.connection.saveData) return;  // the reader asked to save data

  // The worker downloads the whole runtime to precache it. On a first visit the page is
  // downloading it too: wait until the widgets are live (or failed), so the worker's copy comes
  // from the browser's HTTP cache instead of a second download.
  function widgetsSettled() {
    const busy = () => document.querySelector('[data-widget]:is([data-stage="static"], [data-stage="loading"])');
    return new Promise((resolve) => {
      if (!busy()) return resolve();
      const observer = new MutationObserver(() => {
        if (busy()) return;
        observer.disconnect();
        resolve();
      });
      observer.observe(document.body, { subtree: true, attributeFilter: ["data-stage"] });
    });
  }

  function register() {
    navigator.serviceWorker.register(new URL("sw.js", SITE_URL), { scope: SITE_URL.href })
      .catch(() => {});  // e.g. storage refused, private mode: the site works online as before
  }

  const loaded = new Promise((resolve) => window.addEventListener("load", resolve, { once: true }));
  loaded.then(widgetsSettled).then(register);
})();
