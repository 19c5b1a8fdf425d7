// The workspace page's own script: refresh the panels without a reload, and the endpoint test box.
"use strict";
(function () {
  var REFRESH_MS = 5000;
  var messages = document.getElementById("messages");

  function show(text) {
    messages.textContent = text;
    messages.hidden = !text;
  }

  async function errorText(resp) {
    var text = await resp.text();
    try {
      var body = JSON.parse(text);
      return body.error || body.message || text;
    } catch (e) {
      return text.slice(0, 300);
    }
  }

  async function refresh() {
    if (document.hidden) return; // no work for a tab nobody looks at
    try {
      var resp = await fetch("/ui/api/panels", { credentials: "same-origin", cache: "no-store" });
      if (!resp.ok) {
        show("Refreshing failed (HTTP " + resp.status + "): " + (await errorText(resp)));
        return;
      }
      document.getElementById("panels").innerHTML = await resp.text();
      document.getElementById("refreshed").textContent = "refreshed " + new Date().toLocaleTimeString();
      show("");
    } catch (e) {
      show("The workspace does not answer (" + e.message + "); is the server still running?");
    }
  }

  function pretty(value) {
    return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  }

  async function predict(event) {
    event.preventDefault();
    var out = {
      request: document.getElementById("predict-request"),
      response: document.getElementById("predict-response"),
      status: document.getElementById("predict-status"),
      latency: document.getElementById("predict-latency"),
    };
    out.response.textContent = "...";
    out.status.textContent = "";
    out.latency.textContent = "-";
    var body = {
      model_id: document.getElementById("predict-model").value,
      input: document.getElementById("predict-input").value,
    };
    try {
      var resp = await fetch("/ui/api/predict", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      if (!resp.ok) {
        out.request.textContent = "-";
        out.response.textContent = "";
        show("The test call failed (HTTP " + resp.status + "): " + (await errorText(resp)));
        return;
      }
      var result = await resp.json();
      out.request.textContent = "POST " + result.url + "\n" + JSON.stringify(result.request);
      out.response.textContent = pretty(result.response);
      out.status.textContent = "HTTP " + result.status;
      out.latency.textContent = result.latency_ms + " ms";
      show("");
    } catch (e) {
      out.response.textContent = "";
      show("The test call failed: " + e.message);
    }
  }

  var form = document.getElementById("predict-form");
  if (form) form.addEventListener("submit", predict);
  setInterval(refresh, REFRESH_MS);
})();
