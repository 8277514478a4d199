// The API key: asked for once, kept in this tab's sessionStorage only (never
// localStorage, a cookie or a URL), and forgotten when the tab closes.

import { byId } from "./dom.js";

const STORAGE_KEY = "service-recovery.api-key";
let pending = null;

export function storedKey() {
  return sessionStorage.getItem(STORAGE_KEY);
}

function announce() {
  window.dispatchEvent(new CustomEvent("api-key-changed"));
}

export function forgetKey() {
  sessionStorage.removeItem(STORAGE_KEY);
  announce();
}

/**
 * Ask the person for a key (one dialog at a time, however many requests wait).
 * Resolves to the key, now stored, or to null when they cancel.
 */
export function askForKey(reason) {
  if (pending) return pending;
  const dialog = byId("key-dialog");
  const input = byId("key-input");
  byId("key-message").textContent = reason;
  input.value = "";
  pending = new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      const key = input.value.trim();
      input.value = "";
      pending = null;
      if (dialog.returnValue === "use" && key) {
        sessionStorage.setItem(STORAGE_KEY, key);
        announce();
        resolve(key);
      } else {
        resolve(null);
      }
    }, { once: true });
  });
  dialog.returnValue = "";
  dialog.showModal();
  input.focus();
  return pending;
}
