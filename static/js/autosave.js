// Autosave of long texts: never lose a word (notes and addenda, deep interview, assessment conversation,
// child perspective, questionnaires; a relative's goal, added whole, is kept in the browser only).
//
// A form opts in with data attributes (markup: templates/includes/autosave.html):
//   data-autosave              the marker
//   data-autosave-url          where the draft is POSTed; empty: kept in this browser only, sent by the form
//   data-storage-key           the localStorage key of this record part's copy
//   data-idle-seconds          the server's idle sign-out
//   data-autosave-fields       the names of the fields a save sends (space-separated; "*": all of the form's,
//                              for a questionnaire, whose save replaces every answer)
//   data-autosave-version      the name of the hidden field with the version the page was read at
//
// - Saves a few seconds after typing stops, and when the page is hidden or left (keepalive).
// - Every save carries the version it was based on; the server refuses a stale one (409) and the
//   page shows the other saved text(s) next to its own, with "keep mine".
// - Until the server has confirmed a save the fields are also kept in localStorage, so a lost
//   connection, a server error or a sign-out loses nothing; on reload the copy comes back when it
//   was made from the version the page shows.
// - Before the idle sign-out the page saves and warns.
(function () {
  "use strict";

  const SAVE_AFTER_MS = 3000;
  const RETRY_MS = 10000;
  const WARN_BEFORE_IDLE_MS = 2 * 60 * 1000;

  function store(action) {
    try {
      return action(window.localStorage);
    } catch (e) {
      return null; // storage full or disabled: the server copy is all there is
    }
  }

  // Pages of a finished part (a signed note) only clear what an earlier draft may have left behind.
  document.querySelectorAll("[data-clear-draft]").forEach(function (el) {
    store(function (s) {
      s.removeItem(el.dataset.clearDraft);
    });
  });

  // The messages are in a <template>: translated by the server, not rendered until needed.
  const messages = {};
  const template = document.getElementById("autosave-messages");
  if (template) {
    template.content.querySelectorAll("[data-key]").forEach(function (el) {
      messages[el.dataset.key] = el.textContent.trim();
    });
  }
  const dialog = document.getElementById("idle-warning");
  let serverSeenAt = Date.now(); // the server's idle clock restarts with each request, not with typing
  let signedOut = false; // a request was sent to the login page: the server no longer knows this browser
  let idleTimer = null;
  const forms = Array.from(document.querySelectorAll("form[data-autosave]")).map(setUp);

  function setUp(form) {
    const url = form.dataset.autosaveUrl;
    const storageKey = form.dataset.storageKey;
    const names = form.dataset.autosaveFields.split(/\s+/).filter(Boolean);
    const version = form.dataset.autosaveVersion ? form.elements.namedItem(form.dataset.autosaveVersion) : null;
    const status = form.querySelector("[data-autosave-status]");
    const conflictBox = form.querySelector("[data-autosave-conflict]");
    let dirty = false;
    let saving = false;
    let timer = null;
    let submitting = false;

    function fields() {
      return Array.from(form.elements).filter(function (el) {
        if (names[0] === "*") {
          return el.name && el.name !== "csrfmiddlewaretoken" && el !== version && !/^(submit|button)$/.test(el.type);
        }
        return names.indexOf(el.name) !== -1;
      });
    }

    // {name: [values]}: checkboxes and multiple choices as lists, like a form post.
    function values() {
      const out = {};
      fields().forEach(function (el) {
        out[el.name] = out[el.name] || [];
        if ((el.type !== "checkbox" && el.type !== "radio") || el.checked) {
          out[el.name].push(el.value);
        }
      });
      return out;
    }

    function fill(kept) {
      fields().forEach(function (el) {
        const wanted = kept[el.name] || [];
        if (el.type === "checkbox" || el.type === "radio") {
          el.checked = wanted.indexOf(el.value) !== -1;
        } else {
          el.value = wanted[0] || "";
        }
      });
    }

    function keepLocally() {
      store(function (s) {
        s.setItem(storageKey, JSON.stringify({ values: values(), version: version ? version.value : "", at: Date.now() }));
      });
    }

    function forgetLocally() {
      store(function (s) {
        s.removeItem(storageKey);
      });
    }

    function say(message) {
      if (status) {
        status.textContent = message;
      }
    }

    function body() {
      const data = new FormData();
      data.append("csrfmiddlewaretoken", form.elements.namedItem("csrfmiddlewaretoken").value);
      const current = values();
      Object.keys(current).forEach(function (name) {
        current[name].forEach(function (value) {
          data.append(name, value);
        });
      });
      data.append(version.name, version.value);
      return data;
    }

    function schedule(delay) {
      window.clearTimeout(timer);
      if (url) {
        timer = window.setTimeout(save, delay);
      }
    }

    function save() {
      if (!url || !dirty || saving || submitting) {
        return Promise.resolve();
      }
      saving = true;
      dirty = false;
      say(messages.saving);
      return fetch(url, { method: "POST", body: body(), redirect: "manual", credentials: "same-origin" })
        .then(function (response) {
          if (response.type === "opaqueredirect" || response.status === 302) {
            // Signed out (idle, or elsewhere): the text stays in this browser for after signing in again.
            dirty = true;
            signedOut = true;
            say(messages.signed_out);
            return;
          }
          seenByServer();
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
        })
        .finally(function () {
          saving = false;
          if (dirty && conflictBox.hidden && !signedOut) {
            schedule(RETRY_MS);
          }
        });
    }

    function showConflict(data) {
      conflictBox.querySelector("[data-conflict-message]").textContent = data.message;
      const list = conflictBox.querySelector("[data-conflict-texts]");
      list.replaceChildren();
      data.texts.forEach(function (item) {
        const label = document.createElement("p");
        label.className = "mb-1 fw-semibold";
        label.textContent = item.label;
        const text = document.createElement("div");
        text.className = "border bg-white p-2 text-prewrap mb-2";
        text.textContent = item.text;
        list.append(label, text);
      });
      conflictBox.dataset.version = data.version;
      conflictBox.hidden = false;
      say(data.message);
    }

    if (conflictBox) {
      conflictBox.querySelector("[data-conflict-keep]").addEventListener("click", function () {
        // The user has seen the other text; theirs now becomes the newest version.
        version.value = conflictBox.dataset.version;
        conflictBox.hidden = true;
        dirty = true;
        keepLocally();
        save();
      });
    }

    function changed() {
      dirty = true;
      keepLocally();
      schedule(SAVE_AFTER_MS);
    }

    fields().forEach(function (el) {
      el.addEventListener(el.type === "checkbox" || el.type === "radio" ? "change" : "input", changed);
    });
    form.addEventListener("submit", function () {
      submitting = true;
      window.clearTimeout(timer);
      // The form's own post carries the text now, and a copy left behind is client data on a shared computer.
      // After the idle sign-out, though, that post is lost on the way to the login page: keep the copy then,
      // to come back after signing in again.
      if (!signedOut && Date.now() - serverSeenAt < idleMs()) {
        forgetLocally();
      }
    });
    window.addEventListener("online", function () {
      schedule(0);
    });

    // Leaving the page: one last save that outlives the page (keepalive). Not once signed out (it would be
    // refused), and, like every save, it never follows a redirect: followed, the sign-out's redirect was a
    // second visit to the login page, which started the login over while the user was signing in on it.
    function flush() {
      if (dirty && !submitting) {
        keepLocally();
        if (url && !signedOut) {
          fetch(url, { method: "POST", body: body(), keepalive: true, redirect: "manual", credentials: "same-origin" }).catch(
            function () {}
          );
        }
      }
    }
    window.addEventListener("pagehide", flush);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") {
        flush();
      }
    });

    // Text that never reached the server (offline, signed out, a crash) comes back from this browser,
    // if the copy was made from the version this page shows (else the server has a newer one).
    const kept = store(function (s) {
      return JSON.parse(s.getItem(storageKey) || "null");
    });
    if (kept && kept.version === (version ? version.value : "") && JSON.stringify(kept.values) !== JSON.stringify(values())) {
      fill(kept.values);
      say(url ? messages.restored : messages.restored_local);
      dirty = true;
      schedule(0);
    } else if (kept && url) {
      forgetLocally();
    }

    return {
      save: save,
      say: say,
      // The idle warning's "continue": a save is the request that keeps the sign-in alive.
      keepAlive: function () {
        if (!url) {
          return false;
        }
        dirty = true;
        save();
        return true;
      },
    };
  }

  function idleMs() {
    const form = document.querySelector("form[data-idle-seconds]");
    return form ? parseInt(form.dataset.idleSeconds, 10) * 1000 : 0;
  }

  function seenByServer() {
    serverSeenAt = Date.now();
    signedOut = false;
    resetIdle();
  }

  // Idle sign-out: warn two minutes before the server's sign-out, with the drafts already saved.
  function resetIdle() {
    window.clearTimeout(idleTimer);
    if (!forms.length) {
      return;
    }
    const due = idleMs() - (Date.now() - serverSeenAt) - WARN_BEFORE_IDLE_MS;
    if (idleMs() > WARN_BEFORE_IDLE_MS) {
      idleTimer = window.setTimeout(function () {
        forms.forEach(function (f) {
          f.save();
        });
        if (dialog && typeof dialog.showModal === "function" && !dialog.open) {
          dialog.showModal();
        }
      }, Math.max(due, 0));
    }
  }
  if (dialog) {
    dialog.querySelector("[data-idle-continue]").addEventListener("click", function () {
      dialog.close();
      // Any request keeps the sign-in alive: a save, or (texts kept in the browser only) the cheapest page.
      const saved = forms.map(function (f) {
        return f.keepAlive();
      });
      if (saved.indexOf(true) === -1) {
        fetch(dialog.dataset.keepaliveUrl, { redirect: "manual", credentials: "same-origin" }).then(function (response) {
          if (response.ok) {
            seenByServer();
            return;
          }
          signedOut = true; // too late: the text stays in this browser, to send after signing in again
          forms.forEach(function (f) {
            f.say(messages.signed_out);
          });
        }, function () {});
      }
    });
  }
  resetIdle();
})();
