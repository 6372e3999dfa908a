// The PropFlow service-desk console: a client of the JSON API, nothing more.
//
// Every value from the server is put on the page as text (textContent, text nodes, element
// attributes set one by one): nothing is ever parsed as HTML, so a field holding "<script>"
// shows those characters. The token stays in sessionStorage and goes out only in the
// Authorization header; it is never put in a URL.

const LANG = document.documentElement.lang === "en" ? "en" : "zh-CN";
const WORDS = await (await fetch("/console/messages.json", { cache: "no-cache" })).json();
/** How often the page asks the server for changes, in milliseconds. */
const POLL_MS = 3000;
const TOKEN_KEY = "propflow.token";
const ESTATE_KEY = "propflow.estate";

// --- words and labels -----------------------------------------------------------------------

function t(key, ...args) {
  let text = WORDS[LANG][key] ?? WORDS["zh-CN"][key] ?? key;
  args.forEach((arg, index) => { text = text.replaceAll(`{${index}}`, String(arg)); });
  return text;
}

/** A label of the definition ({zh-CN, en} or text) in the page's language. */
function label(value, fallback) {
  if (value == null) return fallback;
  if (typeof value === "string") return value;
  return value[LANG] ?? value["zh-CN"] ?? value.en ?? fallback;
}

const dateTime = new Intl.DateTimeFormat(LANG, { dateStyle: "short", timeStyle: "short" });
function when(iso) { return iso ? dateTime.format(new Date(iso)) : ""; }

// --- building the page: elements with text children only -----------------------------------

function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (typeof value === "boolean" || typeof value === "number") element[key] = value;
    else element.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** Replace an element's children (those that are not null, false or undefined). */
function put(element, ...children) {
  element.replaceChildren(...children.flat(Infinity).filter((child) => child != null && child !== false));
}

const main = document.getElementById("main");
const flash = document.getElementById("flash");

let flashTimer = 0;
function say(text, kind = "ok") {
  flash.textContent = text;
  flash.className = `flash ${kind}`;
  flash.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => { flash.hidden = true; }, 8000);
}

// --- the session and the API ----------------------------------------------------------------

const session = {
  me: null,
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  get estate() { return sessionStorage.getItem(ESTATE_KEY); },
};

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.reason || problem.detail || problem.title || String(status));
    this.status = status;
    this.problem = problem;
  }
}

function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function request(path, { method = "GET", body, headers = {}, as = "json" } = {}) {
  const response = await fetch(path, {
    method,
    headers: {
      Authorization: `Bearer ${session.token}`,
      Accept: as === "json" ? "application/json" : "*/*",
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    credentials: "omit",
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({ detail: response.statusText }));
    if (response.status === 401 && session.me) signOut(problem.detail);
    throw new ApiError(response.status, problem);
  }
  return as === "blob" ? response.blob() : response.json();
}

const inEstate = (path) => `/estates/${encodeURIComponent(session.estate)}${path}`;
const api = (path, options) => request(inEstate(path), options);

const definitions = new Map();
/** A process's (merged) definition, asked for once per page load. */
function definition(process) {
  if (!definitions.has(process)) {
    const asked = api(`/processes/${encodeURIComponent(process)}`).then((out) => out.definition);
    asked.catch(() => definitions.delete(process));
    definitions.set(process, asked);
  }
  return definitions.get(process);
}

const limitLabels = new Map();
/** A time limit's label, read once from the clocks of a case it runs on (the board names
 * limits by id only). */
function limitLabel(process, limit, caseId) {
  const key = `${process}/${limit}`;
  if (!limitLabels.has(key)) {
    const asked = api(`/cases/${encodeURIComponent(caseId)}`)
      .then((detail) => detail.clocks.find((clock) => clock.limit === limit)?.label || limit);
    asked.catch(() => limitLabels.delete(key));
    limitLabels.set(key, asked);
  }
  return limitLabels.get(key);
}

let processList = null;
function processes() {
  processList ??= api("/processes");
  return processList;
}

/** Whether the event may be fired from ``state`` at all (the others are not shown). */
function fromHere(def, event, state) {
  const from = def.events?.[event]?.from;
  if (from == null) return true;
  return (Array.isArray(from) ? from : [from]).some((s) => s === state || s === "*");
}

const processTitle = (def) => label(def.title, def.process);
const stateLabel = (def, state) => label(def.states?.[state]?.label, state);
const eventLabel = (def, event) => label(def.events?.[event]?.label, event);
function roleLabel(def, role) {
  if (role == null) return t("unassigned");
  return label(def?.roles?.[role]?.label, role);
}

/** A role's label from the first of the estate's processes that has it (for what names a
 * role with no process at hand: the caller's roles, a notification of no process). */
async function estateRoleLabel(role) {
  const defs = await Promise.all((await processes()).map((p) => definition(p.id)));
  return label(defs.find((def) => def.roles?.[role])?.roles[role].label, role);
}

/** What a history entry was: an event, the opening, or a time limit's warning or breach. */
function entryLabel(def, event, clockLabels) {
  if (event === "open") return t("history_open");
  const [kind, limit] = event.split(":", 2);
  if (limit && ["warning", "breach", "tier", "due", "extend"].includes(kind)) return t(`history_${kind}`, clockLabels[limit] ?? limit);
  return eventLabel(def, event);
}

// --- time limits: countdowns kept ticking ---------------------------------------------------

function span(ms) {
  const seconds = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  if (days > 0) return t("days", days, hours);
  const minutes = Math.floor((seconds % 3600) / 60);
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(hours)}:${pad(minutes)}:${pad(seconds % 60)}`;
}

/** A countdown badge: time left, or overdue; warned, paused and stopped as such. */
function countdown({ deadline, breached = false, warned = false, paused = false, stopped = false }) {
  const badge = h("span", { class: "due", dataset: {} });
  if (stopped) { badge.textContent = t("stopped"); badge.classList.add("stopped"); return badge; }
  if (paused) { badge.textContent = t("paused"); badge.classList.add("paused"); return badge; }
  if (!deadline) { badge.textContent = t("no_clock"); badge.classList.add("none"); return badge; }
  badge.dataset.deadline = deadline;
  if (breached) badge.dataset.breached = "true";
  if (warned) badge.dataset.warned = "true";
  tick(badge);
  return badge;
}

/** A paused clock's badge: it stands still, with the working time it will have left when it
 * resumes (or how far over it already was). */
function pausedBadge(clock) {
  const left = (clock.remaining_seconds ?? 0) * 1000;
  const text = clock.remaining_seconds == null ? t("paused")
    : left < 0 ? t("paused_over", span(left)) : t("paused_left", span(left));
  return h("span", { class: `due paused${left < 0 || clock.breached ? " breached" : ""}`,
    title: clock.label || clock.limit, dataset: { paused: clock.limit } }, text);
}

function tick(badge) {
  const left = new Date(badge.dataset.deadline).getTime() - Date.now();
  const over = left <= 0 || badge.dataset.breached === "true";
  // A breach recorded before the deadline (an earlier tier, a moved deadline) says only that.
  badge.textContent = left <= 0 ? t("overdue", span(left)) : over ? t("breached") : t("left", span(left));
  badge.classList.toggle("breached", over);
  badge.classList.toggle("warned", !over && badge.dataset.warned === "true");
  badge.title = over ? t("breached") : badge.dataset.warned === "true" ? t("warned") : "";
}

setInterval(() => document.querySelectorAll(".due[data-deadline]").forEach(tick), 1000);

// --- forms from a definition's fields -------------------------------------------------------

function fieldInput(name, field, value) {
  const id = `field-${name}`;
  const common = { id, name, required: Boolean(field.required) };
  if (field.type === "enum") {
    return h("select", common,
      h("option", { value: "" }, "—"),
      (field.values ?? []).map((option) => h("option",
        { value: option, selected: value === option },
        label(field.value_labels?.[option], option))));
  }
  if (field.type === "bool") return h("input", { ...common, type: "checkbox", required: false, checked: value === true });
  if (field.type === "list") {
    return h("textarea", { ...common, rows: 3, placeholder: t("list_hint") },
      Array.isArray(value) ? value.join("\n") : "");
  }
  const types = { int: "number", money: "number", date: "date", datetime: "datetime-local", phone: "tel" };
  const input = h("input", { ...common, type: types[field.type] ?? "text" });
  if (field.type === "int") input.step = "1";
  if (field.type === "money") input.step = "0.01";
  if (field.min != null) input.min = String(field.min);
  if (field.max != null) input.max = String(field.max);
  if (value != null) input.value = field.type === "datetime" ? String(value).slice(0, 16) : String(value);
  return input;
}

function fieldRow(name, field, value, required) {
  const input = fieldInput(name, { ...field, required }, value);
  const caption = h("span", {}, label(field.label, name),
    required ? h("abbr", { class: "req", title: t("required") }, " *") : null);
  const help = field.description ? h("small", { class: "help" }, label(field.description, "")) : null;
  return h("label", { class: field.type === "bool" ? "field check" : "field", for: input.id },
    field.type === "bool" ? [input, caption] : [caption, input], help);
}

/** The payload the fields of ``form`` hold: filled ones only, typed as their fields say. */
function payloadOf(form, fields) {
  const payload = {};
  for (const [name, field] of Object.entries(fields)) {
    const input = form.elements.namedItem(name);
    if (!input) continue;
    if (field.type === "bool") { if (input.checked) payload[name] = true; continue; }
    const raw = input.value.trim();
    if (raw === "") continue;
    if (field.type === "int") payload[name] = Number.parseInt(raw, 10);
    else if (field.type === "datetime") payload[name] = new Date(raw).toISOString();
    else if (field.type === "list") payload[name] = raw.split("\n").map((s) => s.trim()).filter(Boolean);
    else payload[name] = raw;
  }
  return payload;
}

/** Copy what was typed into one form into the same-named fields of its replacement. */
function carryOver(from, to) {
  for (const input of from.elements) {
    const twin = input.name ? to.elements.namedItem(input.name) : null;
    if (!twin) continue;
    if (input.type === "checkbox") twin.checked = input.checked;
    else twin.value = input.value;
  }
}

function shown(field, value) {
  if (value == null) return "";
  if (field?.type === "bool") return value ? t("yes") : t("no");
  if (field?.type === "enum") return label(field.value_labels?.[value], String(value));
  if (field?.type === "datetime") return when(value);
  if (Array.isArray(value)) return value.join("、");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** A line saying what a case is about: its required fields' values. */
function summary(def, data) {
  return Object.entries(def.fields ?? {})
    .filter(([name, field]) => field.required && data[name] != null)
    .map(([name, field]) => shown(field, data[name]))
    .join(" · ");
}

function problemText(error) {
  if (error instanceof ApiError) {
    const detail = error.problem.reason || error.problem.detail || error.problem.title;
    return t("refusal", detail);
  }
  return t("error", error.message ?? String(error));
}

// --- pages ----------------------------------------------------------------------------------

function signInPage(message) {
  const token = h("input", { id: "token", name: "token", type: "password", autocomplete: "off", required: true });
  const error = h("p", { class: "error", role: "alert", hidden: !message }, message ?? "");
  const form = h("form", { class: "card sign-in", id: "sign-in" },
    h("h1", {}, t("sign_in_title")),
    h("p", { class: "hint" }, t("sign_in_hint")),
    h("label", { class: "field", for: "token" }, h("span", {}, t("token")), token),
    error,
    h("button", { type: "submit", class: "primary" }, t("sign_in")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, token.value.trim());
    try {
      const me = await request("/me");
      sessionStorage.setItem(ESTATE_KEY, me.estates[0]);
      token.value = "";
      await start();
    } catch (failure) {
      sessionStorage.removeItem(TOKEN_KEY);
      error.textContent = problemText(failure);
      error.hidden = false;
    }
  });
  return { node: form };
}

async function inboxPage() {
  let everything = false;
  const body = h("div", { id: "inbox-list" });
  const toggle = h("input", { type: "checkbox", id: "inbox-all" });
  toggle.addEventListener("change", () => { everything = toggle.checked; refresh(); });
  async function refresh() {
    const open = "/cases?closed=false&limit=200";
    const [page, breached, warned] = await Promise.all([
      api(open), api(`${open}&breached=true`), api(`${open}&warned=true`),
    ]);
    const late = new Set(breached.items.map((item) => item.case.id));
    const warn = new Set(warned.items.map((item) => item.case.id));
    const roles = new Set(session.me.roles);
    const items = page.items.filter((item) => everything || item.case.assignee == null || roles.has(item.case.assignee));
    const rows = await Promise.all(items.map(async (item) => {
      const def = await definition(item.case.process);
      const c = item.case;
      const open = () => { location.hash = `#/case/${c.id}`; };
      return h("tr", { class: "case-row", dataset: { case: c.id }, onclick: open },
        h("td", { "data-label": t("col_process") },
          h("a", { href: `#/case/${encodeURIComponent(c.id)}` }, processTitle(def))),
        h("td", { "data-label": t("col_state") }, h("span", { class: "state" }, stateLabel(def, c.state))),
        h("td", { "data-label": t("col_summary") }, summary(def, c.data)),
        h("td", { "data-label": t("col_assignee") }, roleLabel(def, c.assignee)),
        h("td", { "data-label": t("col_due") },
          item.next_deadline || item.paused.length === 0
            ? countdown({ deadline: item.next_deadline, breached: late.has(c.id), warned: warn.has(c.id) }) : null,
          item.paused.map(pausedBadge)),
        h("td", { "data-label": t("col_updated") }, when(c.updated_at)));
    }));
    put(body, rows.length === 0 ? h("p", { class: "empty" }, t("inbox_empty")) :
      h("table", { class: "cases" },
        h("thead", {}, h("tr", {}, ["col_process", "col_state", "col_summary", "col_assignee", "col_due", "col_updated"].map((k) => h("th", {}, t(k))))),
        h("tbody", {}, rows)));
  }
  await refresh();
  return {
    node: h("section", { class: "page" },
      h("h1", {}, t("inbox_title")),
      h("p", { class: "hint" }, t("inbox_hint")),
      h("label", { class: "toggle", for: "inbox-all" }, toggle, t("inbox_all")),
      body),
    refresh,
  };
}

function clockCard(caseId, clock, reload) {
  const extensions = clock.extensions.length === 0 ? null : h("div", { class: "extensions" },
    h("h4", {}, t("clock_extensions")),
    h("ul", {}, clock.extensions.map((ext) => h("li", {},
      t("extension_line", when(ext.at), ext.reason ?? "", [ext.by ?? when(ext.until), (ext.consents ?? []).join("、")].filter(Boolean).join("，"))))));
  const card = h("div", { class: `clock ${clock.status}`, dataset: { limit: clock.limit } },
    h("div", { class: "clock-head" },
      h("strong", {}, clock.label || clock.limit),
      countdown({
        deadline: clock.deadline, breached: clock.breached, warned: clock.warnings_sent.length > 0,
        paused: clock.paused, stopped: clock.status === "stopped",
      })),
    clock.deadline ? h("div", { class: "small" }, t("clock_deadline", when(clock.deadline))) : null,
    clock.warnings_sent.length ? h("div", { class: "small" }, t("clock_warnings", clock.warnings_sent.length)) : null,
    clock.tier > 0 ? h("div", { class: "small" }, t("clock_tier", clock.tier)) : null,
    extensions);
  if (clock.status === "running") {
    const form = h("form", { class: "extend", hidden: true },
      h("label", { class: "field" }, h("span", {}, t("extend_reason"), h("abbr", { class: "req" }, " *")),
        h("input", { name: "reason", required: true, maxlength: "2000" })),
      h("label", { class: "field" }, h("span", {}, t("extend_by")), h("input", { name: "by", required: true, maxlength: "64" })),
      h("label", { class: "field" }, h("span", {}, t("extend_consents")), h("input", { name: "consents" })),
      h("p", { class: "error", role: "alert", hidden: true }),
      h("button", { type: "submit" }, t("extend")));
    const ask = h("button", { type: "button", class: "link", onclick: () => { form.hidden = !form.hidden; } }, t("extend"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const consents = form.elements.consents.value.split(/[,，、\s]+/).filter(Boolean);
      try {
        await api(`/cases/${encodeURIComponent(caseId)}/limits/${encodeURIComponent(clock.limit)}/extensions`, {
          method: "POST", body: { reason: form.elements.reason.value, by: form.elements.by.value.trim(), consents },
        });
        say(t("extended", clock.label || clock.limit));
        await reload(true);
      } catch (failure) {
        const error = form.querySelector(".error");
        error.textContent = problemText(failure);
        error.hidden = false;
      }
    });
    card.append(ask, form);
  }
  return card;
}

async function casePage(caseId) {
  const id = encodeURIComponent(caseId);
  const root = h("section", { class: "page case", dataset: { case: caseId } });
  const parts = {
    head: h("div", { class: "case-head" }),
    clocks: h("div", { class: "clocks" }),
    actions: h("div", { class: "actions", id: "actions" }),
    form: h("div", { class: "event-form", id: "event-form" }),
    data: h("dl", { class: "data" }),
    links: h("ul", { class: "links" }),
    history: h("div", { class: "history" }),
  };
  let shownVersion = null;
  let chosen = null;

  function eventForm(def, detail, option) {
    const event = def.events[option.event] ?? {};
    const requires = new Set([...(event.requires ?? []), ...option.needs]);
    const names = [...requires, ...(event.accepts ?? [])].filter((name, index, all) => all.indexOf(name) === index);
    const fields = Object.fromEntries(names.filter((name) => def.fields?.[name]).map((name) => [name, def.fields[name]]));
    const error = h("p", { class: "error", role: "alert", hidden: true });
    const form = h("form", { class: "card", id: `form-${option.event}` },
      h("h3", {}, option.label || eventLabel(def, option.event)),
      label(event.description, "") ? h("p", { class: "hint" }, label(event.description, "")) : null,
      Object.entries(fields).map(([name, field]) => fieldRow(name, field, detail.case.data[name], requires.has(name))),
      error,
      h("div", { class: "buttons" },
        h("button", { type: "submit", class: "primary" }, t("fire", option.label || eventLabel(def, option.event))),
        h("button", { type: "button", onclick: () => { chosen = null; put(parts.form); } }, t("cancel"))));
    form.addEventListener("submit", async (submitted) => {
      submitted.preventDefault();
      try {
        await api(`/cases/${id}/events`, {
          method: "POST",
          body: { event: option.event, payload: payloadOf(form, fields) },
          headers: { "If-Match": `"${detail.case.version}"`, "Idempotency-Key": randomKey() },
        });
        chosen = null;
        put(parts.form);
        say(t("fired", option.label || eventLabel(def, option.event)));
        await load(true);
      } catch (failure) {
        if (failure instanceof ApiError && failure.status === 412) { say(t("stale"), "warn"); await load(true); return; }
        error.textContent = problemText(failure);
        error.hidden = false;
      }
    });
    return form;
  }

  async function load(force = false) {
    const [detail, options] = await Promise.all([api(`/cases/${id}`), api(`/cases/${id}/events`)]);
    if (!force && detail.case.version === shownVersion) return;
    shownVersion = detail.case.version;
    const c = detail.case;
    const def = await definition(c.process);
    put(parts.head,
      h("h1", {}, processTitle(def), " ", h("span", { class: "state", id: "case-state" }, stateLabel(def, c.state))),
      h("p", { class: "small" }, t("case_meta", c.id, when(c.opened_at), c.version)),
      h("p", { id: "case-assignee" }, t("assignee", roleLabel(def, c.assignee))),
      c.closed_at ? h("p", {}, t("closed_at", when(c.closed_at))) : null);
    put(parts.clocks, ...(detail.clocks.length ? detail.clocks.map((clock) => clockCard(caseId, clock, load)) : [h("p", { class: "empty" }, t("no_clocks"))]));
    const relevant = options.filter((o) => o.allowed || fromHere(def, o.event, c.state))
      .sort((a, b) => Number(b.allowed) - Number(a.allowed));
    const allowed = options.filter((o) => o.allowed);
    put(parts.actions,
      allowed.length ? null : h("p", { class: "empty" }, t("no_actions")),
      h("ul", { class: "events" }, relevant.map((option) => {
        const name = option.label || eventLabel(def, option.event);
        const button = h("button", {
          type: "button", class: option.allowed ? "primary" : "refused", disabled: !option.allowed,
          dataset: { event: option.event },
          onclick: () => { chosen = option.event; put(parts.form, eventForm(def, detail, option)); },
        }, name);
        return h("li", { dataset: { event: option.event } }, button,
          option.allowed ? (option.needs.length ? h("small", { class: "help" }, t("needs", option.needs.map((n) => label(def.fields?.[n]?.label, n)).join("、"))) : null)
            : h("small", { class: "reason" }, t("refused", option.reason ?? "")));
      })));
    const still = allowed.find((o) => o.event === chosen);
    const typed = parts.form.querySelector("form");
    put(parts.form, still ? eventForm(def, detail, still) : null);
    if (still && typed) carryOver(typed, parts.form.querySelector("form"));
    if (!still) chosen = null;
    const filled = Object.entries(c.data).filter(([, value]) => value != null && value !== "" && value !== false);
    put(parts.data, ...(filled.length ? filled.flatMap(([name, value]) => [
      h("dt", {}, label(def.fields?.[name]?.label, name)),
      h("dd", { dataset: { field: name } }, shown(def.fields?.[name], value)),
    ]) : [h("p", { class: "empty" }, t("empty_data"))]));
    put(parts.links, ...(detail.links.length ? await Promise.all(detail.links.map(async (link) => {
      const other = await definition(link.process).catch(() => ({ title: link.process, states: {} }));
      return h("li", {}, `${t(`link_${link.kind}`)}：`,
        h("a", { href: `#/case/${encodeURIComponent(link.case_id)}` }, processTitle(other)), " ",
        h("span", { class: "state" }, stateLabel(other, link.state)));
    })) : [h("li", { class: "empty" }, t("no_links"))]));
    const clockLabels = Object.fromEntries(detail.clocks.map((clock) => [clock.limit, clock.label || clock.limit]));
    put(parts.history, h("table", { class: "history-table" },
      h("thead", {}, h("tr", {}, ["col_time", "col_event", "col_actor", "col_change"].map((k) => h("th", {}, t(k))))),
      h("tbody", {}, [...detail.history].reverse().map((entry) => h("tr", {},
        h("td", { "data-label": t("col_time") }, when(entry.at)),
        h("td", { "data-label": t("col_event") }, entryLabel(def, entry.event, clockLabels)),
        h("td", { "data-label": t("col_actor") }, `${entry.actor}（${entry.role === "system" ? t("system") : roleLabel(def, entry.role)}）`),
        h("td", { "data-label": t("col_change") },
          entry.from_state && entry.from_state !== entry.to_state
            ? `${stateLabel(def, entry.from_state)} → ${stateLabel(def, entry.to_state)}` : stateLabel(def, entry.to_state)))))));
  }

  await load(true);
  root.append(
    parts.head,
    h("h2", {}, t("section_actions")), parts.actions, parts.form,
    h("h2", {}, t("section_clocks")), parts.clocks,
    h("h2", {}, t("section_data")), parts.data,
    h("h2", {}, t("section_links")), parts.links,
    h("h2", {}, t("section_history")), parts.history);
  return { node: root, refresh: () => load(false) };
}

async function openPage(chosen) {
  const roles = new Set(session.me.roles);
  const all = await processes();
  const defs = await Promise.all(all.map((p) => definition(p.id)));
  const mine = defs.filter((def) => Object.keys(def.roles ?? {}).some((role) => roles.has(role)));
  const root = h("section", { class: "page" }, h("h1", {}, t("open_title")));
  if (mine.length === 0) { root.append(h("p", { class: "empty" }, t("open_none"))); return { node: root }; }
  const current = mine.find((def) => def.process === chosen) ?? mine[0];
  const picker = h("select", { id: "open-process", onchange: (e) => { location.hash = `#/open/${e.target.value}`; } },
    mine.map((def) => h("option", { value: def.process, selected: def === current }, processTitle(def))));
  const fields = current.fields ?? {};
  const required = Object.entries(fields).filter(([, f]) => f.required);
  const optional = Object.entries(fields).filter(([, f]) => !f.required);
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const form = h("form", { class: "card", id: "open-form" },
    label(current.description, "") ? h("p", { class: "hint" }, label(current.description, "")) : null,
    required.map(([name, field]) => fieldRow(name, field, field.default, true)),
    optional.length ? h("details", {}, h("summary", {}, t("more_fields")),
      optional.map(([name, field]) => fieldRow(name, field, field.default, false))) : null,
    error,
    h("button", { type: "submit", class: "primary" }, t("open_submit")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const opened = await api("/cases", { method: "POST", body: { process: current.process, data: payloadOf(form, fields) } });
      say(t("opened", processTitle(current)));
      location.hash = `#/case/${opened.id}`;
    } catch (failure) {
      error.textContent = problemText(failure);
      error.hidden = false;
    }
  });
  root.append(h("label", { class: "field", for: "open-process" }, h("span", {}, t("open_choose")), picker), form);
  return { node: root };
}

/** The board's lane of open cases no role holds yet, for whoever dispatches them (null when
 * there are none). */
async function unassignedLane(board) {
  if (board.unassigned.length === 0) return null;
  const defs = await Promise.all(board.unassigned.map((entry) => definition(entry.process)));
  const count = board.unassigned_more ? `${board.unassigned.length}+` : String(board.unassigned.length);
  return h("section", { class: "board-role unassigned", id: "board-unassigned" },
    h("h2", {}, t("board_unassigned"), h("span", { class: "count" }, count)),
    h("p", { class: "hint" }, t("board_unassigned_hint")),
    h("table", { class: "cases" },
      h("thead", {}, h("tr", {}, ["col_case", "col_state", "col_opened", "col_due"].map((k) => h("th", {}, t(k))))),
      h("tbody", {}, board.unassigned.map((entry, index) => h("tr", {
        class: entry.breached ? "case-row late" : "case-row",
        dataset: { case: entry.case },
        onclick: () => { location.hash = `#/case/${entry.case}`; },
      },
        h("td", { "data-label": t("col_case") }, h("a", { href: `#/case/${encodeURIComponent(entry.case)}` }, processTitle(defs[index])), h("small", { class: "id" }, ` ${entry.case.slice(0, 8)}`)),
        h("td", { "data-label": t("col_state") }, h("span", { class: "state" }, stateLabel(defs[index], entry.state))),
        h("td", { "data-label": t("col_opened") }, when(entry.opened_at)),
        h("td", { "data-label": t("col_due") }, countdown({ deadline: entry.next_deadline, breached: entry.breached, paused: entry.paused && !entry.next_deadline })))))));
}

async function boardPage() {
  let within = "4h";
  const body = h("div", { id: "board" });
  const at = h("p", { class: "small" });
  const picker = h("select", { id: "board-within", onchange: (e) => { within = e.target.value; refresh(); } },
    ["1h", "4h", "1d", "3d", "7d"].map((v) => h("option", { value: v, selected: v === within }, v)));
  async function refresh() {
    const board = await api(`/board?within=${encodeURIComponent(within)}`);
    at.textContent = t("board_at", when(board.at));
    const roles = Object.entries(board.roles).filter(([, entries]) => entries.length > 0);
    const waiting = await unassignedLane(board);
    if (roles.length === 0 && !waiting) { put(body, h("p", { class: "empty" }, t("board_empty"))); return; }
    const sections = await Promise.all(roles.map(async ([role, entries]) => {
      const defs = await Promise.all(entries.map((entry) => definition(entry.process)));
      const limits = await Promise.all(entries.map((entry) => limitLabel(entry.process, entry.limit, entry.case)));
      const owner = defs.find((def) => def.roles?.[role]);
      return h("section", { class: "board-role", dataset: { role } },
        h("h2", {}, roleLabel(owner, role), h("span", { class: "count" }, String(entries.length))),
        h("table", { class: "cases" },
          h("thead", {}, h("tr", {}, ["col_case", "col_state", "col_limit", "col_deadline", "col_due", "col_tier"].map((k) => h("th", {}, t(k))))),
          h("tbody", {}, entries.map((entry, index) => h("tr", {
            class: entry.breached || entry.overdue ? "case-row late" : "case-row",
            dataset: { case: entry.case, limit: entry.limit },
            onclick: () => { location.hash = `#/case/${entry.case}`; },
          },
            h("td", { "data-label": t("col_case") }, h("a", { href: `#/case/${encodeURIComponent(entry.case)}` }, processTitle(defs[index])), h("small", { class: "id" }, ` ${entry.case.slice(0, 8)}`)),
            h("td", { "data-label": t("col_state") }, h("span", { class: "state" }, stateLabel(defs[index], entry.state))),
            h("td", { "data-label": t("col_limit") }, limits[index]),
            h("td", { "data-label": t("col_deadline") }, when(entry.deadline)),
            h("td", { "data-label": t("col_due") }, countdown({ deadline: entry.deadline, breached: entry.breached || entry.overdue })),
            h("td", { "data-label": t("col_tier") }, String(entry.tier)))))));
    }));
    put(body, waiting, ...sections);
  }
  await refresh();
  return {
    node: h("section", { class: "page" }, h("h1", {}, t("board_title")), h("p", { class: "hint" }, t("board_hint")),
      h("label", { class: "toggle", for: "board-within" }, t("board_within"), picker), at, body),
    refresh,
  };
}

/** The id of the newest notification the user has seen on the notifications page, per estate. */
const seenKey = () => `propflow.seen.${session.estate}`;
const seenId = () => Number(sessionStorage.getItem(seenKey()) ?? 0);

/** The count of notifications newer than those seen, on the navigation link. */
async function countUnseen() {
  const recent = await api("/notifications/recent?limit=50");
  const fresh = recent.notifications.filter((n) => n.id > seenId()).length;
  const badge = document.getElementById("unseen");
  badge.textContent = fresh >= 50 ? "50+" : String(fresh);
  badge.hidden = fresh === 0;
}

async function notificationsPage() {
  const body = h("div", { id: "notifications" });
  async function refresh() {
    const recent = await api("/notifications/recent?limit=100");
    const seen = seenId();
    if (recent.notifications.length) sessionStorage.setItem(seenKey(), String(Math.max(seen, recent.notifications[0].id)));
    document.getElementById("unseen").hidden = true;
    if (recent.notifications.length === 0) { put(body, h("p", { class: "empty" }, t("notifications_empty"))); return; }
    const rows = await Promise.all(recent.notifications.map(async (n) => {
      const process = n.payload?.process;
      const def = process ? await definition(process).catch(() => null) : null;
      const to = n.role == null ? null : def?.roles?.[n.role] ? roleLabel(def, n.role) : await estateRoleLabel(n.role);
      return h("li", { class: n.id > seen ? "notice fresh" : "notice", dataset: { notification: String(n.id), kind: n.kind } },
        h("div", { class: "notice-head" },
          h("span", { class: `kind ${n.kind}` }, t(`notice_${n.kind}`) === `notice_${n.kind}` ? n.kind : t(`notice_${n.kind}`)),
          h("span", { class: "small" }, when(n.created_at)),
          to ? h("span", { class: "small" }, t("notice_to", to)) : null),
        h("p", { class: "message" }, n.message ?? ""),
        n.case_id ? h("a", { href: `#/case/${encodeURIComponent(n.case_id)}` }, def ? processTitle(def) : t("notice_case"), h("small", { class: "id" }, ` ${n.case_id.slice(0, 8)}`)) : null);
    }));
    put(body, h("ul", { class: "notices" }, rows));
  }
  await refresh();
  return {
    node: h("section", { class: "page" }, h("h1", {}, t("notifications_title")), h("p", { class: "hint" }, t("notifications_hint")), body),
    refresh,
  };
}

function thisMonth() {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}`;
}

function meter(value, target) {
  const goal = Number.parseFloat(String(target).replace(/^[^\d.]*/, ""));
  return h("div", { class: "meter", role: "img", "aria-label": value == null ? t("no_data") : `${value.toFixed(1)}%` },
    h("div", { class: "fill", dataset: { value: value ?? 0 } }),
    Number.isFinite(goal) && String(target).includes("%") ? h("div", { class: "goal", dataset: { value: goal } }) : null);
}

/** Widths of meters are set through the CSSOM (the policy forbids inline style attributes). */
function sizeMeters(root) {
  root.querySelectorAll(".meter .fill, .meter .goal").forEach((bar) => {
    const key = bar.classList.contains("fill") ? "width" : "left";
    bar.style[key] = `${Math.max(0, Math.min(100, Number(bar.dataset.value)))}%`;
  });
}

async function indicatorsPage() {
  let period = thisMonth();
  const body = h("div", { id: "indicators" });
  const picker = h("input", { type: "month", id: "period", value: period, onchange: (e) => { period = e.target.value || thisMonth(); refresh(); } });
  async function refresh() {
    const report = await api(`/report?period=${encodeURIComponent(period)}`);
    if (report.indicators.length === 0) { put(body, h("p", { class: "empty" }, t("indicators_empty"))); return; }
    put(body, h("div", { class: "kpis" }, report.indicators.map((kpi) => h("article", {
      class: `kpi ${kpi.met === true ? "met" : kpi.met === false ? "missed" : "none"}`, dataset: { indicator: kpi.id },
    },
      h("h3", {}, kpi.label),
      h("div", { class: "figure" }, kpi.value == null ? t("no_data") : `${kpi.value.toFixed(1)}%`,
        h("span", { class: "verdict" }, kpi.met === true ? t("met") : kpi.met === false ? t("missed") : "—")),
      meter(kpi.value, kpi.target),
      h("div", { class: "small" }, t("indicator_target", kpi.target), "　", t("indicator_counts", kpi.numerator, kpi.denominator)),
      Object.keys(kpi.groups).length ? h("ul", { class: "groups" }, Object.entries(kpi.groups).map(([group, counts]) =>
        h("li", {}, h("span", {}, group), meter(counts.value, kpi.target), h("small", {}, counts.value == null ? t("no_data") : `${counts.value.toFixed(1)}%`)))) : null,
      kpi.missed.length ? h("details", {}, h("summary", {}, `${t("missed_cases")}（${kpi.missed.length}）`),
        h("ul", {}, kpi.missed.slice(0, 50).map((cid) => h("li", {}, h("a", { href: `#/case/${encodeURIComponent(cid)}` }, cid))))) : null))));
    sizeMeters(body);
  }
  await refresh();
  return {
    node: h("section", { class: "page" }, h("h1", {}, t("indicators_title")),
      h("label", { class: "toggle", for: "period" }, t("indicators_period"), picker), body),
    refresh,
  };
}

function runs(list) {
  return list.map((run) => run.style === "strong" ? h("strong", {}, run.text) : run.style === "code" ? h("code", {}, run.text) : run.text);
}

async function proceduresPage(chosen) {
  const all = await processes();
  const current = all.find((p) => p.id === chosen) ?? all[0];
  const picker = h("nav", { class: "procedures" }, all.map((p) =>
    h("a", { href: `#/procedures/${encodeURIComponent(p.id)}`, class: p === current ? "current" : null }, p.title)));
  const root = h("section", { class: "page" }, h("h1", {}, t("procedures_title")), h("p", { class: "hint" }, t("procedures_hint")), picker);
  if (!current) return { node: root };
  const path = `/processes/${encodeURIComponent(current.id)}`;
  const [manual, svg] = await Promise.all([
    api(`${path}/manual?lang=${LANG}`),
    api(`${path}/diagram.svg?lang=${LANG}`, { as: "blob" }).catch((failure) => failure),
  ]);
  let diagram;
  if (svg instanceof Blob) {
    diagram = h("img", { class: "diagram", id: "diagram", alt: current.title, src: URL.createObjectURL(svg) });
  } else {
    const mermaid = await api(`${path}/diagram?lang=${LANG}`);
    diagram = h("div", {}, h("p", { class: "hint" }, t("diagram_missing")), h("pre", {}, mermaid.mermaid));
  }
  const article = h("article", { class: "manual", id: "manual" }, manual.blocks.map((block) => {
    if (block.kind === "heading") return h(`h${Math.min(6, Math.max(2, block.level))}`, {}, block.text);
    if (block.kind === "paragraph") return h("p", {}, runs(block.runs));
    if (block.kind === "list") {
      return h("ul", {}, block.items.map((item) => h("li", {}, runs(item.head),
        item.details.length ? h("ul", {}, item.details.map((d) => h("li", {}, runs(d)))) : null)));
    }
    if (block.kind === "table") {
      return h("div", { class: "scroll" }, h("table", {},
        h("thead", {}, h("tr", {}, block.header.map((cell) => h("th", {}, cell)))),
        h("tbody", {}, block.rows.map((row) => h("tr", {}, row.map((cell) => h("td", {}, runs(cell))))))));
    }
    return h("figure", {}, diagram, h("figcaption", {}, block.text ?? ""));
  }));
  root.append(article);
  return { node: root };
}

// --- routing --------------------------------------------------------------------------------

let current = null;
let rendering = 0;

function route() {
  const [, page = "inbox", arg] = location.hash.match(/^#\/([^/]*)\/?(.*)$/) ?? [];
  return { page: page || "inbox", arg: arg ? decodeURIComponent(arg) : undefined };
}

async function render() {
  const ticket = ++rendering;
  if (!session.token) { showSignedIn(false); current = signInPage(); put(main, current.node); return; }
  const { page, arg } = route();
  document.querySelectorAll("#nav a").forEach((a) => a.classList.toggle("current", a.dataset.page === page || (page === "case" && a.dataset.page === "inbox")));
  const pages = { inbox: inboxPage, case: casePage, open: openPage, board: boardPage, notifications: notificationsPage, indicators: indicatorsPage, procedures: proceduresPage };
  main.setAttribute("aria-busy", "true");
  try {
    const built = await (pages[page] ?? inboxPage)(arg);
    if (ticket !== rendering) return;
    current = built;
    put(main, built.node);
    main.dataset.page = page;
  } catch (failure) {
    if (ticket !== rendering || !session.token) return;
    current = null;
    put(main, h("p", { class: "error", role: "alert" }, problemText(failure)));
  } finally {
    main.removeAttribute("aria-busy");
  }
}

function showSignedIn(signedIn) {
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("sign-out").hidden = !signedIn;
  const who = document.getElementById("who");
  if (!signedIn || !session.me) { put(who); return; }
  // A company login's token may name several estates: the user picks which one to work.
  const estates = session.me.estates.length < 2 ? null : h("select", {
    id: "estate", "aria-label": t("estate"),
    onchange: (event) => {
      sessionStorage.setItem(ESTATE_KEY, event.target.value);
      definitions.clear();
      limitLabels.clear();
      processList = null;
      countUnseen().catch(() => {});
      render();
    },
  }, session.me.estates.map((id) => h("option", { value: id, selected: id === session.estate }, id)));
  const names = h("span", { id: "who-roles" }, session.me.roles.join("、"));
  const [before, after] = t("signed_in_as", session.me.actor, "\u0000").split("\u0000");
  put(who, before, names, after, estates ? " " : null, estates);
  // The roles by their labels, once the estate's definitions are in.
  Promise.all(session.me.roles.map(estateRoleLabel))
    .then((labels) => { names.textContent = labels.join("、"); })
    .catch(() => {});
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(ESTATE_KEY);
  session.me = null;
  definitions.clear();
  limitLabels.clear();
  processList = null;
  showSignedIn(false);
  current = signInPage(message);
  put(main, current.node);
}

async function start() {
  if (!session.token) { await render(); return; }
  try {
    session.me = await request("/me");
  } catch (failure) {
    if (session.token) put(main, h("p", { class: "error", role: "alert" }, problemText(failure)));
    return;
  }
  if (!session.estate || !session.me.estates.includes(session.estate)) sessionStorage.setItem(ESTATE_KEY, session.me.estates[0]);
  showSignedIn(true);
  countUnseen().catch(() => {});
  await render();
}

setInterval(async () => {
  if (document.hidden || !session.me || !session.token) return;
  try {
    if (current?.refresh) await current.refresh();
    if (main.dataset.page !== "notifications") await countUnseen();
  } catch (failure) { say(problemText(failure), "warn"); }
}, POLL_MS);

document.title = t("title");
document.querySelectorAll("[data-word]").forEach((node) => { node.textContent = t(node.dataset.word); });
const switcher = document.getElementById("lang-switch");
switcher.textContent = t("other_lang");
switcher.addEventListener("click", (event) => {
  event.preventDefault();
  location.href = `${LANG === "en" ? "/" : "/?lang=en"}${location.hash}`;
});
document.getElementById("sign-out").addEventListener("click", () => signOut());
window.addEventListener("hashchange", render);
main.dataset.ready = "true";
start();
