// Small progressive enhancements; every page works without this file.
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = form.querySelector("button.danger");
  if (button && !window.confirm(button.textContent.trim() + "?")) {
    event.preventDefault();
  }
});
document.addEventListener("DOMContentLoaded", function () {
  // Show times in the reader's zone as a tooltip.
  document.querySelectorAll("[data-utc]").forEach(function (el) {
    el.title = new Date(el.dataset.utc).toString();
  });
  // Keep a page fresh when it asks for it (?refresh=seconds).
  var refresh = Number(new URLSearchParams(window.location.search).get("refresh"));
  if (refresh >= 2) { window.setTimeout(function () { window.location.reload(); }, refresh * 1000); }
});
