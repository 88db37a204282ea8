// Autosave of a note draft: never lose a word.
//
// - Saves a few seconds after the therapist stops typing, and when the page is left.
// - Every save carries the version it was based on; the server refuses a stale one (409) and the
//   page shows both texts instead of overwriting either.
// - Until the server has confirmed a save, the text is also kept in this browser's localStorage,
//   so a lost connection, a server error or a sign-out loses nothing; the copy is removed as soon
//   as the server has it.
// - Before the idle sign-out the page saves the draft and warns.
(function () {
  "use strict";

  const SAVE_AFTER_MS = 3000;
  const RETRY_MS = 10000;
  const WARN_BEFORE_IDLE_MS = 2 * 60 * 1000;

  // Pages without the form (a signed note) only clear what an earlier draft may have left behind.
  document.querySelectorAll("[data-clear-draft]").forEach(function (el) {
    try {
      window.localStorage.removeItem(el.dataset.clearDraft);
    } catch (e) {
      /* storage unavailable: nothing to clear */
    }
  });

  const form = document.getElementById("note-form");
  if (!form) {
    return;
  }
  const url = form.dataset.autosaveUrl;
  const storageKey = form.dataset.storageKey;
  const idleMs = parseInt(form.dataset.idleSeconds, 10) * 1000;
  const text = form.querySelector("[name='note-text']");
  const version = form.querySelector("[name='note-version']");
  const status = document.getElementById("autosave-status");
  const conflictBox = document.getElementById("autosave-conflict");
  const messages = {};
  // The messages are in a <template>: translated by the server, not rendered until needed.
  document.getElementById("autosave-messages").content.querySelectorAll("[data-key]").forEach(function (el) {
    messages[el.dataset.key] = el.textContent.trim();
  });

  let dirty = false;
  let saving = false;
  let timer = null;
  let submitting = false;

  function themes() {
    return Array.from(form.querySelectorAll("[name='note-themes']:checked")).map(function (box) {
      return box.value;
    });
  }

  function keepLocally() {
    try {
      window.localStorage.setItem(
        storageKey,
        JSON.stringify({ text: text.value, themes: themes(), version: version.value, at: Date.now() })
      );
    } catch (e) {
      /* storage full or disabled: the server copy is all there is */
    }
  }

  function forgetLocally() {
    try {
      window.localStorage.removeItem(storageKey);
    } catch (e) {
      /* nothing to forget */
    }
  }

  function say(message) {
    status.textContent = message;
  }

  function body() {
    const data = new FormData();
    data.append("csrfmiddlewaretoken", form.querySelector("[name='csrfmiddlewaretoken']").value);
    data.append("note-text", text.value);
    data.append("note-version", version.value);
    themes().forEach(function (value) {
      data.append("note-themes", value);
    });
    return data;
  }

  function schedule(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(save, delay);
  }

  function save() {
    if (!dirty || saving || submitting) {
      return Promise.resolve();
    }
    saving = true;
    dirty = false;
    say(messages.saving);
    return fetch(url, { method: "POST", body: body(), redirect: "manual", credentials: "same-origin" })
      .then(function (response) {
        if (response.type === "opaqueredirect" || response.status === 302) {
          dirty = true;
          say(messages.signed_out);
          return;
        }
        return response.json().then(function (data) {
          if (response.ok) {
            version.value = data.version;
            conflictBox.hidden = true;
            if (!dirty) {
              forgetLocally();
            }
            say(data.message);
          } else if (response.status === 409) {
            dirty = true;
            showConflict(data);
          } else {
            dirty = true;
            say(data.error || messages.error);
          }
        });
      })
      .catch(function () {
        dirty = true;
        say(messages.offline);
        schedule(RETRY_MS);
      })
      .finally(function () {
        saving = false;
        if (dirty && conflictBox.hidden) {
          schedule(RETRY_MS);
        }
      });
  }

  function showConflict(data) {
    conflictBox.querySelector("[data-conflict-message]").textContent = data.message;
    conflictBox.querySelector("[data-conflict-text]").textContent = data.text;
    conflictBox.dataset.version = data.version;
    conflictBox.hidden = false;
    say(data.message);
  }

  conflictBox.querySelector("[data-conflict-keep]").addEventListener("click", function () {
    // The therapist has seen the other text; their own now becomes the newest version.
    version.value = conflictBox.dataset.version;
    conflictBox.hidden = true;
    dirty = true;
    keepLocally();
    save();
  });

  function changed() {
    dirty = true;
    keepLocally();
    schedule(SAVE_AFTER_MS);
  }

  text.addEventListener("input", changed);
  form.querySelectorAll("[name='note-themes']").forEach(function (box) {
    box.addEventListener("change", changed);
  });
  form.addEventListener("submit", function () {
    submitting = true;
    window.clearTimeout(timer);
  });
  window.addEventListener("online", function () {
    schedule(0);
  });

  // Leaving the page: one last save that outlives the page (keepalive).
  function flush() {
    if (dirty && !submitting) {
      keepLocally();
      fetch(url, { method: "POST", body: body(), keepalive: true, credentials: "same-origin" }).catch(function () {});
    }
  }
  window.addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      flush();
    }
  });

  // Text that never reached the server (offline, signed out, a crash) comes back from this browser.
  try {
    const kept = JSON.parse(window.localStorage.getItem(storageKey) || "null");
    if (kept && kept.version === version.value && kept.text !== text.value) {
      text.value = kept.text;
      say(messages.restored);
      dirty = true;
      schedule(0);
    } else if (kept) {
      forgetLocally(); // the server already has a newer version than this copy
    }
  } catch (e) {
    forgetLocally();
  }

  // Idle sign-out: warn two minutes before, with the draft already saved.
  const dialog = document.getElementById("idle-warning");
  let idleTimer = null;
  function resetIdle() {
    window.clearTimeout(idleTimer);
    if (idleMs > WARN_BEFORE_IDLE_MS) {
      idleTimer = window.setTimeout(function () {
        save();
        if (dialog && typeof dialog.showModal === "function" && !dialog.open) {
          dialog.showModal();
        }
      }, idleMs - WARN_BEFORE_IDLE_MS);
    }
  }
  ["keydown", "pointerdown", "input"].forEach(function (name) {
    document.addEventListener(name, resetIdle, { passive: true });
  });
  if (dialog) {
    dialog.querySelector("[data-idle-continue]").addEventListener("click", function () {
      dialog.close();
      dirty = true; // a save is also the request that keeps the sign-in alive
      save();
      resetIdle();
    });
  }
  resetIdle();
})();
