// The sandbox's week view: reads the calendars through the sandbox's Graph routes (as an app-only client,
// which may read every mailbox) and its three read-only /_sandbox/ routes; polls _sandbox/state and redraws
// when the store changes. No build step, no library.
"use strict";

const GRAPH = "v1.0/";
const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const WEEKDAY_INDEX = {monday: 0, tuesday: 1, wednesday: 2, thursday: 3, friday: 4, saturday: 5, sunday: 6};
const POLL_MS = 1500;
const $ = (sel) => document.querySelector(sel);

const view = {
  mailboxes: [],          // {address, name, kind: "person" | "room"}
  mailbox: null,          // the address shown
  viewer: null,           // who looks: private items of others show as "Private"
  settings: null,         // the mailbox's mailboxSettings (timeZone, workingHours)
  state: null,            // the last _sandbox/state
  monday: null,           // "YYYY-MM-DD" of the week shown
  events: [],
  selected: null,
  renders: 0,
};

// -- talking to the sandbox -------------------------------------------------------------------------------
async function graph(path, zone) {
  const headers = {Authorization: "Bearer sandbox-app", "X-Sandbox-View": "1"};
  if (zone) headers.Prefer = `outlook.timezone="${zone}"`;
  const r = await fetch(GRAPH + path, {headers});
  const body = await r.json();
  if (!r.ok) throw new Error(`${path}: ${(body.error && body.error.message) || r.status}`);
  return body;
}

async function graphAll(path, zone) {
  let body = await graph(path, zone);
  const items = body.value.slice();
  while (body["@odata.nextLink"]) {
    const next = body["@odata.nextLink"];
    body = await graph(next.slice(next.indexOf(GRAPH) + GRAPH.length), zone);
    items.push(...body.value);
  }
  return items;
}

async function local(path) {
  const r = await fetch("_sandbox/" + path, {cache: "no-store"});
  if (!r.ok) throw new Error(`_sandbox/${path}: ${r.status}`);
  return r.json();
}

// -- dates as plain "YYYY-MM-DD" strings (wall dates of the mailbox's zone; never the browser's zone) ------
function addDays(iso, n) {
  const d = new Date(iso + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
function mondayOf(iso) {
  const d = new Date(iso + "T00:00:00Z");
  return addDays(iso, -((d.getUTCDay() + 6) % 7));
}
function minutesOf(dateTime) { return Number(dateTime.slice(11, 13)) * 60 + Number(dateTime.slice(14, 16)); }
function hhmm(dateTime) { return dateTime.slice(11, 16); }
function longDate(iso) {
  return new Date(iso + "T00:00:00Z").toLocaleDateString("en-US", {timeZone: "UTC", weekday: "short", month: "short", day: "numeric"});
}

// -- what is drawn ------------------------------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else if (k === "text") node.textContent = v;
    else node[k] = v;
  }
  for (const c of children) node.append(c);
  return node;
}

function isPrivateToViewer(e) {
  return (e.sensitivity === "private" || e.sensitivity === "confidential") && view.viewer !== view.mailbox;
}
function shownSubject(e) { return isPrivateToViewer(e) ? "Private" : (e.subject || "(no subject)"); }

function eventBox(e, style) {
  const classes = ["event", "show-" + (e.showAs || "busy")];
  if (e.isCancelled) classes.push("cancelled");
  if (isPrivateToViewer(e)) classes.push("private");
  if (view.selected === e.id) classes.push("selected");
  const box = el("div", {
    class: classes.join(" "), "data-id": e.id, "data-subject": shownSubject(e), "data-show-as": e.showAs || "busy",
    "data-start": e.start.dateTime.slice(0, 16), "data-end": e.end.dateTime.slice(0, 16),
    title: `${shownSubject(e)} (${e.showAs})`,
  }, el("span", {class: "subject", text: shownSubject(e)}));
  if (!e.isAllDay) box.append(el("div", {class: "when", text: `${hhmm(e.start.dateTime)}–${hhmm(e.end.dateTime)}`}));
  Object.assign(box.style, style);
  box.addEventListener("click", () => showDetails(e));
  return box;
}

function workingSpans(date) {
  const wh = view.settings && view.settings.workingHours;
  if (!wh) return [];
  const weekday = Object.keys(WEEKDAY_INDEX)[(new Date(date + "T00:00:00Z").getUTCDay() + 6) % 7];
  if (!(wh.daysOfWeek || []).includes(weekday)) return [[0, 1440]];
  const start = minutesOf("0000-00-00T" + wh.startTime), end = minutesOf("0000-00-00T" + wh.endTime);
  return [[0, start], [end, 1440]];
}

function render() {
  const hour = parseFloat(getComputedStyle(document.documentElement).getPropertyValue("--hour")) || 28;
  const days = [...Array(7).keys()].map((i) => addDays(view.monday, i));
  const today = view.state && view.state.today;
  $("#week-label").textContent = `${longDate(days[0])} – ${longDate(days[6])}, ${days[0].slice(0, 4)}`;
  $("#clock").textContent = view.state ? `now ${view.state.today} ${view.state.time} (${view.settings.timeZone})` : "";

  const head = $("#grid-head");
  head.replaceChildren(el("div"), ...days.map((d) =>
    el("div", {class: d === today ? "today" : "", "data-date": d, text: longDate(d)})));

  // all-day strip: all-day events and anything that lasts a day or more, spanning their columns
  const strip = $("#allday");
  const long = view.events.filter((e) => e.isAllDay || dayDiff(e) * 1440 + minutesOf(e.end.dateTime) - minutesOf(e.start.dateTime) >= 1440);
  strip.replaceChildren(el("div", {style: `grid-row: 1 / span ${Math.max(long.length, 1)}`}));
  long.forEach((e, row) => {
    const startDay = e.start.dateTime.slice(0, 10);
    const first = startDay < days[0] ? 0 : days.indexOf(startDay);
    const endDay = e.isAllDay ? addDays(e.end.dateTime.slice(0, 10), -1) : e.end.dateTime.slice(0, 10);
    let last = days.indexOf(endDay);
    if (last === -1) last = endDay > days[6] ? 6 : first;
    const box = eventBox(e, {gridColumn: `${first + 2} / ${last + 3}`, gridRow: String(row + 1)});
    box.classList.add("all-day");
    strip.append(box);
  });

  const grid = $("#grid");
  const scroll = grid.scrollTop;
  const hours = el("div", {class: "hours"}, ...[...Array(24).keys()].map((h) => el("div", {text: `${String(h).padStart(2, "0")}:00`})));
  const columns = days.map((d) => {
    const col = el("div", {class: "day-col" + (d === today ? " today" : ""), "data-date": d});
    for (const [a, b] of workingSpans(d)) {
      if (b > a) col.append(el("div", {class: "nonworking", style: `top:${a / 60 * hour}px;height:${(b - a) / 60 * hour}px`}));
    }
    if (d === today && view.state) {
      col.append(el("div", {class: "now-line", style: `top:${minutesOf("0000-00-00T" + view.state.time) / 60 * hour}px`}));
    }
    return col;
  });
  const timed = view.events.filter((e) => !long.includes(e));
  days.forEach((d, i) => {
    const parts = timed.filter((e) => e.start.dateTime.slice(0, 10) <= d && e.end.dateTime.slice(0, 10) >= d && !(e.end.dateTime.slice(0, 10) === d && minutesOf(e.end.dateTime) === 0 && e.start.dateTime.slice(0, 10) < d))
      .map((e) => ({e, from: e.start.dateTime.slice(0, 10) < d ? 0 : minutesOf(e.start.dateTime),
        to: e.end.dateTime.slice(0, 10) > d ? 1440 : minutesOf(e.end.dateTime)}))
      .sort((a, b) => a.from - b.from || b.to - a.to);
    const lanes = [];   // greedy: each item takes the first lane free at its start
    for (const p of parts) {
      let lane = lanes.findIndex((end) => end <= p.from);
      if (lane === -1) { lane = lanes.length; lanes.push(0); }
      lanes[lane] = p.to;
      p.lane = lane;
    }
    for (const p of parts) {
      const width = 100 / lanes.length;
      columns[i].append(eventBox(p.e, {
        top: `${p.from / 60 * hour}px`, height: `${Math.max(p.to - p.from, 15) / 60 * hour}px`,
        left: `${p.lane * width}%`, width: `calc(${width}% - 2px)`,
      }));
    }
  });
  grid.replaceChildren(hours, ...columns);
  grid.scrollTop = view.renders ? scroll : 7 * hour;
  view.renders += 1;
  document.body.dataset.renders = String(view.renders);
  document.body.dataset.mailbox = view.mailbox;
  document.body.dataset.monday = view.monday;
}

function dayDiff(e) {
  return Math.round((Date.parse(e.end.dateTime.slice(0, 10)) - Date.parse(e.start.dateTime.slice(0, 10))) / 86400000);
}

// -- details ----------------------------------------------------------------------------------------------
const ORDINAL = {first: "first", second: "second", third: "third", fourth: "fourth", last: "last"};
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
function cap(s) { return s.charAt(0).toUpperCase() + s.slice(1); }
function list(words) { return words.length < 2 ? words.join("") : words.slice(0, -1).join(", ") + " and " + words[words.length - 1]; }

function recurrenceInWords(r) {
  const p = r.pattern, g = r.range, n = p.interval || 1;
  const days = (p.daysOfWeek || []).map(cap);
  let text;
  switch (p.type) {
    case "daily": text = n === 1 ? "Every day" : `Every ${n} days`; break;
    case "weekly": text = (n === 1 ? "Every week" : `Every ${n} weeks`) + (days.length ? ` on ${list(days)}` : ""); break;
    case "absoluteMonthly": text = `${n === 1 ? "Every month" : `Every ${n} months`} on day ${p.dayOfMonth}`; break;
    case "relativeMonthly": text = `${n === 1 ? "Every month" : `Every ${n} months`} on the ${ORDINAL[p.index || "first"]} ${list(days)}`; break;
    case "absoluteYearly": text = `Every year on ${MONTHS[p.month - 1]} ${p.dayOfMonth}`; break;
    case "relativeYearly": text = `Every year on the ${ORDINAL[p.index || "first"]} ${list(days)} of ${MONTHS[p.month - 1]}`; break;
    default: text = p.type;
  }
  text += `, from ${g.startDate}`;
  if (g.type === "endDate") text += ` until ${g.endDate}`;
  else if (g.type === "numbered") text += `, ${g.numberOfOccurrences} times`;
  else text += ", no end date";
  return text;
}

async function showDetails(e) {
  view.selected = e.id;
  document.querySelectorAll(".event.selected").forEach((n) => n.classList.remove("selected"));
  document.querySelectorAll(`.event[data-id="${CSS.escape(e.id)}"]`).forEach((n) => n.classList.add("selected"));
  const box = $("#details");
  const zone = view.settings.timeZone;
  const base = `users/${encodeURIComponent(view.mailbox)}/events/`;
  if (isPrivateToViewer(e)) {
    box.replaceChildren(el("h2", {text: "Private"}), el("dl", {},
      el("dt", {text: "When"}), el("dd", {text: whenText(e)}),
      el("dt", {text: "Shown as"}), el("dd", {class: "show-as", text: e.showAs})),
      el("p", {class: "hint", text: `A private item: only ${view.mailbox} (and delegates with private access) see its details.`}));
    box.dataset.id = e.id;
    return;
  }
  const full = await graph(base + encodeURIComponent(e.id), zone);
  let recurrence = full.recurrence;
  if (!recurrence && full.seriesMasterId) recurrence = (await graph(base + encodeURIComponent(full.seriesMasterId))).recurrence;
  const attachments = (await graph(base + encodeURIComponent(e.id) + "/attachments?$select=name,size,contentType")).value;
  const organizer = (full.organizer && full.organizer.emailAddress) || {};
  const attendees = (full.attendees || []).map((a) => el("li", {class: "attendee", "data-address": a.emailAddress.address, "data-response": a.status.response},
    `${a.emailAddress.name || a.emailAddress.address} `, el("small", {text: `<${a.emailAddress.address}> ${a.type}`}),
    el("span", {class: "response " + a.status.response, text: a.status.response}),
    a.proposedNewTime ? el("div", {class: "proposal", text: `proposes ${a.proposedNewTime.start.dateTime.slice(0, 16).replace("T", " ")}–${hhmm(a.proposedNewTime.end.dateTime)} (${a.proposedNewTime.start.timeZone})`}) : ""));
  const rows = [
    ["When", whenText(full)],
    ["Shown as", full.showAs],
    ["Organizer", `${organizer.name || ""} <${organizer.address || ""}>`],
    ["My response", (full.responseStatus || {}).response],
    ["Location", (full.location || {}).displayName || "—"],
    ["Kind", full.type + (full.isCancelled ? " (cancelled)" : "")],
  ];
  if (full.sensitivity !== "normal") rows.push(["Sensitivity", full.sensitivity]);
  if (full.onlineMeeting && full.onlineMeeting.joinUrl) rows.push(["Online", full.onlineMeeting.joinUrl]);
  const dl = el("dl");
  for (const [k, v] of rows) dl.append(el("dt", {text: k}), el("dd", {class: k.toLowerCase().replace(/ /g, "-"), text: v || "—"}));
  dl.append(el("dt", {text: "Repeats"}), el("dd", {class: "recurrence", text: recurrence ? recurrenceInWords(recurrence) : "does not repeat"}));
  box.replaceChildren(
    el("h2", {class: "subject", text: full.subject}), dl,
    el("h3", {text: `Attendees (${attendees.length})`}), el("ul", {class: "attendees"}, ...attendees),
    el("h3", {text: `Attachments (${attachments.length})`}),
    el("ul", {class: "attachments"}, ...attachments.map((a) => el("li", {class: "attachment", "data-name": a.name, text: `${a.name} (${a.size} bytes)`}))),
    el("p", {class: "body", text: full.bodyPreview || ""}));
  box.dataset.id = e.id;
}

function whenText(e) {
  if (e.isAllDay) {
    const last = addDays(e.end.dateTime.slice(0, 10), -1), first = e.start.dateTime.slice(0, 10);
    return first === last ? `${longDate(first)}, all day` : `${longDate(first)} – ${longDate(last)}, all day`;
  }
  return `${longDate(e.start.dateTime.slice(0, 10))} ${hhmm(e.start.dateTime)} – ${e.end.dateTime.slice(0, 10) !== e.start.dateTime.slice(0, 10) ? longDate(e.end.dateTime.slice(0, 10)) + " " : ""}${hhmm(e.end.dateTime)}`;
}

// -- outbox and requests ----------------------------------------------------------------------------------
async function loadLogs() {
  const [outbox, requests] = await Promise.all([local("outbox?limit=50"), local("requests?limit=50")]);
  $("#outbox").replaceChildren(...(outbox.value.length ? outbox.value.map((m) => el("li", {"data-seq": m.seq, "data-kind": m.kind},
    el("span", {class: "kind", text: m.kind}), ` ${m.sender} → ${m.recipient}: ${m.subject || ""}`,
    m.comment ? el("div", {class: "comment", text: `“${m.comment}”`}) : "", el("div", {class: "hint", text: m.created}))) : [el("li", {class: "hint", text: "Nothing sent yet."})]));
  $("#requests").replaceChildren(...(requests.value.length ? requests.value.map((q) => el("li", {"data-status": q.status},
    el("span", {class: q.status < 400 ? "status-ok" : "status-error", text: String(q.status)}), ` ${q.method} ${q.path}`,
    el("div", {class: "hint", text: `${q.at} · ${q.caller} · ${q.ms} ms`}))) : [el("li", {class: "hint", text: "No request yet."})]));
}

// -- loading ----------------------------------------------------------------------------------------------
async function loadWeek() {
  const zone = view.settings.timeZone;
  // a day either side of the week in UTC, then kept to the week's wall dates in the mailbox's zone
  const params = new URLSearchParams({startDateTime: addDays(view.monday, -1) + "T00:00:00Z",
    endDateTime: addDays(view.monday, 8) + "T00:00:00Z", $top: "1000"});
  const items = await graphAll(`users/${encodeURIComponent(view.mailbox)}/calendarView?${params}`, zone);
  const first = view.monday, end = addDays(view.monday, 7);
  view.events = items.filter((e) => e.start.dateTime.slice(0, 10) < end && (e.end.dateTime.slice(0, 16) > first + "T00:00"));
}

async function refresh() {
  try {
    view.state = await local(`state?zone=${encodeURIComponent(view.settings.timeZone)}`);
    await Promise.all([loadWeek(), loadLogs()]);
    render();
    $("#error").hidden = true;
  } catch (err) {
    $("#error").textContent = String(err.message || err);
    $("#error").hidden = false;
  }
}

async function chooseMailbox(address) {
  view.mailbox = address;
  view.selected = null;
  $("#details").replaceChildren(el("p", {class: "hint", text: "Click an event to see its details."}));
  view.settings = await graph(`users/${encodeURIComponent(address)}/mailboxSettings`);
  view.state = await local(`state?zone=${encodeURIComponent(view.settings.timeZone)}`);
  const url = new URL(location.href);
  const week = url.searchParams.get("week");  // ?week=YYYY-MM-DD: open at that day's week
  view.monday = mondayOf(/^\d{4}-\d{2}-\d{2}$/.test(week || "") ? week : view.state.today);
  url.searchParams.set("mailbox", address);
  url.searchParams.set("week", view.monday);
  history.replaceState(null, "", url);
  await refresh();
}

async function poll() {
  try {
    const s = await local(`state?zone=${encodeURIComponent(view.settings.timeZone)}`);
    const old = view.state || {};
    if (s.changes !== old.changes || s.messages !== old.messages || s.requests !== old.requests || s.today !== old.today) {
      await refresh();
      if (view.selected && view.events.some((e) => e.id === view.selected)) {
        await showDetails(view.events.find((e) => e.id === view.selected));
      }
    }
  } catch (err) { /* the sandbox restarting: try again at the next tick */ }
  setTimeout(poll, POLL_MS);
}

async function start() {
  const users = await graphAll("users?$select=displayName,mail,userPrincipalName&$top=100");
  const rooms = await graphAll("places/microsoft.graph.room?$top=100");
  const roomAddresses = new Set(rooms.map((r) => r.emailAddress.toLowerCase()));
  view.mailboxes = [
    ...users.filter((u) => !roomAddresses.has((u.mail || u.userPrincipalName).toLowerCase()))
      .map((u) => ({address: u.mail || u.userPrincipalName, name: u.displayName, kind: "person"})),
    ...rooms.map((r) => ({address: r.emailAddress, name: r.displayName, kind: "room"})),
  ];
  const people = view.mailboxes.filter((m) => m.kind === "person");
  const option = (m) => el("option", {value: m.address, "data-kind": m.kind, text: `${m.name} (${m.address})`});
  $("#mailbox").replaceChildren(
    el("optgroup", {label: "People"}, ...people.map(option)),
    el("optgroup", {label: "Rooms"}, ...view.mailboxes.filter((m) => m.kind === "room").map(option)));
  $("#viewer").replaceChildren(...people.map(option));
  const wanted = new URL(location.href).searchParams;
  const me = (await fetch(GRAPH + "me", {headers: {Authorization: "Bearer sandbox", "X-Sandbox-View": "1"}}).then((r) => r.ok ? r.json() : null));
  view.viewer = wanted.get("viewer") || (me && me.mail) || people[0].address;
  $("#viewer").value = view.viewer;
  const first = wanted.get("mailbox") || view.viewer;
  $("#mailbox").value = first;
  $("#mailbox").addEventListener("change", () => chooseMailbox($("#mailbox").value));
  $("#viewer").addEventListener("change", () => { view.viewer = $("#viewer").value; render(); });
  const go = (monday) => {
    view.monday = monday;
    const url = new URL(location.href);
    url.searchParams.set("week", monday);
    history.replaceState(null, "", url);
    refresh();
  };
  $("#prev").addEventListener("click", () => go(addDays(view.monday, -7)));
  $("#next").addEventListener("click", () => go(addDays(view.monday, 7)));
  $("#today").addEventListener("click", () => go(mondayOf(view.state.today)));
  await chooseMailbox(first);
  setTimeout(poll, POLL_MS);
}

start().catch((err) => { $("#error").textContent = String(err.message || err); $("#error").hidden = false; });
