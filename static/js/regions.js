// A table wider than its column scrolls sideways inside its wrapper (.table-responsive). A keyboard user can
// scroll it only when the wrapper can take the focus, and a screen reader names the region by the table's
// caption. Only a wrapper that does scroll becomes a tab stop: one that fits stays out of the tab order.
(function () {
  "use strict";

  function label(wrapper) {
    const caption = wrapper.querySelector("caption");
    return (wrapper.dataset.label || (caption ? caption.textContent : "")).trim().replace(/\s+/g, " ");
  }

  function update() {
    document.querySelectorAll(".table-responsive").forEach(function (wrapper) {
      if (wrapper.scrollWidth > wrapper.clientWidth) {
        wrapper.setAttribute("tabindex", "0");
        wrapper.setAttribute("role", "region");
        if (label(wrapper)) {
          wrapper.setAttribute("aria-label", label(wrapper));
        }
      } else if (wrapper.getAttribute("role") === "region") {
        wrapper.removeAttribute("tabindex");
        wrapper.removeAttribute("role");
        wrapper.removeAttribute("aria-label");
      }
    });
  }

  let pending = null;
  function soon() {
    window.clearTimeout(pending);
    pending = window.setTimeout(update, 100);
  }

  document.addEventListener("DOMContentLoaded", update);
  window.addEventListener("resize", soon);
  document.body.addEventListener("htmx:afterSettle", update);
})();
