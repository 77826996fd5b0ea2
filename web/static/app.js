// Inside Telegram (the Mini App) only: follow / unfollow and "set my district" buttons.
// Telegram opens a Mini App with its signed initData in the address's fragment
// (#tgWebAppData=...); the server checks that signature on every POST. Outside Telegram this
// script does nothing and the pages are complete without it. No external script is loaded.
(function () {
  "use strict";
  var fragment = new URLSearchParams(location.hash.slice(1));
  var initData = fragment.get("tgWebAppData");
  if (!initData) { try { initData = sessionStorage.getItem("tgWebAppData"); } catch (e) {} }
  if (!initData) { return; }
  try { sessionStorage.setItem("tgWebAppData", initData); } catch (e) {}
  var status = document.getElementById("app-status");
  function say(text) {
    if (!status) { return; }
    status.textContent = text; status.hidden = false;
    setTimeout(function () { status.hidden = true; }, 3000);
  }
  function post(path, body) {
    body.initData = initData;
    body.lang = document.documentElement.lang;
    return fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
                         body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); });
  }
  function show(state) {
    document.querySelectorAll("[data-action=follow-measure]").forEach(function (b) {
      b.hidden = String(state.following_measure ? 0 : 1) !== b.dataset.on;
    });
    document.querySelectorAll("[data-action=follow-district]").forEach(function (b) {
      b.hidden = String(state.following_district ? 0 : 1) !== b.dataset.on;
    });
    document.querySelectorAll("[data-action=district]").forEach(function (b) {
      b.hidden = state.district === b.dataset.district;
    });
  }
  document.querySelectorAll(".tg-only").forEach(function (el) { el.hidden = false; });
  var measure = document.querySelector("[data-measure]");
  var district = document.querySelector("[data-action=follow-district]");
  var context = { measure_id: measure ? Number(measure.dataset.measure) : null,
                  district: district ? district.dataset.district : null };
  post("/app/api/state", Object.assign({}, context)).then(function (r) { if (r.ok) { show(r.body); } });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) { return; }
    var action = button.dataset.action, request;
    if (action === "district") {
      request = post("/app/api/district", { district: button.dataset.district });
    } else if (action === "follow-measure") {
      request = post("/app/api/follow", { measure_id: Number(button.dataset.measure), on: button.dataset.on === "1" });
    } else {
      request = post("/app/api/follow", { district: button.dataset.district, on: button.dataset.on === "1" });
    }
    request.then(function (r) {
      say(r.body.message || "");
      if (r.ok) { return post("/app/api/state", Object.assign({}, context)).then(function (s) { if (s.ok) { show(s.body); } }); }
    });
  });
})();
