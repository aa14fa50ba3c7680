// The leadscore console: plain JavaScript over the leads API, no build step and nothing fetched from
// elsewhere. The key lives in sessionStorage (this tab only); every call sends it as a Bearer token.
"use strict";

const KEY = "leadscore.key";
const main = () => document.getElementById("page");
let rulesCache = null;

// ------------------------------------------------------------------------------------------ api
async function api(path, options = {}) {
  const key = sessionStorage.getItem(KEY) || "";
  const headers = { Authorization: `Bearer ${key}`, ...(options.headers || {}) };
  const reply = await fetch(path, { ...options, headers });
  let body = null;
  try { body = await reply.json(); } catch (_) { body = null; }
  if (reply.status === 401) {
    // Only the key in use now is refused: a late answer to a request made before a sign-in (or
    // with no key, after a sign-out) must not sign the new session out.
    if ((sessionStorage.getItem(KEY) || "") === key) signOut("That key was refused.");
    throw new Error("unauthorized");
  }
  return { status: reply.status, body };
}

async function rules() {
  if (!rulesCache) rulesCache = (await api("rules")).body;
  return rulesCache;
}

// ------------------------------------------------------------------------------------- helpers
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const svgNS = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(svgNS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  for (const child of children.flat()) if (child) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

const tierBadge = (tier) => h("span", { class: `tier ${tier}`, "data-tier": tier }, tier.replace("_", " "));
const when = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "—");
const day = (iso) => (iso ? new Date(iso).toLocaleDateString(undefined, { dateStyle: "medium" }) : "—");
const signed = (value) => (value > 0 ? `+${value}` : value < 0 ? `\u2212${Math.abs(value)}` : "0");
const pct = (value) => (value === null || value === undefined ? "—" : `${(100 * value).toFixed(1)}%`);

function page(title, ...content) {
  const node = main();
  node.replaceChildren(h("h1", {}, title), ...content);
  node.hidden = false;
  return node;
}

// ------------------------------------------------------------------------------------ sign-in
function signOut(message = "") {
  sessionStorage.removeItem(KEY);
  rulesCache = null;
  document.getElementById("nav").hidden = true;
  main().hidden = true;
  document.getElementById("sign-in").hidden = false;
  document.getElementById("sign-in-error").textContent = message;
}

async function signIn(event) {
  event.preventDefault();
  sessionStorage.setItem(KEY, document.getElementById("key").value.trim());
  try {
    const reply = await api("leads?limit=1");
    if (reply.status !== 200) throw new Error(reply.body?.message || `HTTP ${reply.status}`);
  } catch (error) {
    if (error.message !== "unauthorized") signOut(error.message);
    return;
  }
  document.getElementById("key").value = "";
  route();
}

// -------------------------------------------------------------------------------------- leads
async function leadsPage(params) {
  const known = await rules();
  const tiers = [...known.tiers.bands.map((band) => band.name).reverse(), known.tiers.disqualified];
  const grades = known.grades.map((grade) => grade.grade);
  const option = (value, current) => h("option", { value, selected: value === current }, value || "all");
  const form = h("form", { class: "filters panel", id: "filters" },
    h("div", {}, h("label", { for: "tier" }, "Tier"), h("select", { id: "tier", name: "tier" }, ["", ...tiers].map((t) => option(t, params.get("tier") || "")))),
    h("div", {}, h("label", { for: "grade" }, "Grade"), h("select", { id: "grade", name: "grade" }, ["", ...grades].map((g) => option(g, params.get("grade") || "")))),
    h("div", {}, h("label", { for: "status" }, "Status"), h("select", { id: "status", name: "status" },
      [["open", "open"], ["closed", "won, lost, disqualified"], ["all", "all"]].map(([value, text]) => h("option", { value, selected: value === (params.get("status") || "open") }, text)))),
    h("div", {}, h("label", { for: "owner" }, "Owner id (my leads)"), h("input", { id: "owner", name: "owner", value: params.get("owner") || "", placeholder: "hubspot:101, 0055g…" })),
    h("div", {}, h("label", { for: "sort" }, "Sort by"), h("select", { id: "sort", name: "sort" },
      [["score", "score"], ["change", "change since yesterday"], ["last_active", "latest activity"]].map(([value, text]) => h("option", { value, selected: value === (params.get("sort") || "score") }, text)))),
    h("div", { class: "search" }, h("label", { for: "q" }, "Search: name, email, company, CRM id"), h("input", { id: "q", name: "q", value: params.get("q") || "", placeholder: "Jane Doe, jane@acme.com, Acme, 00Q…" })),
    h("div", { class: "toolbar" }, h("button", { type: "submit" }, "Show"),
      localStorage.getItem("leadscore.owner") ? h("button", { type: "button", class: "secondary", id: "my-leads",
        onclick: () => { location.hash = `#/leads?owner=${encodeURIComponent(localStorage.getItem("leadscore.owner"))}`; } }, "My leads") : ""));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = new URLSearchParams();
    // The owner id is remembered on this device: "my leads" is one click the next time.
    if (form.elements.owner.value.trim()) localStorage.setItem("leadscore.owner", form.elements.owner.value.trim());
    const defaults = { status: "open", sort: "score" };
    for (const name of ["tier", "grade", "status", "sort", "owner", "q"]) if (form.elements[name].value && form.elements[name].value !== defaults[name]) chosen.set(name, form.elements[name].value);
    location.hash = `#/leads?${chosen}`;
  });
  const body = h("tbody", { id: "leads-rows" });
  const more = h("button", { type: "button", class: "secondary", id: "more", hidden: true }, "More");
  const status = h("p", { class: "muted", id: "leads-status" });
  const table = h("div", { class: "panel table-wrap" }, h("table", { id: "leads" },
    h("thead", {}, h("tr", {}, ["Name", "Company", "Score", "Change", "Fit", "Engagement", "Tier", "Grade", "Top reason", "Owner", "Stage", "Last activity", "Next change"].map((name, index) =>
      h("th", { class: index >= 2 && index <= 5 ? "num" : index >= 10 ? "hide-narrow" : null }, name)))), body), h("div", { class: "toolbar" }, more, status));
  page(params.get("view") === "new_mqls" ? `New MQLs, last ${params.get("days")} days` : "Leads", form, table);
  let cursor = null;
  let shown = 0;
  async function load() {
    const query = new URLSearchParams(params);
    query.set("limit", "25");
    if (cursor) query.set("cursor", cursor);
    const reply = await api(`leads?${query}`);
    if (reply.status !== 200) { status.textContent = reply.body?.message || `HTTP ${reply.status}`; return; }
    for (const row of reply.body.leads) {
      body.append(h("tr", { class: "link", "data-lead": row.lead_id, onclick: () => { location.hash = `#/lead/${encodeURIComponent(row.lead_id)}`; } },
        // At phone width each row is a card: name and score on top, then company, tier, grade and reason.
        h("td", { class: "name" }, row.name || row.email || row.lead_id), h("td", { class: "company" }, row.company || row.account?.name || "—",
          row.account && row.account.score !== null ? h("span", { class: "muted small account-score", title: "its account's score and tier" }, ` · account ${row.account.score} ${row.account.tier}`) : ""),
        h("td", { class: "num score" }, row.score), changeCell(row),
        h("td", { class: "num fit" }, row.fit), h("td", { class: "num engagement" }, row.engagement),
        h("td", { class: "tier-cell" }, tierBadge(row.tier)), h("td", { class: "grade" }, row.grade),
        h("td", { class: "reason-cell" }, row.entered_mql ? `entered ${row.entered_mql.to.replace("_", " ")} ${when(row.entered_mql.at)}` : (row.reasons || [])[0] || "—"),
        h("td", { class: "owner" }, row.owner ? ownerText(row.owner) : "—"), h("td", { class: "hide-narrow" }, row.stage || "—"),
        h("td", { class: "hide-narrow" }, when(row.last_active_at)), h("td", { class: "hide-narrow" }, when(row.next_change_at))));
    }
    shown += reply.body.leads.length;
    cursor = reply.body.next_cursor;
    more.hidden = !cursor;
    status.textContent = shown ? `${shown} lead${shown === 1 ? "" : "s"}${cursor ? ", more below" : ""}` : "No leads match.";
  }
  more.addEventListener("click", load);
  await load();
}

// --------------------------------------------------------------------------------------- lead
async function leadPage(key) {
  const path = `leads/${encodeURIComponent(key)}`;
  const [lead, timeline, activity] = await Promise.all([api(path), api(`${path}/timeline`), api(`${path}/activity?limit=25`)]);
  if (lead.status !== 200) { page("Lead", h("p", { class: "error" }, lead.body?.message || "No such lead.")); return; }
  const card = lead.body.card;
  const profile = lead.body.profile || {};
  const name = [profile.first_name, profile.last_name].filter(Boolean).join(" ") || profile.email || lead.body.lead_id;
  const reason = (c) => h("div", { class: "reason", "data-points": c.points_now, "data-rule": c.rule },
    h("span", { class: "why" }, c.label, c.kind === "engagement" && c.count > 1 ? ` ×${c.count}` : "",
      c.kind === "engagement" && c.points_full !== c.points_now ? h("span", { class: "muted small" }, ` (full ${c.points_full}, ${c.capped ? "capped" : `decayed ${signed(+(c.points_now - c.points_full).toFixed(2))}`})`) : "",
      latest(c)),
    h("span", { class: `pts ${c.points_now >= 0 ? "plus" : "minus"}` }, signed(c.points_now)));
  // What the person did, by event id: a reason names its latest events by what and when, never by id.
  const lines = activity.status === 200 ? activity.body.activity : [];
  const byId = new Map(lines.map((line) => [line.event_id, line]));
  const latest = (c) => {
    // The card names its latest event (what and when); older cards only by id, found in the activity.
    if (c.latest_at) return h("div", { class: "muted small latest" }, `${c.latest || c.label} (${day(c.latest_at)})${c.count > 1 ? ` and ${c.count - 1} more` : ""}`);
    const found = c.event_ids.map((id) => byId.get(id)).filter(Boolean);
    return found.length ? h("div", { class: "muted small latest" }, found.map((line) => `${line.title} (${day(line.at)})`).join(" · ")) : "";
  };
  const fit = card.contributions.filter((c) => c.kind === "fit");
  const engagement = card.contributions.filter((c) => c.kind === "engagement");
  const wb = lead.body.write_back;
  page(name,
    h("div", { class: "panel headline" },
      h("div", {}, h("div", { class: "big", id: "lead-score" }, card.score), h("div", { class: "muted" }, "score"),
        h("div", { class: "small", id: "lead-change" },
          h("span", { class: lead.body.change_1d > 0 ? "plus" : lead.body.change_1d < 0 ? "minus" : "muted" }, `${signed(lead.body.change_1d)} since yesterday`),
          ` · ${signed(lead.body.change_7d)} this week`)),
      h("div", {}, tierBadge(card.tier), " grade ", h("strong", { id: "lead-grade" }, card.grade),
        card.persona ? h("div", { class: "small", id: "lead-persona" }, `persona: ${card.persona.replace(/_/g, " ")}`) : "",
        card.likelihood !== null && card.likelihood !== undefined ? h("div", { class: "small", id: "lead-likelihood" }, `${Math.round(card.likelihood * 100)}% likely to convert (fitted on past outcomes)`) : ""),
      h("div", { class: "muted" }, profile.email || "", profile.company ? ` · ${profile.company}` : "", profile.job_title ? ` · ${profile.job_title}` : "", lead.body.account ? accountLink(lead.body.account) : ""),
      h("div", { class: "muted small", id: "lead-next" }, nextChange(card, timeline)),
      crmLine(lead.body),
      h("div", { class: "small", id: "lead-reasons" }, (lead.body.reasons || []).join(" · ")),
      shadowCard(lead.body.shadow, card)),
    card.named?.length ? h("div", { class: "panel", id: "named-scores" }, h("h2", {}, "Scores by interest"),
      card.named.map((named) => h("div", { class: "reason", "data-score": named.name },
        h("span", { class: "why" }, named.label, h("div", { class: "muted small" }, named.reasons.join(" · ") || "nothing yet")),
        h("span", { class: "pts" }, named.score)))) : "",
    h("div", { class: "grid2" },
      h("div", { class: "panel", id: "fit-reasons" }, h("h2", {}, `Fit ${signed(card.fit)}`), fit.length ? fit.map(reason) : h("p", { class: "muted" }, "No fit points."),
        card.disqualified_by ? h("p", { class: "error" }, `Disqualified by ${card.disqualified_by}`) : ""),
      h("div", { class: "panel", id: "engagement-reasons" }, h("h2", {}, `Engagement ${signed(card.engagement)}`), engagement.length ? engagement.map(reason) : h("p", { class: "muted" }, "No engagement points."),
        card.bot_like ? h("p", { class: "error" }, "Mostly bot-like traffic") : "",
        card.ignored.length ? h("div", { id: "ignored" }, h("h2", {}, "Ignored, not scored"), card.ignored.map((item) => h("div", { class: "reason" }, h("span", {}, item.label), h("span", { class: "pts" }, `×${item.count}`)))) : "")),
    activityPanel(path, activity),
    h("div", { class: "panel" }, h("h2", {}, "Score over time"), timeline.status === 200 ? chart(timeline.body) : h("p", { class: "error" }, "No timeline.")),
    h("div", { class: "grid2" },
      h("div", { class: "panel table-wrap" }, h("h2", {}, "Tier history"), h("table", { id: "tier-history" }, h("thead", {}, h("tr", {}, ["When", "From", "To", "Score", "Why"].map((x) => h("th", {}, x)))),
        h("tbody", {}, lead.body.tier_changes.map((change) => h("tr", {}, h("td", {}, when(change.at)), h("td", {}, change.from ? tierBadge(change.from) : "new"), h("td", {}, tierBadge(change.to)), h("td", { class: "num" }, change.score), h("td", {}, change.reason || "")))))),
      h("div", { class: "panel", id: "write-back" }, h("h2", {}, "Write-back to the CRM"),
        wb.pending_since ? h("p", {}, "Pending since ", when(wb.pending_since)) : h("p", { class: "muted" }, "Nothing waiting."),
        wb.last_failed_attempt ? h("div", { id: "write-back-failure" }, h("p", { class: "error" }, `Last attempt ${when(wb.last_failed_attempt.at)} did not write; retrying in ${wb.last_failed_attempt.retry_in_seconds} s`),
          Object.entries(wb.last_failed_attempt.reasons || {}).map(([crm, why]) => h("div", { class: "reason" }, h("span", {}, crm), h("span", { class: "minus" }, why)))) : "",
        wb.last ? h("div", {}, h("p", {}, `Last written ${when(wb.last.at)}: score ${wb.last.score}, tier ${wb.last.tier}, grade ${wb.last.grade}`),
          Object.entries(wb.last.statuses || {}).map(([crm, status]) => h("div", { class: "reason" }, h("span", {}, crm),
            h("span", { class: status === "written" ? "plus" : "minus" }, status, wb.last.reasons?.[crm] ? `: ${wb.last.reasons[crm]}` : "")))) : h("p", { class: "muted" }, "Never written."))));
}

// The lead's company: a link to its account, with the account's score and tier once rolled up.
const accountLink = (account) => h("span", { id: "lead-account", title: `account by ${account.via}` }, " · account ",
  h("a", { href: `#/account/${encodeURIComponent(account.key)}` }, account.name || account.id),
  account.score !== null && account.score !== undefined ? h("span", {}, ` ${account.score} `, tierBadge(account.tier)) : "");

// ----------------------------------------------------------------------------------- accounts
async function accountsPage(params) {
  const body = h("tbody", { id: "accounts-rows" });
  const more = h("button", { type: "button", class: "secondary", id: "more-accounts", hidden: true }, "More");
  const status = h("p", { class: "muted", id: "accounts-status" });
  const tiers = h("select", { id: "account-tier" }, h("option", { value: "" }, "all"));
  tiers.addEventListener("change", () => { location.hash = tiers.value ? `#/accounts?tier=${encodeURIComponent(tiers.value)}` : "#/accounts"; });
  page("Accounts", h("div", { class: "filters panel" }, h("div", {}, h("label", { for: "account-tier" }, "Tier"), tiers)),
    h("div", { class: "panel table-wrap" }, h("table", { id: "accounts" },
      h("thead", {}, h("tr", {}, ["Account", "Score", "Tier", "Engaged contacts", "Top reason", "Known by"].map((name, index) =>
        h("th", { class: index === 1 || index === 3 ? "num" : index === 5 ? "hide-narrow" : null }, name)))), body),
    h("div", { class: "toolbar" }, more, status)));
  let cursor = null;
  let shown = 0;
  async function load() {
    const query = new URLSearchParams({ limit: "25" });
    if (params.get("tier")) query.set("tier", params.get("tier"));
    if (cursor) query.set("cursor", cursor);
    const reply = await api(`accounts?${query}`);
    if (reply.status !== 200) { status.textContent = reply.body?.message || `HTTP ${reply.status}`; return; }
    if (tiers.options.length === 1) for (const tier of reply.body.tiers) tiers.append(h("option", { value: tier, selected: tier === params.get("tier") }, tier));
    for (const row of reply.body.accounts) {
      body.append(h("tr", { class: "link", "data-account": row.key, onclick: () => { location.hash = `#/account/${encodeURIComponent(row.key)}`; } },
        h("td", { class: "name" }, row.name || row.id), h("td", { class: "num score" }, row.score),
        h("td", { class: "tier-cell" }, tierBadge(row.tier)),
        h("td", { class: "num engaged" }, `${row.engaged_contacts}${row.engaged_more ? "+" : ""}`),
        h("td", { class: "reason-cell" }, row.reasons[0] || "—"), h("td", { class: "hide-narrow" }, row.via)));
    }
    shown += reply.body.accounts.length;
    cursor = reply.body.cursor;
    more.hidden = !cursor;
    status.textContent = shown ? `${shown} account${shown === 1 ? "" : "s"}${cursor ? ", more below" : ""}` : "No scored accounts yet.";
  }
  more.addEventListener("click", load);
  await load();
}

async function accountPage(key) {
  const path = `accounts/${encodeURIComponent(key)}`;
  const reply = await api(`${path}?limit=25`);
  if (reply.status !== 200) { page("Account", h("p", { class: "error" }, reply.body?.message || "No such account.")); return; }
  const account = reply.body;
  const card = account.card;
  const part = (kind) => (card ? card.contributions.filter((c) => c.kind === kind) : []);
  const line = (c) => h("div", { class: "reason", "data-kind": c.kind },
    h("span", { class: "why" }, c.lead_id ? h("a", { href: `#/lead/${encodeURIComponent(c.lead_id)}` }, c.label) : c.label,
      c.detail ? h("div", { class: "muted small" }, c.detail) : "", c.capped ? h("span", { class: "muted small" }, " (capped)") : ""),
    h("span", { class: `pts ${c.points >= 0 ? "plus" : "minus"}` }, signed(Math.round(c.points))));
  const rows = h("tbody", { id: "account-contacts" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "More contacts");
  let cursor = account.cursor;
  const add = (contacts) => {
    for (const c of contacts) {
      rows.append(h("tr", { class: "link", "data-lead": c.lead_id, onclick: () => { location.hash = `#/lead/${encodeURIComponent(c.lead_id)}`; } },
        h("td", { class: "name" }, c.name || c.email || c.lead_id), h("td", { class: "num score" }, c.score ?? "—"),
        h("td", { class: "tier-cell" }, c.tier ? tierBadge(c.tier) : "—"), h("td", { class: "num engagement" }, c.engagement),
        h("td", { class: "reason-cell" }, c.reason || "—"), h("td", { class: "hide-narrow" }, when(c.last_active_at))));
    }
    more.hidden = !cursor;
  };
  more.addEventListener("click", async () => {
    const next = await api(`${path}?limit=25&cursor=${encodeURIComponent(cursor)}`);
    if (next.status !== 200) return;
    cursor = next.body.cursor;
    add(next.body.contacts);
  });
  const wb = account.write_back;
  page(account.name || account.id,
    h("div", { class: "panel headline" },
      h("div", {}, h("div", { class: "big", id: "account-score" }, card ? card.score : "—"), h("div", { class: "muted" }, "account score")),
      h("div", {}, card ? tierBadge(card.tier) : h("span", { class: "muted" }, "not scored"),
        card ? h("div", { class: "small", id: "account-engaged" }, `${card.engaged_contacts}${card.engaged_more ? "+" : ""} engaged contacts`) : ""),
      h("div", { class: "muted" }, `known by ${account.via}: ${account.id}`),
      h("div", { class: "small", id: "account-reasons" }, account.reasons.join(" · "))),
    h("div", { class: "grid2" },
      h("div", { class: "panel", id: "account-fit" }, h("h2", {}, `Fit ${signed(card ? card.fit : 0)}`),
        part("fit").length ? part("fit").map(line) : h("p", { class: "muted" }, "No fit points: nothing known of the company's size, industry or country.")),
      h("div", { class: "panel", id: "account-engagement" }, h("h2", {}, `Contacts ${signed(card ? Math.round(card.engagement + card.breadth) : 0)}`),
        [...part("contact"), ...part("breadth")].map(line))),
    h("div", { class: "panel table-wrap" }, h("h2", {}, "Contacts, most engaged first"), h("table", { id: "contacts" },
      h("thead", {}, h("tr", {}, ["Name", "Score", "Tier", "Engagement", "Top reason", "Last activity"].map((name, index) =>
        h("th", { class: index === 1 || index === 3 ? "num" : index === 5 ? "hide-narrow" : null }, name)))), rows), more),
    h("div", { class: "panel", id: "account-write-back" }, h("h2", {}, "Write-back to the CRM"),
      wb ? h("div", {}, h("p", {}, `Last written ${when(wb.at)}: score ${wb.visible[0]}, tier ${wb.visible[1]}, ${wb.visible[2]} engaged contacts`),
        Object.entries(wb.statuses || {}).map(([crm, status]) => h("div", { class: "reason" }, h("span", {}, crm),
          h("span", { class: status === "written" ? "plus" : "minus" }, status, wb.reasons?.[crm] ? `: ${wb.reasons[crm]}` : ""))))
        : h("p", { class: "muted" }, "Never written.")));
  add(account.contacts);
}

// "Score drops to 41 by Jan 4 as its activity ages": the first projected day the score differs.
function nextChange(card, timeline) {
  if (!card.next_change_at) return "no change ahead without new activity";
  const later = timeline.status === 200 ? timeline.body.points.find((p) => p.projected && p.score !== card.score) : null;
  if (!later) return `next change ${when(card.next_change_at)}`;
  const verb = later.score < card.score ? "drops" : "rises";
  return `score ${verb} to ${later.score} by ${day(later.at)} as its activity ages (next step ${when(card.next_change_at)})`;
}

// Owner, stage, outcome and a link to each CRM record: what a rep needs to act where they work.
// The score's move since yesterday, and over the week beneath it.
const changeCell = (row) => h("td", { class: "num change", title: "since yesterday; this week" },
  h("span", { class: row.change_1d > 0 ? "plus" : row.change_1d < 0 ? "minus" : "muted" }, row.change_1d ? signed(row.change_1d) : "±0"),
  h("div", { class: "muted small" }, `week ${row.change_7d ? signed(row.change_7d) : "±0"}`));
const ownerText = (owner) => (owner ? owner.name || `${owner.crm} owner ${owner.id}` : "no owner");
const CRM_NAMES = { hubspot: "HubSpot", salesforce: "Salesforce" };
function crmLine(lead) {
  const links = Object.entries(lead.crm_links || {}).filter(([, url]) => /^https:\/\//.test(url));
  return h("div", { id: "lead-crm", class: "crm" },
    h("span", { id: "lead-owner" }, ownerText(lead.owner)),
    lead.stage ? h("span", { id: "lead-stage" }, ` · ${lead.stage}`) : "",
    lead.outcome && lead.outcome.state !== "open" ? h("span", { id: "lead-outcome", class: "outcome" }, ` · ${lead.outcome.state}${lead.outcome.at ? ` ${day(lead.outcome.at)}` : ""}`) : "",
    links.flatMap(([crm, url]) => [" · ", h("a", { href: url, target: "_blank", rel: "noopener noreferrer", class: "crm-link", "data-crm": crm }, `Open in ${CRM_NAMES[crm] || crm}`)]));
}

// The lead's activity, newest first; "Show more" follows the cursor.
function activityPanel(path, first) {
  const list = h("ol", { class: "activity", id: "activity" });
  const more = h("button", { class: "secondary", type: "button", hidden: true }, "Show more");
  const add = (reply) => {
    for (const line of reply.body.activity) {
      list.append(h("li", { "data-event": line.event_id },
        h("span", { class: "muted small when" }, when(line.at)),
        h("span", { class: "what" }, line.title, h("span", { class: "muted small" }, ` · ${line.source}${line.rule ? ` · ${line.rule}` : ""}${line.note ? ` · ${line.note}` : ""}`)),
        h("span", { class: `pts ${line.points_now > 0 ? "plus" : line.points_now < 0 ? "minus" : "muted"}` }, signed(+line.points_now.toFixed(1)))));
    }
    more.hidden = !reply.body.next_cursor;
    more.dataset.cursor = reply.body.next_cursor || "";
  };
  more.addEventListener("click", async () => {
    more.disabled = true;
    const reply = await api(`${path}/activity?limit=25&cursor=${encodeURIComponent(more.dataset.cursor)}`);
    more.disabled = false;
    if (reply.status === 200) add(reply);
  });
  if (first.status !== 200) return h("div", { class: "panel" }, h("h2", {}, "Activity"), h("p", { class: "error" }, "No activity."));
  add(first);
  return h("div", { class: "panel", id: "activity-panel" }, h("h2", {}, "Activity"),
    first.body.activity.length ? list : h("p", { class: "muted" }, "Nothing yet."), more);
}

function chart(timeline) {
  const points = timeline.points;
  // Drawn at the width it is shown at (900 at most), so its 11 px labels stay 11 px on a phone.
  const width = Math.round(Math.max(300, Math.min(900, main().clientWidth - 60))), height = 260, left = 36, bottom = 24, top = 10;
  const highest = Math.max(40, ...points.map((p) => p.score), ...timeline.tiers.map((t) => t.min + 20));
  const x = (index) => left + (index * (width - left - 8)) / Math.max(1, points.length - 1);
  const y = (score) => top + (height - top - bottom) * (1 - Math.min(score, highest) / highest);
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", id: "timeline", role: "img", "aria-label": "score over the last and next 90 days" });
  const bands = [...timeline.tiers].sort((a, b) => a.min - b.min);
  bands.forEach((band, index) => {
    const upper = index + 1 < bands.length ? bands[index + 1].min : highest;
    svg.append(s("rect", { x: left, width: width - left - 8, y: y(upper), height: Math.max(0, y(band.min) - y(upper)), fill: `var(--${band.name}, #ccc)`, opacity: 0.12 }));
    svg.append(s("text", { x: left + 4, y: y(band.min) - 3, "font-size": 11, fill: "#5f6b7a" }, band.name.replace("_", " ")));
  });
  for (const tick of [0, Math.round(highest / 2), highest]) svg.append(s("text", { x: 2, y: y(tick) + 4, "font-size": 11, fill: "#5f6b7a" }, tick));
  const now = points.findIndex((p) => p.projected) - 1;
  svg.append(s("line", { x1: x(now), x2: x(now), y1: top, y2: height - bottom, stroke: "#5f6b7a", "stroke-dasharray": "2 3" }));
  svg.append(s("text", { x: x(now) + 4, y: height - 8, "font-size": 11, fill: "#5f6b7a" }, "today"));
  const path = (part, dashed) => s("polyline", { fill: "none", stroke: "#2f5bd3", "stroke-width": 2, "stroke-dasharray": dashed ? "5 4" : "none",
    points: part.map(({ p, i }) => `${x(i)},${y(p.score)}`).join(" ") });
  const indexed = points.map((p, i) => ({ p, i }));
  svg.append(path(indexed.filter(({ p }) => !p.projected), false));
  svg.append(path(indexed.filter(({ p, i }) => p.projected || i === now), true));
  for (const { p, i } of indexed) {
    const dot = s("circle", { cx: x(i), cy: y(p.score), r: 2.2, fill: p.projected ? "#9fb3e8" : "#2f5bd3", class: p.projected ? "projected" : "past", "data-at": p.at, "data-score": p.score });
    dot.append(s("title", {}, `${day(p.at)}: ${p.score} (${p.tier})${p.projected ? ", projected" : ""}`));
    svg.append(dot);
  }
  svg.append(s("text", { x: left, y: height - 8, "font-size": 11, fill: "#5f6b7a" }, day(points[0].at)));
  svg.append(s("text", { x: width - 90, y: height - 8, "font-size": 11, fill: "#5f6b7a" }, day(points[points.length - 1].at)));
  return svg;
}

// ------------------------------------------------------------------------------------- report
async function reportPage() {
  const [reply, exceptions, health] = await Promise.all([api("reports/tiers"), api("reports/exceptions"), api("reports/health")]);
  if (reply.status !== 200) { page("Report", h("p", { class: "error" }, reply.body?.message || "No report.")); return; }
  const report = reply.body;
  const rates = (title, groups, id) => h("div", { class: "panel table-wrap" }, h("h2", {}, title), h("table", { id },
    h("thead", {}, h("tr", {}, ["", "Leads", "Resolved", "Conversions", "Conversion", "Win rate", "Median days"].map((x, i) => h("th", { class: i ? "num" : null }, x)))),
    h("tbody", {}, Object.entries(groups).map(([name, row]) => h("tr", {}, h("td", {}, name), h("td", { class: "num" }, row.leads), h("td", { class: "num" }, row.resolved),
      h("td", { class: "num" }, row.conversions), h("td", { class: "num" }, pct(row.conversion_rate)), h("td", { class: "num" }, pct(row.win_rate)), h("td", { class: "num" }, row.median_days_to_convert ?? "—"))))));
  // Without won or lost leads there is nothing to measure yet: say what to do, not a red warning.
  const measured = report.resolved > 0 && report.auc !== null && report.auc !== undefined;
  page("Report",
    h("div", { class: "panel headline" }, h("div", {}, h("div", { class: "big", id: "auc" }, report.auc ?? "—"), h("div", { class: "muted" }, "AUC (resolved leads)")),
      h("div", {}, `${report.leads} leads, ${report.resolved} resolved, ${report.conversions} converted`),
      measured ? h("div", { class: report.conversion_rises_with_tier ? "plus" : "minus" }, report.conversion_rises_with_tier ? "Conversion rises with tier" : "Conversion does not rise with tier") : "",
      h("p", { class: "muted small", id: "auc-words" }, measured
        ? `AUC ${report.auc}: pick a converted lead and one that was lost at random, and ${Math.round(report.auc * 100)} times in 100 the converted one had the higher score (50 is a coin toss, 100 perfect).`
        : "No won or lost leads yet, so the score cannot be measured against outcomes. Once your CRM marks leads won (a HubSpot lifecycle stage of customer, a converted Salesforce lead) or lost, this report fills in; `leadscore import` brings the outcomes the CRM already has.")),
    h("div", { class: "grid2" }, rates("By tier", report.tiers, "by-tier"), rates("By grade", report.grades, "by-grade")),
    h("div", { class: "panel" }, h("h2", {}, "Cumulative gains"), gains(report.gains || [])),
    health.status === 200 ? healthPanel(health.body) : "",
    exceptions.status === 200 ? exceptionsPanel(exceptions.body) : "");
}

// Score health over time: per month (when leads were first seen) and rules version, the tier mix,
// how MQLs converted, and a warning when more leads reach MQL while fewer of them convert.
function healthPanel(body) {
  const rows = body.months.flatMap((month) => [
    { label: month.month, figures: month, top: true },
    ...(month.versions.length > 1 ? month.versions.map((v) => ({ label: `  version ${v.version}`, figures: v })) : []),
  ]);
  const mix = (figures) => body.tiers.filter((tier) => figures.tier_mix[tier]).map((tier) => `${tier.replace("_", " ")} ${figures.tier_mix[tier]}`).join(" · ");
  const version = (month) => (month.versions.length === 1 ? `version ${month.versions[0].version}` : "");
  return h("div", { class: "panel", id: "health" }, h("h2", {}, "Score health by month"),
    body.inflating ? h("p", { class: "error", id: "inflation" }, `Tier inflation: ${body.inflation[body.inflation.length - 1].message}. Look at what earns points, and try a stricter version as a shadow.`)
      : h("p", { class: "muted", id: "inflation" }, `No tier inflation: MQLs ${body.mql_from.replace("_", " ")} and above.`),
    h("div", { class: "table-wrap" }, h("table", { id: "health-months" },
      h("thead", {}, h("tr", {}, ["Month", "Leads", "Tier mix", "MQLs", "MQL share", "MQLs converted", "MQL win rate"].map((x, i) => h("th", { class: i && i !== 2 ? "num" : null }, x)))),
      h("tbody", {}, rows.map((row) => h("tr", { class: row.top ? "" : "muted small", "data-month": row.top ? row.label : null },
        h("td", {}, row.label, row.top && version(row.figures) ? h("div", { class: "muted small" }, version(row.figures)) : ""),
        h("td", { class: "num" }, row.figures.leads), h("td", { class: "small" }, mix(row.figures)), h("td", { class: "num" }, row.figures.mqls),
        h("td", { class: "num" }, pct(row.figures.mql_share)), h("td", { class: "num" }, `${row.figures.mqls_converted} (${pct(row.figures.mql_conversion)})`),
        h("td", { class: "num" }, pct(row.figures.mql_win_rate))))))),
    body.undated ? h("p", { class: "muted small" }, `${body.undated} leads scored before leads kept their first-seen date are counted from their next scoring.`) : "");
}

// The leads to review each month: won though they scored low, lost though they scored MQL.
function exceptionsPanel(body) {
  const list = (title, rows, id, empty) => h("div", { class: "panel", id },
    h("h2", {}, title),
    rows.length ? rows.map((row) => h("div", { class: "reason" },
      h("span", { class: "why" }, h("a", { href: `#/lead/${encodeURIComponent(row.lead_id)}` }, row.email || row.lead_id),
        h("div", { class: "muted small" }, (row.reasons || []).join(" · ") || "no reasons kept")),
      h("span", { class: "pts" }, `${row.score} ${row.tier.replace("_", " ")}`))) : h("p", { class: "muted" }, empty));
  return h("div", { class: "grid2" },
    list("Won, though they scored low", body.won_scored_low || [], "won-low", "None: every won lead scored above the lowest tier."),
    list("Lost, though they scored MQL", body.lost_scored_high || [], "lost-high", "None: no MQL was lost."));
}

function gains(points) {
  if (!points.length) return h("p", { class: "muted", id: "gains" }, "No conversions yet: the curve appears once leads are won.");
  const size = 300, pad = 30;
  const at = (value) => pad + ((size - 2 * pad) * value) / 100;
  const svg = s("svg", { viewBox: `0 0 ${size} ${size}`, class: "chart gains", id: "gains" });
  svg.append(s("line", { x1: at(0), y1: size - at(0), x2: at(100), y2: size - at(100), stroke: "#aaa", "stroke-dasharray": "4 4" }));
  svg.append(s("polyline", { fill: "none", stroke: "#2f5bd3", "stroke-width": 2, points: points.map((p) => `${at(p.leads_pct)},${size - at(p.conversions_pct)}`).join(" ") }));
  svg.append(s("text", { x: pad, y: size - 6, "font-size": 11 }, "share of leads, best first →"));
  svg.append(s("text", { x: 4, y: pad - 10, "font-size": 11 }, "share of conversions"));
  return svg;
}

// The shadow rules' card beside the real one: what the candidate version would show (never in the CRM).
function shadowCard(shadow, card) {
  if (!shadow) return "";
  const moved = shadow.score - card.score;
  return h("div", { class: "shadow-card small", id: "lead-shadow" },
    h("strong", {}, "Shadow rules: "), h("span", { id: "lead-shadow-score" }, shadow.score), ` (${signed(moved)}) `, tierBadge(shadow.tier),
    ` grade ${shadow.grade}`, h("div", { class: "muted" }, (shadow.reasons || []).join(" · ")));
}

// -------------------------------------------------------------------------------------- rules
function versionsPanel(reply) {
  if (reply.status !== 200) return h("div", { class: "panel" }, h("p", { class: "error" }, reply.body?.message || `HTTP ${reply.status}`));
  const listed = reply.body;
  const role = (v) => (v.role ? h("span", { class: `role ${v.role}` }, v.role) : "");
  return h("div", { class: "panel", id: "versions" }, h("h2", {}, "Versions"),
    h("p", { class: "muted" }, listed.shadow !== null ? `Version ${listed.active} is active; version ${listed.shadow} runs as the shadow since ${when(listed.shadow_since)}.` : `Version ${listed.active} is active.`),
    h("div", { class: "table-wrap" }, h("table", { id: "versions-table" },
      h("thead", {}, h("tr", {}, ["Version", "Name", "Deployed", "By", "Message", ""].map((x) => h("th", {}, x)))),
      h("tbody", {}, [...listed.versions].reverse().map((v) => h("tr", { "data-version": v.version },
        h("td", { class: "num" }, v.version), h("td", {}, v.name, h("div", { class: "muted small" }, v.fingerprint)),
        h("td", {}, when(v.deployed_at)), h("td", {}, v.deployed_by), h("td", {}, v.message || "—"), h("td", {}, role(v))))))),
    h("details", {}, h("summary", {}, `History (${listed.log.length})`),
      h("ul", { id: "versions-log" }, listed.log.map((entry) => h("li", {}, `${when(entry.at)}: ${entry.action} version ${entry.version} by ${entry.by}`)))));
}

async function shadowPanel(known) {
  if (!known.shadow) return "";
  const reply = await api("reports/shadow");
  if (reply.status !== 200) return "";
  const report = reply.body;
  const moves = new Map(report.moves.map((m) => [`${m.from}>${m.to}`, m.leads]));
  const tiers = report.tiers;
  const outcome = (version) => report.outcomes[version];
  const rate = (version, tier) => outcome(version).tiers[tier]?.conversion_rate;
  return h("div", { class: "panel", id: "shadow-report" }, h("h2", {}, `Shadow: ${report.shadow.name} (version ${known.shadow.version})`),
    h("p", { class: "muted" }, `Scored beside the active rules since ${when(report.since)}; never written to a CRM. `,
      h("strong", { id: "shadow-moved" }, report.changed_tier), ` of ${report.leads} live leads would change tier.`,
      report.not_yet_scored ? ` ${report.not_yet_scored} more are scored by the shadow at the next upkeep run or event.` : ""),
    h("div", { class: "table-wrap" }, h("table", { id: "shadow-migration" }, h("thead", {}, h("tr", {}, h("th", {}, "active \\ shadow"), tiers.map((t) => h("th", { class: "num" }, t.replace("_", " "))))),
      h("tbody", {}, tiers.map((from) => h("tr", {}, h("th", {}, from.replace("_", " ")), tiers.map((to) => h("td", { class: "num", "data-from": from, "data-to": to }, moves.get(`${from}>${to}`) || ""))))))),
    h("h3", {}, "Biggest movers"),
    h("div", { class: "table-wrap" }, h("table", { id: "shadow-movers" }, h("thead", {}, h("tr", {}, ["Lead", "Score", "Tier", "Why (shadow)"].map((x) => h("th", {}, x)))),
      h("tbody", {}, report.movers.map((m) => h("tr", { class: "link", onclick: () => { location.hash = `#/lead/${encodeURIComponent(m.lead_id)}`; } },
        h("td", {}, m.name || m.email || m.lead_id), h("td", {}, `${m.score} → ${m.shadow_score} (${signed(m.change)})`),
        h("td", {}, tierBadge(m.tier), " → ", tierBadge(m.shadow_tier)), h("td", { class: "small" }, m.shadow_reasons.join(" · "))))))),
    h("h3", {}, `Outcomes since the shadow started (${report.outcomes.leads} leads)`),
    h("div", { class: "table-wrap" }, h("table", { id: "shadow-outcomes" }, h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", { class: "num" }, "AUC"), tiers.map((t) => h("th", { class: "num" }, `${t.replace("_", " ")} converted`)))),
      h("tbody", {}, ["active", "shadow"].map((version) => h("tr", { "data-version": version }, h("th", {}, version),
        h("td", { class: "num" }, outcome(version).auc ?? "—"), tiers.map((t) => h("td", { class: "num" }, pct(rate(version, t))))))))));
}

async function rulesPage() {
  rulesCache = null;  // the active version may have changed since
  const known = await rules();
  const rows = (items, columns) => h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, columns.map(([title]) => h("th", {}, title)))),
    h("tbody", {}, items.map((item) => h("tr", {}, columns.map(([, pick]) => h("td", {}, pick(item) ?? "—")))))));
  const sections = h("div", { class: "sections" },
    h("details", { open: true }, h("summary", {}, `Engagement (${known.engagement.length} rules)`), rows(known.engagement, [["Rule", (r) => r.description || r.name], ["Event", (r) => r.event], ["Points", (r) => r.points], ["Then", (r) => r.then], ["Cap", (r) => r.cap], ["Decay", (r) => r.decay]])),
    h("details", {}, h("summary", {}, `Fit (${known.fit.length} rules)`), rows(known.fit.flatMap((r) => r.options.map((o) => ({ rule: r.description || r.name, ...o }))), [["Rule", (o) => o.rule], ["Option", (o) => o.label], ["Points", (o) => o.points]])),
    h("details", {}, h("summary", {}, "Tiers and grades"), rows(known.tiers.bands, [["Tier", (b) => b.name], ["From score", (b) => b.min]]), rows(known.grades, [["Grade", (g) => g.grade], ["From fit", (g) => g.min_fit]])),
    h("details", {}, h("summary", {}, "Decay"), rows(Object.entries(known.decay).map(([name, d]) => ({ name, ...d })), [["Schedule", (d) => d.name], ["Half-life (days)", (d) => d.half_life_days], ["Steps", (d) => (d.steps ? `${d.steps.map((st) => `under ${st.until_days} d: ${Math.round(100 * st.keep)}%`).join(", ")}, then ${Math.round(100 * d.after)}%` : null)]])));
  const text = h("textarea", { id: "rules-text", spellcheck: "false", placeholder: "Paste a rules file (YAML) or choose one below" });
  const [listing, shadow] = await Promise.all([api("rules/versions"), shadowPanel(known)]);
  const versions = versionsPanel(listing);
  const activeNumber = listing.status === 200 ? listing.body.active : null;
  if (activeNumber !== null) {
    // The what-if starts from what is live: the active version's file as deployed.
    const active = await api(`rules/versions/${activeNumber}`);
    if (active.status === 200) text.value = active.body.rules;
  }
  const file = h("input", { type: "file", id: "rules-file", accept: ".yaml,.yml,text/yaml" });
  file.addEventListener("change", async () => { if (file.files[0]) text.value = await file.files[0].text(); });
  const run = h("button", { type: "button", id: "preview" }, "Preview on live leads");
  const bar = h("div", {});
  const result = h("div", { id: "preview-result" });
  run.addEventListener("click", () => preview(text.value, run, bar, result));
  const message = h("input", { type: "text", id: "deploy-message", placeholder: "why (shown in the history)", maxlength: "500" });
  const deploy = h("button", { type: "button", id: "deploy-shadow" }, "Deploy as shadow");
  const deployed = h("div", { id: "deploy-result" });
  deploy.addEventListener("click", () => deployShadow(text.value, message.value, deploy, deployed));
  const version = activeNumber !== null ? `version ${activeNumber}` : "the bundled file";
  page("Rules",
    h("div", { class: "panel" }, h("p", {}, h("strong", { id: "rules-name" }, known.name), ` · active: ${version} · fingerprint `, h("code", { id: "rules-fingerprint" }, known.fingerprint)), sections),
    shadow, versions,
    h("div", { class: "panel" }, h("h2", {}, "What if: preview a rules change"),
      h("p", { class: "muted" }, "Edit the active rules below (or paste a file): every live lead is rescored from its events with them and compared with what it shows now. Nothing changes until they are deployed; deployed as the shadow, they are scored beside the active rules and never reach the CRM."),
      text, h("div", { class: "toolbar" }, file, run), h("div", { class: "progress", hidden: true, id: "preview-progress" }, bar), result,
      h("div", { class: "toolbar" }, message, deploy), deployed));
}

// A rules file refused: the viewer key's 403 in words, else the message and every problem with its line.
function refused(reply, id, what) {
  if (reply.status === 403) return [h("p", { class: "error", id }, `${what} needs the admin key; this key can only look.`)];
  const issues = reply.body?.issues || [];
  return [h("p", { class: "error", id }, reply.body?.message || `HTTP ${reply.status}`),
    h("ul", { class: "issues" }, issues.map((issue) => h("li", {}, issue.text || issue.message)))];
}

async function deployShadow(textValue, message, button, result) {
  button.disabled = true;
  try {
    const reply = await api("rules/versions", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ rules: textValue, message, role: "shadow" }) });
    if (reply.status !== 200) { result.replaceChildren(...refused(reply, "deploy-error", "Deploying rules")); return; }
    result.replaceChildren(h("p", { id: "deploy-done" }, `Version ${reply.body.version} (${reply.body.name}) runs as the shadow. Its comparison appears here as leads are scored.`),
      reply.body.warnings?.length ? h("ul", { class: "issues", id: "deploy-warnings" }, reply.body.warnings.map((warning) => h("li", {}, `warning: ${warning}`))) : "");
    rulesCache = null;
  } finally {
    button.disabled = false;
  }
}

async function preview(textValue, button, bar, result) {
  button.disabled = true;
  const progress = document.getElementById("preview-progress");
  result.replaceChildren(h("p", { class: "muted" }, "Working…"));
  const moves = new Map();
  let movers = [], scanned = 0, total = null, cursor = null, diff = [];
  const named = new Map();  // each named score, added up over the pages
  try {
    do {
      const reply = await api("rules/preview", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ rules: textValue, cursor, limit: 100 }) });
      if (reply.status !== 200) { result.replaceChildren(...refused(reply, "preview-error", "Previewing rules")); return; }
      const answer = reply.body;
      total = answer.total ?? total;
      diff = answer.diff ?? diff;
      scanned += answer.scanned;
      for (const move of answer.moves) moves.set(`${move.from}>${move.to}`, (moves.get(`${move.from}>${move.to}`) || 0) + move.leads);
      movers = [...movers, ...answer.movers].sort((a, b) => Math.abs(b.change) - Math.abs(a.change)).slice(0, 20);
      for (const score of answer.named || []) {
        const sum = named.get(score.name) || { label: score.label, leads: 0, total: 0, rose: 0, fell: 0, new: 0 };
        for (const key of ["leads", "total", "rose", "fell", "new"]) sum[key] += score[key] || 0;
        named.set(score.name, sum);
      }
      cursor = answer.next_cursor;
      progress.hidden = false;
      bar.style.width = `${total ? Math.min(100, (100 * scanned) / total) : 100}%`;
      result.replaceChildren(h("p", { class: "muted" }, `Rescored ${scanned}${total !== null ? ` of ${total}` : ""} leads…`));
    } while (cursor);
    const known = await rules();
    const tiers = [...known.tiers.bands.map((band) => band.name).reverse(), known.tiers.disqualified];
    const moved = [...moves.entries()].filter(([pair]) => pair.split(">")[0] !== pair.split(">")[1]).reduce((sum, [, count]) => sum + count, 0);
    result.replaceChildren(
      h("div", { id: "preview-diff" }, h("h2", {}, "What the edit changes"), diff.length ? diff.map((section) => h("div", { class: "diff-section" },
        h("strong", {}, section.section), h("ul", {}, section.changes.map((line) => h("li", {}, line))))) : h("p", { class: "muted" }, "No difference in meaning from the active rules.")),
      h("p", { id: "preview-summary" }, `${scanned} leads rescored; `, h("strong", { id: "moved-count" }, moved), ` would change tier.`),
      h("div", { class: "table-wrap" }, h("table", { id: "migration" }, h("thead", {}, h("tr", {}, h("th", {}, "from \\ to"), tiers.map((t) => h("th", { class: "num" }, t.replace("_", " "))))),
        h("tbody", {}, tiers.map((from) => h("tr", {}, h("th", {}, from.replace("_", " ")), tiers.map((to) => h("td", { class: "num", "data-from": from, "data-to": to }, moves.get(`${from}>${to}`) || ""))))))),
      named.size ? h("div", { id: "preview-named" }, h("h2", {}, "Named scores"), h("ul", {}, [...named.entries()].map(([name, sum]) =>
        h("li", { "data-score": name }, `${sum.label}: average ${sum.leads ? Math.round(sum.total / sum.leads) : 0} over ${sum.leads} leads; `,
          `${sum.rose} rise, ${sum.fell} fall${sum.new ? `, ${sum.new} scored for the first time` : ""}`)))) : "",
      h("h2", {}, "Biggest movers"),
      h("div", { class: "table-wrap" }, h("table", { id: "movers" }, h("thead", {}, h("tr", {}, ["Lead", "Company", "Score", "Tier"].map((x) => h("th", {}, x)))),
        h("tbody", {}, movers.map((m) => h("tr", { class: "link", onclick: () => { location.hash = `#/lead/${encodeURIComponent(m.lead_id)}`; } },
          h("td", {}, m.name || m.email || m.lead_id), h("td", {}, m.company || "—"), h("td", {}, `${m.score_before} → ${m.score_after} (${signed(m.change)})`),
          h("td", {}, tierBadge(m.tier_before), " → ", tierBadge(m.tier_after))))))));
    bar.style.width = "100%";
  } finally {
    button.disabled = false;
  }
}

// ------------------------------------------------------------------------------------- router
async function route() {
  if (!sessionStorage.getItem(KEY)) { signOut(); return; }
  document.getElementById("sign-in").hidden = true;
  document.getElementById("nav").hidden = false;
  const [path, query = ""] = (location.hash.replace(/^#/, "") || "/leads").split("?");
  const parts = path.split("/").filter(Boolean);
  const section = { lead: "leads", account: "accounts" }[parts[0]] || parts[0];
  for (const link of document.querySelectorAll("nav a")) link.classList.toggle("active", link.dataset.page === section);
  try {
    if (parts[0] === "lead" && parts[1]) await leadPage(decodeURIComponent(parts[1]));
    else if (parts[0] === "account" && parts[1]) await accountPage(decodeURIComponent(parts[1]));
    else if (parts[0] === "accounts") await accountsPage(new URLSearchParams(query));
    else if (parts[0] === "report") await reportPage();
    else if (parts[0] === "rules") await rulesPage();
    else if (parts[0] === "new-mqls") await leadsPage(new URLSearchParams({ view: "new_mqls", days: new URLSearchParams(query).get("days") || "7" }));
    else await leadsPage(new URLSearchParams(query));
  } catch (error) {
    if (error.message !== "unauthorized") page("Something went wrong", h("p", { class: "error" }, error.message));
  }
  document.body.dataset.ready = location.hash || "#/leads";
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("sign-in-form").addEventListener("submit", signIn);
  document.getElementById("sign-out").addEventListener("click", () => signOut());
  window.addEventListener("hashchange", route);
  route();
});
