// The lab's dashboard: polls /api/chain/breakers every second for the state of every hop,
// follows /api/events for frontier's calls per second, and drives the admin routes with the
// token kept in sessionStorage.
(function () {
  "use strict";

  const POLL_MS = 1000;
  const CHART_SECONDS = 60;
  const TOKEN_KEY = "circuitlab.admin-token";
  const ACTIONS = ["open", "forced_open", "disabled", "metrics_only", "closed", "reset"];

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else if (key.startsWith("data-")) node.setAttribute(key, value);
      else node[key] = value;
    }
    for (const child of children) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function say(text) { $("message").textContent = text; }

  // --- token -------------------------------------------------------------------------
  function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

  function showToken() {
    $("token-state").textContent = token() ? "token kept for this tab" : "no token yet";
  }

  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    showToken();
    say(token() ? "Token kept; the buttons send it." : "No token kept.");
  });

  async function admin(method, path, body) {
    if (!token()) {
      say("Enter the admin token first (top right).");
      $("token").focus();
      return null;
    }
    const answer = await fetch(path, {
      method,
      headers: { "Authorization": "Bearer " + token(), "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await answer.text();
    if (answer.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      showToken();
    }
    let parsed = null;
    try { parsed = JSON.parse(text); } catch (e) { parsed = null; }
    say(answer.ok ? method + " " + decodeURIComponent(path) + ": done"
                  : answer.status + ": " + (parsed && parsed.error ? parsed.error : text));
    refresh();
    return answer.ok ? parsed : null;
  }

  // --- the chain -----------------------------------------------------------------------
  function percent(value) {
    return value === null || value === undefined ? "–" : value.toFixed(1) + "%";
  }

  // One labelled bar: the rate (empty before the window is evaluated) and its threshold mark.
  function gauge(label, rate, threshold) {
    const fill = el("div", { class: "fill" + (rate !== null && rate >= threshold ? " over" : "") });
    fill.style.width = (rate === null ? 0 : Math.min(rate, 100)) + "%";
    const mark = el("div", { class: "mark", title: "threshold " + threshold + "%" });
    mark.style.left = "calc(" + Math.min(threshold, 100) + "% - 1px)";
    return el("div", { class: "gauge-row" }, el("span", { class: "gauge-label" }, label),
      el("div", { class: "gauge" }, fill, mark));
  }

  function probeText(breaker) {
    if (breaker.state !== "open") return "";
    if (breaker.probe_due) return " · half-open on the next call";
    return " · probe in " + (breaker.next_probe_in_ms / 1000).toFixed(1) + " s";
  }

  // A trip clears the window; its counts as they were are in the transition's reason.
  function windowText(breaker, rates) {
    const w = breaker.window;
    if (w.calls === 0 && breaker.state === "open") {
      return "window cleared when it opened";
    }
    return rates + " · window " + w.calls + " calls, " + w.failures + " failed, " +
      w.slow_calls + " slow";
  }

  // Why a breaker is not closed: the reason of its last transition (newest first).
  function whyLine(breaker) {
    const last = breaker.transitions && breaker.transitions[0];
    if (breaker.state === "closed" || !last) return "";
    return el("div", { class: "why" }, last.from + " → " + last.to + ": " + last.reason);
  }

  function breakerCard(breaker) {
    const w = breaker.window;
    const c = breaker.config;
    const rates = w.evaluated
      ? "failure " + percent(w.failure_rate) + " / " + c.failure_rate_threshold + "% · slow " +
        percent(w.slow_call_rate) + " / " + c.slow_call_rate_threshold + "%"
      : "rates not yet evaluated (" + w.calls + " of " + c.minimum_calls + " calls)";
    const actions = el("div", { class: "actions" });
    for (const action of ACTIONS) {
      const button = el("button", { type: "button", title: "POST state " + action }, action);
      button.setAttribute("data-action", action);
      button.addEventListener("click", () => admin(
        "POST", "/api/chain/breakers/" + encodeURIComponent(breaker.name) + "/state",
        { state: action }));
      actions.append(button);
    }
    const state = el("span", { class: "state " + breaker.state }, breaker.state.replace("_", "-"));
    const card = { class: "breaker", "data-breaker": breaker.name, "data-state": breaker.state };
    return el("div", card,
      el("div", {}, el("span", { class: "name" }, breaker.name), " "),
      el("div", {}, state,
        el("span", { class: "muted" }, " gen " + breaker.generation + probeText(breaker))),
      el("div", { class: "muted" }, windowText(breaker, rates)),
      whyLine(breaker),
      gauge("failure", w.evaluated ? w.failure_rate : null, c.failure_rate_threshold),
      gauge("slow", w.evaluated ? w.slow_call_rate : null, c.slow_call_rate_threshold),
      actions);
  }

  function drawChain(hops) {
    const chain = $("chain");
    const parts = [];
    hops.forEach((hop, i) => {
      if (i > 0) parts.push(el("div", { class: "arrow" }, "→"));
      const hopBox = el("div", { class: "hop", "data-hop": hop.role }, hop.role);
      if (hop.error) hopBox.append(el("small", {}, hop.error));
      if (hop.chaos) {
        hopBox.append(el("small", {}, "fail " + hop.chaos.fail_rate + " · slow " +
          hop.chaos.slow_rate + " · sleep " + hop.chaos.sleep + " s"));
      }
      parts.push(hopBox);
      if (hop.breakers && hop.breakers.length) {
        parts.push(el("div", { class: "arrow" }, "→"));
        parts.push(el("div", { class: "link" }, ...hop.breakers.map(breakerCard)));
      }
    });
    chain.replaceChildren(...parts);
  }

  function drawTransitions(hops) {
    const rows = [];
    for (const hop of hops) {
      for (const breaker of hop.breakers || []) rows.push(...breaker.transitions);
    }
    rows.sort((a, b) => (a.at < b.at ? 1 : -1));
    $("transitions").tBodies[0].replaceChildren(...rows.slice(0, 20).map((t) => el("tr", {},
      el("td", {}, t.at.replace("T", " ").replace("Z", "")),
      el("td", {}, t.breaker),
      el("td", { class: "to-" + t.to }, t.from + " → " + t.to),
      el("td", {}, t.reason))));
  }

  function fillChaos(hops) {
    const backline = hops.find((hop) => hop.chaos);
    if (!backline) return;
    for (const key of ["fail_rate", "slow_rate", "sleep"]) {
      if (document.activeElement !== $(key)) $(key).value = backline.chaos[key];
    }
  }

  async function refresh() {
    try {
      const answer = await fetch("/api/chain/breakers", { cache: "no-store" });
      const body = await answer.json();
      drawChain(body.hops);
      drawTransitions(body.hops);
      fillChaos(body.hops);
      $("status").textContent = "updated " + new Date().toLocaleTimeString();
    } catch (e) {
      $("status").textContent = "frontier unreachable";
    }
  }

  // --- chaos and traffic ---------------------------------------------------------------
  function chaosValues() {
    return { fail_rate: Number($("fail_rate").value), slow_rate: Number($("slow_rate").value),
             sleep: Number($("sleep").value) };
  }

  $("chaos-form").addEventListener("submit", (event) => {
    event.preventDefault();
    admin("PUT", "/api/chain/chaos", chaosValues());
  });
  $("break").addEventListener("click", () => admin("PUT", "/api/chain/chaos",
    { fail_rate: 1, slow_rate: 0 }));
  $("heal").addEventListener("click", () => admin("PUT", "/api/chain/chaos",
    { fail_rate: 0, slow_rate: 0 }));

  for (const button of document.querySelectorAll("[data-traffic]")) {
    button.addEventListener("click", async () => {
      const path = button.getAttribute("data-traffic");
      const counts = {};
      for (let i = 0; i < 20; i++) {
        const answer = await fetch(path, { cache: "no-store" });
        await answer.arrayBuffer();
        counts[answer.status] = (counts[answer.status] || 0) + 1;
      }
      say(path + ": " + Object.entries(counts).map(([s, n]) => n + " × " + s).join(", "));
    });
  }

  // --- live chart ----------------------------------------------------------------------
  const series = {
    success: "#2e9e44", failure: "#d7342a", rejected: "#e99a1b", bypassed: "#3a6fd8",
  };
  const now = Math.floor(Date.now() / 1000);
  const data = [[], [], [], [], []];
  for (let i = CHART_SECONDS; i > 0; i--) {
    data[0].push(now - i);
    for (let s = 1; s < 5; s++) data[s].push(0);
  }
  function clockTime(seconds) {
    return new Date(seconds * 1000).toLocaleTimeString([], { hour12: false });
  }

  const CHART_HEIGHT = 220;
  const chartWidth = () => Math.max(320, $("chart").clientWidth || 520);
  const chart = new uPlot({
    width: chartWidth(),
    height: CHART_HEIGHT,
    series: [{}].concat(
      Object.entries(series).map(([label, stroke]) => ({ label, stroke, width: 2 }))),
    // uPlot's default time axis puts a date line under some ticks, and those collide on a
    // one-minute chart; the clock time alone says enough. The legend names the series only.
    axes: [{ space: 70, values: (u, ticks) => ticks.map(clockTime) }, { label: "calls/s" }],
    legend: { live: false },
    padding: [12, 28, 0, 0], // room for the last tick's time at the right edge
  }, data, $("chart"));
  // The chart follows its panel when the window is resized.
  new ResizeObserver(() => {
    if (chartWidth() !== chart.width) chart.setSize({ width: chartWidth(), height: CHART_HEIGHT });
  }).observe($("chart"));

  function onOutcomes(event) {
    const counts = JSON.parse(event.data);
    data[0].push(Math.floor(Date.now() / 1000));
    Object.keys(series).forEach((key, i) => data[i + 1].push(counts[key] || 0));
    for (const column of data) column.splice(0, column.length - CHART_SECONDS);
    chart.setData(data);
  }

  const events = new EventSource("/api/events");
  events.addEventListener("outcomes", onOutcomes);
  events.addEventListener("transition", refresh);
  window.addEventListener("beforeunload", () => events.close());

  showToken();
  refresh();
  setInterval(refresh, POLL_MS);
})();
