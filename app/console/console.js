// The Reframer console: a small SPA over the public REST API. No build step, no CDN.

const view = document.getElementById("view");
const nav = document.getElementById("nav");
const flash = document.getElementById("flash");
const FINAL = new Set(["succeeded", "failed", "canceled", "expired"]);
const POLL_MS = 1500;
let pollTimer = null;

// ---------- session ----------
const session = {
  get access() { return sessionStorage.getItem("access_token"); },
  get refresh() { return sessionStorage.getItem("refresh_token"); },
  save(tokens) {
    sessionStorage.setItem("access_token", tokens.access_token);
    sessionStorage.setItem("refresh_token", tokens.refresh_token);
  },
  clear() { sessionStorage.clear(); },
};

// ---------- API ----------
class ApiError extends Error {
  constructor(problem, status) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.problem = problem;
    this.status = status;
  }
}

async function refreshTokens() {
  if (!session.refresh) return false;
  const response = await fetch("/api/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: session.refresh }),
  });
  if (!response.ok) { session.clear(); return false; }
  session.save(await response.json());
  return true;
}

async function api(method, path, body, retried = false) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (session.access) headers.Authorization = `Bearer ${session.access}`;
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && !retried && session.refresh && await refreshTokens()) {
    return api(method, path, body, true);
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(data, response.status);
  return data;
}

// ---------- rendering helpers ----------
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else if (value !== false && value != null) el.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child != null) el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

function show(...nodes) {
  view.replaceChildren(...nodes);
  view.focus({ preventScroll: true });
}

function say(message, kind = "error", link = null) {
  flash.className = kind === "info" ? "info" : "";
  flash.replaceChildren(message, link ? h("span", {}, " ", link) : "");
  flash.hidden = false;
}

function clearFlash() { flash.hidden = true; }

function explain(error) {
  if (!(error instanceof ApiError)) return say(`Something went wrong: ${error.message}`);
  const problem = error.problem;
  if (problem.code === "tier_limit") {
    return say(
      `${problem.detail} `,
      "error",
      h("a", { href: "#/plan" }, `Upgrade to ${problem.required_plan}`),
    );
  }
  if (problem.code === "quota_exceeded") {
    return say(`${problem.detail} (used ${problem.usage} of ${problem.limit}).`, "error",
      h("a", { href: "#/plan" }, "See plans"));
  }
  if (problem.errors) {
    return say(`${problem.detail}: ${problem.errors.map((e) => `${e.field} – ${e.message}`).join("; ")}`);
  }
  return say(problem.detail || error.message);
}

function field(label, input) { return h("label", {}, label, input); }

function when(iso) { return iso ? new Date(iso).toLocaleString() : "—"; }

function busy(button, promise) {
  button.disabled = true;
  return promise.finally(() => { button.disabled = false; });
}

// ---------- pages ----------
function authPage(mode) {
  const email = h("input", { type: "email", name: "email", autocomplete: "email", required: true });
  const password = h("input", {
    type: "password", name: "password", minlength: mode === "signup" ? 8 : 1, required: true,
    autocomplete: mode === "signup" ? "new-password" : "current-password",
  });
  const submit = h("button", { type: "submit" }, mode === "signup" ? "Create account" : "Log in");
  const form = h("form", {
    "aria-label": mode === "signup" ? "Sign up" : "Log in",
    onsubmit: async (event) => {
      event.preventDefault();
      clearFlash();
      await busy(submit, (async () => {
        try {
          if (mode === "signup") {
            await api("POST", "/api/auth/register", { email: email.value, password: password.value });
          }
          session.save(await api("POST", "/api/auth/login", { email: email.value, password: password.value }));
          location.hash = "#/jobs";
        } catch (error) { explain(error); }
      })());
    },
  }, field("Email", email), field("Password", password), submit);
  const other = mode === "signup"
    ? h("p", {}, "Have an account? ", h("a", { href: "#/login" }, "Log in"))
    : h("p", {}, "New here? ", h("a", { href: "#/signup" }, "Create an account"));
  show(h("h1", {}, mode === "signup" ? "Create your account" : "Log in"), h("div", { class: "card" }, form, other));
}

async function jobsPage() {
  const list = await api("GET", "/api/jobs?limit=50");
  const rows = list.data.map((job) => h("tr", {},
    h("td", {}, h("a", { href: `#/jobs/${job.id}` }, job.filename || job.id)),
    h("td", { class: `status status-${job.status}` }, job.status),
    h("td", { class: "optional" }, job.options?.aspect_ratio ?? ""),
    h("td", { class: "optional" }, when(job.created_at)),
  ));
  show(
    h("div", { class: "row" }, h("h1", {}, "Jobs"), h("a", { href: "#/new" }, "New job")),
    rows.length
      ? h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "File"), h("th", {}, "Status"),
          h("th", { class: "optional" }, "Aspect"), h("th", { class: "optional" }, "Created"))),
        h("tbody", {}, rows))
      : h("p", { class: "muted" }, "No jobs yet. ", h("a", { href: "#/new" }, "Reframe your first video.")),
  );
}

function putWithProgress(upload, file, bar) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(upload.method || "PUT", upload.url);
    for (const [name, value] of Object.entries(upload.headers || {})) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => { if (event.lengthComputable) bar.value = event.loaded / event.total * 100; };
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error(`upload failed (${xhr.status})`)));
    xhr.onerror = () => reject(new Error("upload failed: the storage endpoint could not be reached"));
    xhr.send(file);
  });
}

function newJobPage() {
  const file = h("input", { type: "file", name: "video", accept: "video/*", required: true });
  const aspect = h("select", { name: "aspect_ratio" },
    h("option", { value: "9:16" }, "Vertical 9:16"), h("option", { value: "1:1" }, "Square 1:1"),
    h("option", { value: "4:5" }, "Portrait 4:5"));
  const resolution = h("select", { name: "resolution" },
    h("option", { value: "720p" }, "720p"), h("option", { value: "1080p" }, "1080p"),
    h("option", { value: "480p" }, "480p"), h("option", { value: "2160p" }, "2160p (4K)"));
  const bar = h("progress", { max: 100, value: 0, "aria-label": "Upload progress" });
  const submit = h("button", { type: "submit" }, "Upload and reframe");
  const form = h("form", {
    "aria-label": "New job",
    onsubmit: async (event) => {
      event.preventDefault();
      clearFlash();
      const video = file.files[0];
      if (!video) return say("Choose a video first.");
      await busy(submit, (async () => {
        try {
          const created = await api("POST", "/api/jobs", {
            filename: video.name,
            content_type: video.type || "video/mp4",
            size_bytes: video.size,
            options: { aspect_ratio: aspect.value, resolution: resolution.value },
          });
          await putWithProgress(created.upload, video, bar);
          await api("POST", `/api/jobs/${created.job.id}/confirm`);
          location.hash = `#/jobs/${created.job.id}`;
        } catch (error) { explain(error); }
      })());
    },
  }, field("Video file", file), field("Aspect ratio", aspect), field("Output resolution", resolution),
  field("Upload", bar), submit);
  show(h("h1", {}, "New job"), h("div", { class: "card" }, form));
}

async function jobPage(id) {
  const job = await api("GET", `/api/jobs/${id}`);
  const percent = job.progress?.percent ?? job.percent ?? 0;
  const stage = job.progress?.stage ?? job.stage;
  const parts = [
    h("h1", {}, job.filename || "Job"),
    h("div", { class: "card" },
      h("p", {}, "Status: ", h("span", { class: `status status-${job.status}`, "data-testid": "job-status" }, job.status)),
      job.status === "running" || job.status === "submitted" || job.status === "queued"
        ? h("div", {}, h("p", {}, `Stage: ${stage ?? "waiting"} (${percent}%)`),
            h("progress", { max: 100, value: percent, "aria-label": "Processing progress" }))
        : null,
      job.error ? h("p", { class: "status-failed" }, `${job.error.code}: ${job.error.message}`) : null,
      !FINAL.has(job.status)
        ? h("button", { type: "button", class: "secondary", onclick: async () => {
            try { await api("POST", `/api/jobs/${id}/cancel`); route(); } catch (error) { explain(error); }
          } }, "Cancel job")
        : null,
    ),
  ];
  if (job.status === "succeeded") {
    const outputs = await api("GET", `/api/jobs/${id}/outputs`);
    parts.push(h("div", { class: "card" },
      h("h2", {}, "Result"),
      h("video", { controls: true, src: outputs.video.url, "aria-label": "Reframed video", "data-testid": "result-video" }),
      h("p", { class: "row" },
        h("a", { href: outputs.video.url, download: "reframed.mp4" }, "Download video"),
        h("a", { href: outputs.thumbnail.url, target: "_blank", rel: "noopener" }, "Thumbnail"),
        h("a", { href: outputs.manifest.url, target: "_blank", rel: "noopener" }, "Manifest")),
    ));
  }
  const events = await api("GET", `/api/jobs/${id}/events`);
  parts.push(h("h2", {}, "History"), h("ol", {}, (events.data ?? events).map((e) =>
    h("li", {}, `${when(e.created_at)} — ${e.to_status ?? e.status}`))));
  show(...parts);
  if (!FINAL.has(job.status)) pollTimer = setTimeout(() => route(), POLL_MS);
}

async function keysPage() {
  const keys = await api("GET", "/api/api-keys");
  const name = h("input", { name: "name", required: true, maxlength: 100 });
  const secretBox = h("div");
  const submit = h("button", { type: "submit" }, "Create key");
  const form = h("form", { "aria-label": "New API key", onsubmit: async (event) => {
    event.preventDefault();
    clearFlash();
    try {
      const created = await api("POST", "/api/api-keys", { name: name.value });
      await keysPage();
      view.prepend(h("div", { class: "card" }, h("p", {}, "Copy this key now; it is shown only once:"),
        h("p", { class: "secret", "data-testid": "new-secret" }, created.key)));
    } catch (error) { explain(error); }
  } }, field("Key name", name), submit);
  show(
    h("h1", {}, "API keys"),
    secretBox,
    h("div", { class: "card" }, form),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Prefix"),
      h("th", { class: "optional" }, "Last used"), h("th", {}, ""))),
      h("tbody", {}, keys.map((key) => h("tr", {}, h("td", {}, key.name), h("td", {}, `${key.prefix}…`),
        h("td", { class: "optional" }, when(key.last_used_at)),
        h("td", {}, h("button", { type: "button", class: "danger", "aria-label": `Revoke ${key.name}`,
          onclick: async () => { await api("DELETE", `/api/api-keys/${key.id}`); keysPage(); } }, "Revoke")))))),
  );
}

async function webhooksPage() {
  let endpoints = [];
  let deliveries = [];
  try {
    endpoints = (await api("GET", "/api/webhooks/endpoints")).data ?? [];
    deliveries = (await api("GET", "/api/webhooks/deliveries")).data ?? [];
  } catch (error) { explain(error); }
  const url = h("input", { type: "url", name: "url", required: true, placeholder: "https://example.com/hooks" });
  const submit = h("button", { type: "submit" }, "Add endpoint");
  const form = h("form", { "aria-label": "New webhook endpoint", onsubmit: async (event) => {
    event.preventDefault();
    clearFlash();
    try {
      const created = await api("POST", "/api/webhooks/endpoints", {
        url: url.value, events: ["job.succeeded", "job.failed", "job.canceled", "job.started", "job.queued"],
      });
      await webhooksPage();
      view.prepend(h("div", { class: "card" }, h("p", {}, "Signing secret, shown only once:"),
        h("p", { class: "secret", "data-testid": "new-secret" }, created.secret)));
    } catch (error) { explain(error); }
  } }, field("Endpoint URL", url), submit);
  show(
    h("h1", {}, "Webhooks"),
    h("div", { class: "card" }, form),
    h("h2", {}, "Endpoints"),
    h("table", {}, h("tbody", {}, endpoints.map((ep) => h("tr", {}, h("td", {}, ep.url),
      h("td", {}, ep.enabled ? "enabled" : "disabled"),
      h("td", {}, h("button", { type: "button", class: "secondary", onclick: async () => {
        try { await api("POST", `/api/webhooks/endpoints/${ep.id}/test`); say("Test event sent.", "info"); }
        catch (error) { explain(error); } } }, "Send test")))))),
    h("h2", {}, "Recent deliveries"),
    h("table", {}, h("tbody", {}, deliveries.map((d) => h("tr", {}, h("td", {}, d.event_type ?? d.type ?? ""),
      h("td", {}, d.status), h("td", { class: "optional" }, when(d.updated_at ?? d.created_at)))))),
  );
}

async function planPage() {
  const usage = await api("GET", "/api/usage");
  let subscription = null;
  try { subscription = await api("GET", "/api/billing/subscription"); } catch { /* billing off */ }
  const redirect = (label, path, body) => h("button", { type: "button", onclick: async () => {
    try { const { url } = await api("POST", path, body); location.href = url; }
    catch (error) { explain(error); }
  } }, label);
  const upgrade = (plan) => redirect(`Upgrade to ${plan}`, "/api/billing/checkout", { plan });
  // A paying subscriber changes plan in Stripe's portal: a second checkout would be refused.
  const subscribed = Boolean(subscription?.subscribed_plan);
  show(
    h("h1", {}, "Plan & usage"),
    h("div", { class: "card" },
      h("p", {}, "Plan: ", h("strong", { "data-testid": "plan" }, usage.plan)),
      subscription?.status ? h("p", {}, `Subscription: ${subscription.status}`) : null,
      h("p", {}, `Jobs this period: ${usage.jobs} of ${usage.limits?.jobs_per_month ?? "—"}`),
      h("p", {}, `Source minutes processed: ${usage.source_minutes ?? 0}`),
      h("p", { class: "muted" }, `Resets ${when(usage.resets_at)}`),
      subscribed
        ? h("div", { class: "row" }, redirect("Manage subscription", "/api/billing/portal"))
        : h("div", { class: "row" }, usage.plan === "free" ? upgrade("pro") : null,
          usage.plan !== "business" ? upgrade("business") : null),
    ),
  );
}

// ---------- routing ----------
const PUBLIC = new Set(["#/login", "#/signup"]);

async function route() {
  clearTimeout(pollTimer);
  const hash = location.hash || "#/jobs";
  const signedIn = Boolean(session.access);
  nav.hidden = !signedIn;
  for (const link of nav.querySelectorAll("a")) {
    link.toggleAttribute("aria-current", hash.startsWith(link.getAttribute("href")));
    if (link.hasAttribute("aria-current")) link.setAttribute("aria-current", "page");
  }
  if (!signedIn && !PUBLIC.has(hash)) return authPage("login");
  try {
    if (hash === "#/signup") return authPage("signup");
    if (hash === "#/login") return authPage("login");
    if (hash === "#/new") return newJobPage();
    if (hash.startsWith("#/jobs/")) return await jobPage(hash.slice("#/jobs/".length));
    if (hash === "#/keys") return await keysPage();
    if (hash === "#/webhooks") return await webhooksPage();
    if (hash === "#/plan") return await planPage();
    return await jobsPage();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) { session.clear(); return authPage("login"); }
    explain(error);
  }
}

document.getElementById("logout").addEventListener("click", async () => {
  if (session.refresh) await api("POST", "/api/auth/logout", { refresh_token: session.refresh }).catch(() => {});
  session.clear();
  location.hash = "#/login";
});
window.addEventListener("hashchange", () => { clearFlash(); route(); });
route();
