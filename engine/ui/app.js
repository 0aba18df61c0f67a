// dualrec operator console: plain JavaScript, no framework, no build step.
//
// Talks only to the engine that served it: GET /v1/whoami to sign in,
// GET /v1/events (Server-Sent Events read with fetch, because EventSource
// cannot send the Authorization header) for every camera and site change,
// PUT /v1/cameras/{camera}/recording and POST /v1/recording/batch for the
// buttons, and GET /v1/cluster for the replica role when the engine has it.
//
// The API key lives in sessionStorage (this tab only) and travels only in
// the Authorization header. The DOM is built with text nodes only: camera
// and site names are never parsed as HTML.
"use strict";

(function () {
  const KEY_STORE = "dualrec.apiKey";
  const RETRY_MIN_MS = 500;
  const RETRY_MAX_MS = 5000;
  const CLUSTER_EVERY_MS = 10000;

  const $ = (id) => document.getElementById(id);

  const state = {
    key: null,
    role: null,
    keyName: null,
    cameras: [], // CameraState objects, configuration order
    index: new Map(), // camera name -> position in `cameras`
    sites: new Map(), // site name -> SiteView
    siteOrder: [],
    skewMs: 0, // server clock minus this browser's clock
    lastEventId: null,
    abort: null,
    selected: new Set(),
    page: 0,
    tiles: new Map(), // camera name -> tile element (current page only)
    renderQueued: false,
    clusterTimer: null,
    connected: false,
  };

  // ---- small helpers -------------------------------------------------

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  }

  function setText(e, text) {
    if (e.textContent !== text) e.textContent = text;
  }

  function setAttr(e, name, value) {
    if (e.getAttribute(name) !== value) e.setAttribute(name, value);
  }

  function fmtCount(n) {
    return n.toLocaleString("en");
  }

  function fmtAge(ms) {
    if (ms < 0) ms = 0;
    const s = Math.floor(ms / 1000);
    if (s < 60) return s + " s";
    const m = Math.floor(s / 60);
    if (m < 60) return m + " min " + (s % 60) + " s";
    const h = Math.floor(m / 60);
    return h + " h " + (m % 60) + " min";
  }

  function serverNow() {
    return Date.now() + state.skewMs;
  }

  function notice(text, isError) {
    const n = $("notice");
    n.textContent = text;
    n.className = isError ? "notice error" : "notice";
  }

  async function api(method, path, body) {
    const headers = { Authorization: "Bearer " + state.key };
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    let data = null;
    try {
      data = await res.json();
    } catch (_) {
      data = null;
    }
    if (res.status === 401) {
      signOut("The API key was refused (" + ((data && data.message) || "unauthorized") + ").");
      throw new Error("unauthorized");
    }
    if (!res.ok) {
      const msg = (data && data.message) || "HTTP " + res.status;
      throw new Error(msg);
    }
    return data;
  }

  // ---- sign in / out -------------------------------------------------

  async function signIn(key) {
    const res = await fetch("/v1/whoami", {
      headers: { Authorization: "Bearer " + key },
      cache: "no-store",
    });
    if (!res.ok) {
      let msg = "HTTP " + res.status;
      try {
        msg = (await res.json()).message || msg;
      } catch (_) {
        // keep the status
      }
      return { ok: false, message: msg };
    }
    const who = await res.json();
    if (who.role !== "read" && who.role !== "write") {
      // A `metrics` key may scrape /metrics and nothing else.
      return {
        ok: false,
        message: "Key \u201c" + who.key + "\u201d (role " + who.role + ") cannot open the console; use a read or write key.",
      };
    }
    state.key = key;
    state.role = who.role;
    state.keyName = who.key;
    sessionStorage.setItem(KEY_STORE, key);
    return { ok: true };
  }

  function showConsole() {
    $("signin").hidden = true;
    $("console").hidden = false;
    $("who").hidden = false;
    setText($("who-text"), "Key \u201c" + state.keyName + "\u201d (" + state.role + ")");
    const readOnly = state.role !== "write";
    $("readonly").hidden = !readOnly;
    document.body.classList.toggle("read-only", readOnly);
    for (const b of document.querySelectorAll("button.write")) b.disabled = readOnly;
    connect();
    pollCluster();
    scheduleRender();
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY_STORE);
    if (state.abort) state.abort.abort();
    if (state.clusterTimer) clearTimeout(state.clusterTimer);
    state.abort = null;
    state.key = null;
    state.role = null;
    state.cameras = [];
    state.index = new Map();
    state.sites = new Map();
    state.siteOrder = [];
    state.lastEventId = null;
    state.selected.clear();
    state.tiles.clear();
    state.page = 0;
    $("grid").replaceChildren();
    $("site-rows").replaceChildren();
    $("console").hidden = true;
    $("who").hidden = true;
    $("signin").hidden = false;
    setText($("signin-error"), message || "");
    $("api-key").focus();
  }

  // ---- the event stream ----------------------------------------------

  function setConn(s, text) {
    const c = $("conn");
    setAttr(c, "data-state", s);
    setText(c, text);
    state.connected = s === "live";
  }

  async function connect() {
    let delay = RETRY_MIN_MS;
    const ctrl = new AbortController();
    state.abort = ctrl;
    while (!ctrl.signal.aborted) {
      try {
        await readStream(ctrl);
        delay = RETRY_MIN_MS;
      } catch (e) {
        if (ctrl.signal.aborted) return;
        setConn("down", "engine unreachable, retrying");
      }
      if (ctrl.signal.aborted) return;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    }
  }

  async function readStream(ctrl) {
    setConn("connecting", "connecting");
    const headers = { Authorization: "Bearer " + state.key, Accept: "text/event-stream" };
    if (state.lastEventId) headers["Last-Event-ID"] = state.lastEventId;
    const res = await fetch("/v1/events", { headers, signal: ctrl.signal, cache: "no-store" });
    if (res.status === 401) {
      signOut("The API key was refused.");
      return;
    }
    if (!res.ok || !res.body) throw new Error("HTTP " + res.status);
    setConn("live", "live");
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value.replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        onBlock(block);
      }
    }
    setConn("down", "stream ended, reconnecting");
  }

  function onBlock(block) {
    let id = null;
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "id") id = value;
      else if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (data.length === 0) return;
    let payload;
    try {
      payload = JSON.parse(data.join("\n"));
    } catch (_) {
      return;
    }
    if (event === "snapshot") onSnapshot(payload);
    else if (event === "camera") onCamera(payload);
    else if (event === "site") onSite(payload);
    if (id !== null) state.lastEventId = id;
    scheduleRender();
  }

  function onSnapshot(s) {
    state.skewMs = s.server_time_ms - Date.now();
    state.cameras = s.cameras;
    state.index = new Map(s.cameras.map((c, i) => [c.camera, i]));
    state.sites = new Map();
    state.siteOrder = [];
    for (const v of s.sites) onSite(v);
  }

  function onCamera(c) {
    const i = state.index.get(c.camera);
    if (i === undefined) {
      state.index.set(c.camera, state.cameras.length);
      state.cameras.push(c);
    } else {
      state.cameras[i] = c;
    }
  }

  function onSite(v) {
    if (!state.sites.has(v.site)) state.siteOrder.push(v.site);
    state.sites.set(v.site, v);
  }

  // ---- cluster role (only when the engine has replicas) ---------------

  async function pollCluster() {
    if (!state.key) return;
    const p = $("cluster");
    try {
      const res = await fetch("/v1/cluster", {
        headers: { Authorization: "Bearer " + state.key },
        cache: "no-store",
      });
      if (res.ok) {
        const c = await res.json();
        const parts = ["This engine: " + (c.role || "unknown role")];
        if (c.leader !== undefined && c.leader !== null) parts.push("leader " + c.leader);
        if (c.epoch !== undefined && c.epoch !== null) parts.push("epoch " + c.epoch);
        setText(p, parts.join(" \u00b7 "));
        setAttr(p, "data-role", String(c.role || ""));
        p.hidden = false;
      } else {
        p.hidden = true; // a single engine: no cluster to show
      }
    } catch (_) {
      p.hidden = true;
    }
    state.clusterTimer = setTimeout(pollCluster, CLUSTER_EVERY_MS);
  }

  // ---- what a camera looks like --------------------------------------

  function siteProblem(name) {
    const v = state.sites.get(name);
    return v && v.problem ? v.problem : null;
  }

  // The badge of one camera on one site: the site's state first (down),
  // then a click on its way (pending: the site does not yet show what was
  // asked and a request is in flight), then what the site was seen doing.
  function badge(cam, s) {
    let st;
    let text;
    if (!s.site_up) {
      st = "down";
      text = "site down";
    } else if (s.pending && cam.recording !== null && (s.observed === "recording") !== cam.recording) {
      st = "pending";
      text = "pending";
    } else {
      st = s.observed;
      text = s.observed;
    }
    const problem = siteProblem(s.site);
    if (problem === "auth") text += ", auth problem";
    else if (problem === "certificate") text += ", certificate problem";
    return { st, text: s.site + ": " + text, problem };
  }

  function isMismatch(c) {
    return c.recording === true && c.sites.some((s) => !s.site_up || s.observed !== "recording");
  }

  function matches(c, filter, search) {
    if (search && !c.camera.toLowerCase().includes(search)) return false;
    switch (filter) {
      case "mismatch":
        return isMismatch(c);
      case "wanted":
        return c.recording === true;
      case "not-wanted":
        return c.recording !== true;
      case "unwanted":
        return c.recording !== true && c.sites.some((s) => s.observed === "recording");
      case "pending":
        return c.sites.some((s) => s.pending);
      case "trouble":
        return c.sites.some((s) => !s.site_up || siteProblem(s.site));
      default:
        return true;
    }
  }

  // ---- rendering -----------------------------------------------------

  function scheduleRender() {
    if (state.renderQueued) return;
    state.renderQueued = true;
    setTimeout(() => {
      state.renderQueued = false;
      render();
    }, 30);
  }

  function makeTile(name) {
    const check = el("input", { type: "checkbox", class: "select", "aria-label": "Select " + name });
    check.addEventListener("change", () => {
      if (check.checked) state.selected.add(name);
      else state.selected.delete(name);
      renderSummary();
    });
    const start = el("button", { type: "button", class: "start write", text: "Start Record" });
    const stop = el("button", { type: "button", class: "stop write", text: "Stop Record" });
    start.addEventListener("click", () => click([name], true));
    stop.addEventListener("click", () => click([name], false));
    const tile = el(
      "section",
      { class: "tile", role: "region", "aria-label": name, "data-camera": name },
      el("div", { class: "tile-head" }, check, el("h3", { text: name })),
      el("p", { class: "intent" }),
      el("ul", { class: "badges" }),
      el("div", { class: "actions" }, start, stop)
    );
    return tile;
  }

  function updateTile(tile, c) {
    const readOnly = state.role !== "write";
    const intent =
      c.recording === true ? "Wanted: recording" : c.recording === false ? "Wanted: stopped" : "Wanted: no click yet";
    setText(tile.querySelector(".intent"), intent);
    setAttr(tile, "data-intent", c.recording === true ? "recording" : c.recording === false ? "stopped" : "none");
    tile.classList.toggle("mismatch", isMismatch(c));
    const list = tile.querySelector(".badges");
    while (list.children.length > c.sites.length) list.lastChild.remove();
    c.sites.forEach((s, i) => {
      let li = list.children[i];
      if (!li) {
        li = el("li", { class: "badge" });
        list.append(li);
      }
      const b = badge(c, s);
      setAttr(li, "data-site", s.site);
      setAttr(li, "data-state", b.st);
      setAttr(li, "data-problem", b.problem || "");
      setText(li, b.text);
    });
    tile.querySelector(".select").checked = state.selected.has(c.camera);
    for (const b of tile.querySelectorAll("button.write")) b.disabled = readOnly;
  }

  function visibleCameras() {
    const search = $("search").value.trim().toLowerCase();
    const filter = $("filter").value;
    return state.cameras.filter((c) => matches(c, filter, search));
  }

  function render() {
    if (!state.key) return;
    renderSites();
    const shown = visibleCameras();
    const size = parseInt($("page-size").value, 10) || 48;
    const pages = Math.max(1, Math.ceil(shown.length / size));
    if (state.page >= pages) state.page = pages - 1;
    const slice = shown.slice(state.page * size, (state.page + 1) * size);
    setText($("page-text"), "Page " + (state.page + 1) + " of " + pages);
    $("prev-page").disabled = state.page === 0;
    $("next-page").disabled = state.page >= pages - 1;

    const keep = new Map();
    const els = slice.map((c) => {
      let t = state.tiles.get(c.camera);
      if (!t) t = makeTile(c.camera);
      updateTile(t, c);
      keep.set(c.camera, t);
      return t;
    });
    state.tiles = keep;
    const grid = $("grid");
    const same =
      grid.children.length === els.length && els.every((e, i) => grid.children[i] === e);
    if (!same) grid.replaceChildren(...els);
    renderSummary(shown.length);
  }

  function renderSummary(shownCount) {
    const total = state.cameras.length;
    const wanted = state.cameras.filter((c) => c.recording === true).length;
    const mismatched = state.cameras.filter(isMismatch).length;
    const shown = shownCount === undefined ? visibleCameras().length : shownCount;
    setText(
      $("summary"),
      fmtCount(total) + " cameras, " + fmtCount(shown) + " shown, " + fmtCount(wanted) +
        " wanted recording, " + fmtCount(mismatched) + " not recording on some site, " +
        fmtCount(state.selected.size) + " selected"
    );
  }

  function renderSites() {
    const body = $("site-rows");
    const rows = state.siteOrder.map((name) => {
      const v = state.sites.get(name);
      let tr = body.querySelector('tr[data-site="' + CSS.escape(name) + '"]');
      if (!tr) {
        tr = el("tr", { "data-site": name });
        tr.append(el("th", { scope: "row", text: name }));
        for (let i = 0; i < 5; i++) tr.append(el("td"));
      }
      const td = tr.children;
      setAttr(tr, "data-up", v.up ? "true" : "false");
      td[1].className = v.up ? "health up" : "health down";
      setText(td[1], v.up ? "up" : "down");
      setText(td[2], v.problem ? v.problem.replace("_", " ") : "none");
      const err = v.last_error
        ? v.last_error + (v.last_error_at_ms ? " (" + fmtAge(serverNow() - v.last_error_at_ms) + " ago)" : "")
        : "none";
      setText(td[3], err);
      setText(td[4], v.rtt_ms === null || v.rtt_ms === undefined ? "\u2013" : v.rtt_ms + " ms");
      setText(td[5], v.logged_in_at_ms ? fmtAge(serverNow() - v.logged_in_at_ms) : "not logged in");
      return tr;
    });
    const same = body.children.length === rows.length && rows.every((r, i) => body.children[i] === r);
    if (!same) body.replaceChildren(...rows);
  }

  // ---- actions -------------------------------------------------------

  async function click(cameras, recording) {
    if (state.role !== "write" || cameras.length === 0) return;
    const verb = recording ? "Start Record" : "Stop Record";
    try {
      if (cameras.length === 1) {
        const c = await api("PUT", "/v1/cameras/" + encodeURIComponent(cameras[0]) + "/recording", { recording });
        onCamera(c);
        notice(verb + " on " + cameras[0] + ": sent to every site.");
      } else {
        const r = await api("POST", "/v1/recording/batch", {
          intents: cameras.map((camera) => ({ camera, recording })),
        });
        notice(verb + " on " + fmtCount(r.results.length) + " cameras: sent to every site.");
      }
    } catch (e) {
      if (state.key) notice(verb + " failed: " + e.message, true);
    }
    scheduleRender();
  }

  function confirmThen(text, action) {
    const d = $("confirm");
    setText($("confirm-text"), text);
    const ok = $("confirm-ok");
    const cancel = $("confirm-cancel");
    const done = (go) => {
      ok.onclick = null;
      cancel.onclick = null;
      d.close();
      if (go) action();
    };
    ok.onclick = () => done(true);
    cancel.onclick = () => done(false);
    d.showModal();
    cancel.focus();
  }

  function bulk(recording) {
    const names = visibleCameras().map((c) => c.camera);
    if (names.length === 0) {
      notice("No camera matches the search and filter.", true);
      return;
    }
    const what = recording ? "Start recording on" : "Stop recording on";
    confirmThen(
      what + " " + fmtCount(names.length) + " camera" + (names.length === 1 ? "" : "s") +
        " (every camera matching the current search and filter) on every site?",
      () => click(names, recording)
    );
  }

  // ---- wiring --------------------------------------------------------

  function init() {
    $("signin-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const input = $("api-key");
      const key = input.value.trim();
      if (!key) return;
      $("signin-button").disabled = true;
      setText($("signin-error"), "");
      try {
        const r = await signIn(key);
        if (r.ok) {
          input.value = "";
          showConsole();
        } else {
          setText($("signin-error"), "The API key was refused: " + r.message);
          input.select();
        }
      } catch (e) {
        setText($("signin-error"), "The engine cannot be reached: " + e.message);
      } finally {
        $("signin-button").disabled = false;
      }
    });
    $("sign-out").addEventListener("click", () => signOut("Signed out."));
    for (const ev of ["input", "change"]) {
      $("search").addEventListener(ev, () => {
        state.page = 0;
        scheduleRender();
      });
    }
    $("filter").addEventListener("change", () => {
      state.page = 0;
      scheduleRender();
    });
    $("page-size").addEventListener("change", () => {
      state.page = 0;
      scheduleRender();
    });
    $("prev-page").addEventListener("click", () => {
      state.page = Math.max(0, state.page - 1);
      render();
    });
    $("next-page").addEventListener("click", () => {
      state.page += 1;
      render();
    });
    $("select-shown").addEventListener("click", () => {
      for (const name of state.tiles.keys()) state.selected.add(name);
      render();
    });
    $("select-none").addEventListener("click", () => {
      state.selected.clear();
      render();
    });
    $("start-selected").addEventListener("click", () => click([...state.selected], true));
    $("stop-selected").addEventListener("click", () => click([...state.selected], false));
    $("record-all").addEventListener("click", () => bulk(true));
    $("stop-all").addEventListener("click", () => bulk(false));
    // Ages in the site panel move on by themselves.
    setInterval(() => {
      if (state.key) renderSites();
    }, 1000);

    const saved = sessionStorage.getItem(KEY_STORE);
    if (saved) {
      signIn(saved)
        .then((r) => (r.ok ? showConsole() : signOut("The saved API key was refused: " + r.message)))
        .catch((e) => setText($("signin-error"), "The engine cannot be reached: " + e.message));
    } else {
      $("api-key").focus();
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
