// zwatch-web's page: the fleet graph, the event stream, agents and broker.
// Plain JS and d3 (v5, Debian's node-d3, served by zwatch-web): no build step.
// State comes from /api/fleet, refetched when the stream says the fleet changed.
"use strict";

const token = new URLSearchParams(location.search).get("token");
const withToken = (path) => token ? path + (path.includes("?") ? "&" : "?") +
                                    "token=" + encodeURIComponent(token) : path;
const STREAM_MAX = 500;                 // rows kept in the event stream
const STRUCTURAL = new Set(["agent_up", "agent_gone", "agent_lost", "socket_added",
  "socket_removed", "connection_up", "connection_down", "link_up", "link_down",
  "resync_done", "broker_back"]);
const FAILURE = /FAIL|RETRIED|DISCONNECTED/;

let fleet = null;                       // the last /api/fleet
let selected = null;                    // {type: "node"|"edge", id}
let paused = false, pendingRows = [];
let refreshTimer = null;
const recent = [];                      // recent events, for the details panel

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
function clock(ns) {
  if (!ns) return "";
  const d = new Date(ns / 1e6);
  return d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}
// A node: one service (all its hosts), one service on one host, or one host
function groupKey(host, svc) {
  const by = document.getElementById("group").value;
  return by === "host" ? host + "/" + svc : by === "hostonly" ? host : svc;
}

// ---- feed state and refresh -------------------------------------------------
function scheduleRefresh(delay) {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, delay);
}
async function refresh() {
  try {
    const reply = await fetch(withToken("/api/fleet"), { cache: "no-store" });
    if (!reply.ok) throw new Error("HTTP " + reply.status);
    fleet = await reply.json();
    render();
  } catch (error) {
    setFeed("bad", "zwatch-web unreachable", String(error));
  }
}
function setFeed(level, text, detail) {
  const badge = document.getElementById("feed");
  badge.className = "badge " + level;
  badge.textContent = text;
  document.getElementById("feed-detail").textContent = detail || "";
}
function renderFeed() {
  const f = fleet.feed;
  const detail = `gaps ${f.gaps}, lost ${f.lost}, resyncs ${f.resyncs}, bad ${f.bad}` +
                 (stream && stream.readyState !== 1 ? " · event stream reconnecting" : "");
  if (!f.reachable) setFeed("bad", "broker unreachable", detail);
  else if (!f.synced) setFeed("warn", "resyncing" + (f.resyncing ? " (" + f.resyncing + ")" : ""), detail);
  else setFeed("ok", "connected", detail);
}

// ---- the graph ------------------------------------------------------------
const svg = d3.select("#graph");
const layer = svg.append("g");
const edgeLayer = layer.append("g"), nodeLayer = layer.append("g");
svg.call(d3.zoom().scaleExtent([0.3, 3]).on("zoom", () => layer.attr("transform", d3.event.transform)));
const simulation = d3.forceSimulation()
  .force("link", d3.forceLink().id((d) => d.id).distance(150))
  .force("charge", d3.forceManyBody().strength(-350))
  .force("collide", d3.forceCollide(45))
  .on("tick", ticked);
let nodes = [], edges = [];

function graphData() {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const next = new Map();
  const node = (host, svc) => {
    const id = groupKey(host, svc);
    if (!next.has(id)) {
      const old = byId.get(id) || {};
      next.set(id, { id, label: id, hosts: new Set(), services: new Set(), agents: 0,
                     sockets: 0, connections: 0, retrying: 0, x: old.x, y: old.y, vx: old.vx, vy: old.vy });
    }
    const n = next.get(id);
    n.hosts.add(host); n.services.add(svc);
    return n;
  };
  for (const a of fleet.agents) node(a.host, a.svc).agents++;
  for (const s of fleet.sockets) {
    const n = node(s.host, s.svc);
    n.sockets++; n.connections += s.connections; n.retrying += s.retrying.length;
  }
  const links = new Map();
  for (const l of fleet.links) {
    const from = node(l.from.host, l.from.svc).id, to = node(l.to.host, l.to.svc).id;
    const id = from + "\u2192" + to;
    if (!links.has(id)) links.set(id, { id, source: from, target: to, count: 0 });
    links.get(id).count++;
  }
  for (const n of next.values()) n.alert = n.agents > 0 && (n.connections === 0 || n.retrying > 0);
  return { nodes: [...next.values()], edges: [...links.values()] };
}

function renderGraph() {
  const data = graphData();
  nodes = data.nodes; edges = data.edges;
  const box = svg.node().getBoundingClientRect();
  //  Pulled gently to the middle, so that a service linked to no one stays in view
  simulation.force("center", d3.forceCenter(box.width / 2, box.height / 2))
    .force("x", d3.forceX(box.width / 2).strength(0.06))
    .force("y", d3.forceY(box.height / 2).strength(0.1));
  for (const n of nodes)
    if (n.x === undefined) { n.x = box.width / 2 + (Math.random() - 0.5) * 200; n.y = box.height / 2 + (Math.random() - 0.5) * 150; }
  document.getElementById("graph-count").textContent =
    `${nodes.length} services, ${fleet.links.length} links`;

  const edge = edgeLayer.selectAll("g.edge").data(edges, (d) => d.id);
  edge.exit().remove();
  const edgeNew = edge.enter().append("g").attr("class", "edge")
    .on("click", (d) => select({ type: "edge", id: d.id }));
  edgeNew.append("line").attr("marker-end", "url(#arrow)");
  edgeNew.append("text");
  edgeNew.append("title");
  edgeLayer.selectAll("g.edge")
    .attr("data-from", (d) => (d.source.id || d.source)).attr("data-to", (d) => (d.target.id || d.target))
    .attr("data-count", (d) => d.count)
    .classed("selected", (d) => selected && selected.type === "edge" && selected.id === d.id)
    .select("text").text((d) => d.count > 1 ? "\u00d7" + d.count : "");
  edgeLayer.selectAll("g.edge").select("title")      // hover: what the link is
    .text((d) => `${d.source.id || d.source} \u2192 ${d.target.id || d.target}: ${d.count} link(s); click for details`);

  const node = nodeLayer.selectAll("g.node").data(nodes, (d) => d.id);
  node.exit().remove();
  const nodeNew = node.enter().append("g").attr("class", "node")
    .on("click", (d) => select({ type: "node", id: d.id }))
    .call(d3.drag()
      .on("start", (d) => { if (!d3.event.active) simulation.alphaTarget(0.3).restart(); d.fx = d.x; d.fy = d.y; })
      .on("drag", (d) => { d.fx = d3.event.x; d.fy = d3.event.y; })
      .on("end", (d) => { if (!d3.event.active) simulation.alphaTarget(0); d.fx = null; d.fy = null; }));
  nodeNew.append("circle").attr("r", 18);
  nodeNew.append("text").attr("dy", 34).attr("text-anchor", "middle");
  nodeNew.append("title");
  const byHost = document.getElementById("group").value !== "service";
  nodeLayer.selectAll("g.node")
    .attr("data-id", (d) => d.id)
    .classed("alert", (d) => d.alert)
    .classed("selected", (d) => selected && selected.type === "node" && selected.id === d.id)
    .select("text").text((d) => d.label + (d.agents > 1 ? ` (${d.agents})` : "") +
                                (d.retrying ? " retrying" : d.alert ? " no connections" : ""));
  nodeLayer.selectAll("g.node").select("title")      // hover: the node in one line
    .text((d) => `${d.id}: ${d.agents} agent(s) on ${[...d.hosts].join(", ")}, ${d.sockets} socket(s), ` +
                 `${d.connections} connection(s)${d.retrying ? ", " + d.retrying + " retrying" : ""}`);
  //  By host: one colour per host, so that a host's services read as a group
  nodeLayer.selectAll("g.node").select("circle")
    .style("fill", (d) => byHost && !d.alert ? hostColour([...d.hosts][0]) : null);

  simulation.nodes(nodes);
  simulation.force("link").links(edges);
  simulation.alpha(0.5).restart();
}

const hostColour = d3.scaleOrdinal(d3.schemeTableau10 || d3.schemeCategory10);

function ticked() {
  edgeLayer.selectAll("g.edge").select("line")
    .attr("x1", (d) => d.source.x).attr("y1", (d) => d.source.y)
    .attr("x2", (d) => d.target.x).attr("y2", (d) => d.target.y);
  edgeLayer.selectAll("g.edge").select("text")
    .attr("x", (d) => (d.source.x + d.target.x) / 2).attr("y", (d) => (d.source.y + d.target.y) / 2 - 4);
  nodeLayer.selectAll("g.node").attr("transform", (d) => `translate(${d.x},${d.y})`);
}
svg.append("defs").append("marker").attr("id", "arrow").attr("viewBox", "0 -5 10 10")
  .attr("refX", 28).attr("markerWidth", 7).attr("markerHeight", 7).attr("orient", "auto")
  .append("path").attr("d", "M0,-5L10,0L0,5").attr("fill", "#6e7681");

// ---- details ------------------------------------------------------------
function select(what) { selected = what; render(); }
function renderDetail() {
  const box = document.getElementById("detail");
  box.textContent = "";
  if (!selected || !fleet) { box.textContent = "Click a service or a link."; return; }
  const lines = [];
  const mine = (host, svc) => groupKey(host, svc) === selected.id;
  if (selected.type === "node") {
    box.append(el("h3", {}, selected.id));
    for (const s of fleet.sockets.filter((s) => mine(s.host, s.svc))) {
      lines.push(`${s.host}/${s.svc} pid ${s.pid}: ${s.sock} (${s.stype}), ${s.connections} connections`);
      for (const ep of s.listening) lines.push(`  listening ${ep}`);
      for (const r of s.retrying) lines.push(`  retrying ${r.endpoint} every ${r.ivl} ms since ${clock(r.since)}`);
      if (s.bind_error) lines.push(`  bind failed ${s.bind_error.endpoint}: ${s.bind_error.error}`);
    }
    for (const c of fleet.connections.filter((c) => mine(c.host, c.svc)))
      lines.push(`${c.sock} ${c.dir === "in" ? "\u2190" : "\u2192"} ${c.peer || "?"} (${c.endpoint}, since ${clock(c.since)})`);
    if (!lines.length) lines.push("no sockets");
    lines.push("", "recent events:");
    for (const e of recent.filter((e) => mine(e.host, e.svc)).slice(-12))
      lines.push(`${clock(e.ts)} ${e.sock} ${e.event} ${e.endpoint || ""}`);
  } else {
    const links = fleet.links.filter((l) =>
      groupKey(l.from.host, l.from.svc) + "\u2192" + groupKey(l.to.host, l.to.svc) === selected.id);
    box.append(el("h3", {}, selected.id));
    for (const l of links)
      lines.push(`${l.from.host}/${l.from.svc} ${l.from.sock} ${l.from.addr} \u2192 ` +
                 `${l.to.host}/${l.to.svc} ${l.to.sock} ${l.to.addr}\n  ${l.endpoint}, since ${clock(l.since)}`);
    if (!links.length) lines.push("link gone");
  }
  box.append(el("pre", {}, lines.join("\n")));
}

// ---- agents and broker --------------------------------------------------
function renderTables() {
  const body = document.querySelector("#agents tbody");
  body.textContent = "";
  const agents = [...fleet.agents].sort((a, b) => (a.host + a.svc).localeCompare(b.host + b.svc) || a.pid - b.pid);
  for (const a of agents) {
    const row = el("tr", { "data-host": a.host, "data-svc": a.svc });
    for (const [value, num] of [[a.host], [a.svc], [a.pid, 1], [clock(a.start)], [a.events, 1],
                                [a.lost, 1], [a.dropped, 1]])
      row.append(el("td", num ? { class: "num" } : {}, String(value)));
    body.append(row);
  }
  const broker = document.querySelector("#broker tbody");
  broker.textContent = "";
  for (let [key, value] of Object.entries(fleet.broker)) {
    if (key === "v" || key === "ts" || (typeof value === "object" && value !== null)) continue;
    if (key === "uptime") { key = "uptime (s)"; value = Math.round(value / 1000); }
    const row = el("tr");
    row.append(el("th", {}, key), el("td", { class: "num" }, String(value)));
    broker.append(row);
  }
}

function render() {
  if (!fleet) return;
  renderFeed(); renderGraph(); renderDetail(); renderTables();
}
document.getElementById("group").addEventListener("change", () => { selected = null; render(); });

// ---- the event stream ------------------------------------------------------
function describe(m) {
  switch (m.kind) {
    case "event": return [m.event, `${m.host}/${m.svc} ${m.sock} ${m.endpoint || ""} ${m.peer ? "peer " + m.peer : ""}`];
    case "link_up": case "link_down":
      return [m.kind, `${m.from.host}/${m.from.svc} ${m.from.sock} \u2192 ${m.to.host}/${m.to.svc} ${m.to.sock} ${m.endpoint}`];
    case "connection_up": case "connection_down":
      return [m.kind, `${m.host}/${m.svc} ${m.sock} ${m.dir} ${m.peer || ""}`];
    case "gap": return [m.kind, `${m.host}/${m.svc} lost ${m.lost}`];
    default: return [m.kind, [m.host && `${m.host}/${m.svc}`, m.sock, m.reason].filter(Boolean).join(" ")];
  }
}
function rowVisible(row) {
  const value = (id) => document.getElementById(id).value.trim().toLowerCase();
  const host = value("f-host"), svc = value("f-service"), ev = value("f-event");
  const name = row.dataset.event.toLowerCase();
  if (host && !row.dataset.host.toLowerCase().includes(host)) return false;
  if (svc && !row.dataset.svc.toLowerCase().includes(svc)) return false;
  if (ev && !name.includes(ev)) return false;
  if (document.getElementById("f-failures").checked && row.dataset.fail !== "1") return false;
  return true;
}
function addRow(m) {
  const [name, text] = describe(m);
  const host = m.host || (m.from ? m.from.host + " " + m.to.host : "");
  const svc = m.svc || (m.from ? m.from.svc + " " + m.to.svc : "");
  const fail = (m.kind === "event" && FAILURE.test(m.event)) || m.kind === "agent_lost" ||
               m.kind === "gap" || m.kind === "broker_unreachable";
  const row = el("div", { class: "ev" + (m.kind === "event" ? "" : " change") + (fail ? " fail" : ""),
                          "data-kind": m.kind, "data-event": name, "data-host": host,
                          "data-svc": svc, "data-fail": fail ? "1" : "0" });
  row.append(el("span", { class: "t" }, clock(m.ts || m.at * 1e6) + " "), el("span", { class: "n" }, name),
             document.createTextNode(" " + text));
  row.style.display = rowVisible(row) ? "" : "none";
  const list = document.getElementById("events");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  list.append(row);
  while (list.childElementCount > STREAM_MAX) list.firstElementChild.remove();
  if (atBottom) list.scrollTop = list.scrollHeight;
  document.getElementById("events-count").textContent = list.childElementCount + " shown";
}
function take(m) {
  if (m.kind === "stats") return;
  if (m.kind === "event") { recent.push(m); if (recent.length > 2000) recent.shift(); }
  if (STRUCTURAL.has(m.kind) || m.kind === "event") scheduleRefresh(STRUCTURAL.has(m.kind) ? 150 : 1000);
  if (paused) {
    pendingRows.push(m);
    if (pendingRows.length > STREAM_MAX) pendingRows.shift();
    document.getElementById("paused").textContent = pendingRows.length + " waiting";
  } else addRow(m);
}
function refilter() {
  for (const row of document.getElementById("events").children)
    row.style.display = rowVisible(row) ? "" : "none";
}
for (const id of ["f-host", "f-service", "f-event"])
  document.getElementById(id).addEventListener("input", refilter);
document.getElementById("f-failures").addEventListener("change", refilter);
document.getElementById("pause").addEventListener("click", (e) => {
  paused = !paused;
  e.target.textContent = paused ? "resume" : "pause";
  e.target.classList.toggle("on", paused);
  if (!paused) {
    pendingRows.forEach(addRow); pendingRows = [];
    document.getElementById("paused").textContent = "";
  }
});

let stream = null;
async function start() {
  try {
    const reply = await fetch(withToken("/api/history"), { cache: "no-store" });
    if (reply.ok) (await reply.json()).forEach((m) => m && take(m));
  } catch (error) { /* the stream brings what comes next */ }
  stream = new EventSource(withToken("/api/events"));
  stream.onmessage = (e) => { try { take(JSON.parse(e.data)); } catch (error) { /* skip */ } };
  stream.onopen = () => scheduleRefresh(0);
  stream.onerror = () => { if (fleet) renderFeed(); };
  refresh();
  setInterval(refresh, 5000);           // feed state and counters, changes or not
}
start();
