// Shijian's service worker: static files from the cache once fetched; the task list and visit pages from the
// network, or, with no network, the copy kept when they were last opened. Signing in or out empties the cache
// (the pages hold personal data). Results are never cached here: offline.js queues them.
const CACHE = "shijian-v1";
const PAGES = /^\/supervision\/(tasks|visits\/\d+)\/$/;

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname === "/login/" || url.pathname === "/logout/") {
    event.waitUntil(caches.delete(CACHE));
    return;
  }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(
      caches.open(CACHE).then((cache) =>
        cache.match(request).then(
          (hit) =>
            hit ||
            fetch(request).then((response) => {
              if (response.ok) cache.put(request, response.clone());
              return response;
            }),
        ),
      ),
    );
    return;
  }
  if (request.mode === "navigate" && PAGES.test(url.pathname)) {
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok && !response.redirected) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(request, copy));
          }
          return response;
        })
        .catch(() => caches.match(request).then((hit) => hit || Response.error())),
    );
  }
});
