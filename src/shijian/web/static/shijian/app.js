// Behaviour once bound here, not in inline handlers (the Content-Security-Policy runs no inline script):
// a <select data-autosubmit> submits its form when changed; a <button data-print> prints the page.
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit") && el.form) el.form.submit();
});
document.addEventListener("click", (event) => {
  const el = event.target instanceof Element ? event.target.closest("[data-print]") : null;
  if (el) window.print();
});
// The phone app: the service worker keeps the task list and visit pages for use without a network.
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
