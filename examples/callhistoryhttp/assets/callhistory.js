// leadcalls: progressive enhancement of the call-history section. Without
// this script the refresh button is a plain form POST followed by a redirect;
// with it, the refresh runs through the JSON API while a progress message is
// shown, and only the table and the sync date are replaced.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const section = document.getElementById("call-history");
  const form = section && section.querySelector("form.refresh-form");
  if (!form || !section.dataset.refreshUrl || !window.fetch || !window.DOMParser) {
    return;
  }
  const button = form.querySelector("button");
  const progress = section.querySelector(".progress");
  const messages = document.getElementById("call-history-messages");

  const setBusy = (busy) => {
    button.disabled = busy;
    button.setAttribute("aria-busy", String(busy));
    progress.hidden = !busy;
    const body = document.getElementById("call-history-body");
    if (body) body.classList.toggle("is-stale", busy);
  };

  const showMessage = (text, isError) => {
    const box = document.createElement("div");
    box.className = isError ? "alert alert-error" : "alert alert-success";
    box.setAttribute("role", isError ? "alert" : "status");
    box.textContent = text;
    messages.replaceChildren(box);
  };

  // Replaces the table and the sync line with those of a fresh rendering of
  // this page, so that the server stays the only renderer.
  const reloadHistory = async () => {
    const resp = await fetch(window.location.pathname, { credentials: "same-origin" });
    if (!resp.ok) throw new Error("reload " + resp.status);
    const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
    for (const id of ["call-history-body", "call-history-sync"]) {
      const fresh = doc.getElementById(id);
      const current = document.getElementById(id);
      if (fresh && current) current.replaceWith(fresh);
    }
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.disabled) return;
    messages.replaceChildren();
    setBusy(true);
    try {
      const resp = await fetch(section.dataset.refreshUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      let body = {};
      try {
        body = await resp.json();
      } catch (_) {
        // Not JSON (a proxy's error page): the general message below.
      }
      if (!resp.ok || body.status !== "ok") {
        showMessage(body.message || section.dataset.msgFailed, true);
        return;
      }
      await reloadHistory();
      showMessage(body.message, false);
    } catch (_) {
      showMessage(section.dataset.msgFailed, true);
    } finally {
      setBusy(false);
    }
  });
});
