// The Reframer console: a small SPA over the public REST API. No build step, no CDN.

import { ApiError, api, fetchJson, session } from "./api.js";
import {
  ACTIVE, FINAL, STAGE_WORDS, ago, bytes, clock, field, h, minutes, statusBadge, title, when,
} from "./dom.js";
import { reframeView } from "./reframe.js";
import { fingerprint, resumeSource, unfinishedUpload, uploadSource } from "./uploads.js";

const view = document.getElementById("view");
const nav = document.getElementById("nav");
const flash = document.getElementById("flash");
const POLL_MS = 2000;
const PAGE_SIZE = 12;
let pollTimer = null;
let me = null;

// ---------- messages ----------
function say(message, kind = "error", link = null) {
  flash.className = kind === "info" ? "info" : "error";
  flash.setAttribute("role", kind === "info" ? "status" : "alert");
  flash.replaceChildren(h("span", {}, message), link ? h("span", {}, " ", link) : "");
  flash.hidden = false;
}

function clearFlash() { flash.hidden = true; }

function explain(error) {
  if (!(error instanceof ApiError)) return say(`Something went wrong: ${error.message}`);
  const problem = error.problem;
  if (problem.code === "tier_limit") {
    return say(`${problem.detail} `, "error",
      h("a", { href: "#/plan" }, `Upgrade to ${problem.required_plan}`));
  }
  if (problem.code === "quota_exceeded") {
    return say(`${problem.detail} (used ${problem.usage} of ${problem.limit}).`, "error",
      h("a", { href: "#/plan" }, "See plans"));
  }
  if (problem.code === "email_unverified") {
    return say(`Confirm ${me?.email ?? "your address"} first: open the link in the email we sent you.`,
      "error", h("a", { href: "#/check-email" }, "Send it again"));
  }
  if (problem.errors) {
    return say(`${problem.detail}: ${problem.errors.map((e) => `${e.field} – ${e.message}`).join("; ")}`);
  }
  return say(problem.detail || error.message);
}

function show(...nodes) {
  view.replaceChildren(...nodes.flat(Infinity).filter((node) => node != null && node !== false));
  const heading = view.querySelector("h1");
  if (heading) heading.focus({ preventScroll: true });
}

function busy(button, promise) {
  button.disabled = true;
  return promise.finally(() => { button.disabled = false; });
}

// ---------- signed out ----------
function authPage(mode) {
  const signup = mode === "signup";
  const email = h("input", { type: "email", name: "email", autocomplete: "email", required: true });
  const password = h("input", {
    type: "password", name: "password", minlength: signup ? 8 : 1, required: true,
    autocomplete: signup ? "new-password" : "current-password",
  });
  const submit = h("button", { type: "submit" }, signup ? "Create account" : "Log in");
  const form = h("form", {
    "aria-label": signup ? "Sign up" : "Log in",
    onsubmit: async (event) => {
      event.preventDefault();
      clearFlash();
      await busy(submit, (async () => {
        try {
          if (signup) {
            await api("POST", "/api/auth/register", { email: email.value, password: password.value });
          }
          session.save(await api("POST", "/api/auth/login", { email: email.value, password: password.value }));
          location.hash = signup ? "#/check-email" : "#/jobs";
        } catch (error) { explain(error); }
      })());
    },
  }, field("Email", email), field("Password", password, signup ? "At least 8 characters." : null), submit);
  const other = signup
    ? h("p", {}, "Have an account? ", h("a", { href: "#/login" }, "Log in"))
    : h("p", {}, "New here? ", h("a", { href: "#/signup" }, "Create an account"));
  show(h("div", { class: "narrow" },
    title(signup ? "Create your account" : "Log in"),
    h("p", { class: "muted" }, "Reframer turns landscape videos into vertical, square and portrait ones, keeping the subject in the picture."),
    h("div", { class: "card" }, form, other)));
}

// ---------- first run ----------
function countdown(button, seconds, label) {
  let left = seconds;
  button.disabled = true;
  const tick = () => {
    if (!button.isConnected) return;
    if (left <= 0) { button.disabled = false; button.textContent = label; return; }
    button.textContent = `${label} (in ${left} s)`;
    left -= 1;
    setTimeout(tick, 1000);
  };
  tick();
}

function resendButton() {
  const label = "Send the link again";
  const note = h("p", { class: "muted", role: "status", "data-testid": "resend-status" });
  const button = h("button", { type: "button", class: "secondary", onclick: async () => {
    clearFlash();
    button.disabled = true;
    try {
      const answer = await api("POST", "/api/auth/resend-verification");
      note.textContent = answer.detail;
      button.disabled = false;
    } catch (error) {
      const wait = error instanceof ApiError ? Number(error.problem.retry_after) : NaN;
      if (error instanceof ApiError && error.status === 429 && wait > 0) {
        note.textContent = `We only send a link every little while. You can ask again in ${wait} seconds.`;
        countdown(button, wait, label);
      } else if (error instanceof ApiError && error.problem.code === "email_already_verified") {
        location.hash = "#/new";
      } else { button.disabled = false; explain(error); }
    }
  } }, label);
  return [button, note];
}

function changeAddressForm() {
  const email = h("input", { type: "email", name: "new_email", autocomplete: "email", required: true });
  const submit = h("button", { type: "submit" }, "Use this address");
  return h("details", { class: "change" },
    h("summary", {}, "Wrong address? Change it"),
    h("form", { "aria-label": "Change email address", onsubmit: async (event) => {
      event.preventDefault();
      clearFlash();
      await busy(submit, (async () => {
        try {
          me = await api("PUT", "/api/me/email", { email: email.value });
          await checkEmailPage();
          say(`We sent a new link to ${me.email}.`, "info");
        } catch (error) { explain(error); }
      })());
    } }, field("New email address", email), submit));
}

async function checkEmailPage() {
  me = await api("GET", "/api/me");
  if (me.email_verified) { location.hash = "#/new"; return; }
  const [resend, note] = resendButton();
  show(h("div", { class: "narrow" },
    title("Check your email"),
    h("div", { class: "card" },
      h("p", {}, "We sent a link to ", h("strong", { "data-testid": "email" }, me.email), "."),
      h("p", {}, "Open it to confirm your address; then you can upload your first video. It can take a minute to arrive — look in the spam folder too."),
      h("div", { class: "row" }, resend), note,
      changeAddressForm()),
    h("p", {}, h("a", { href: "#/jobs" }, "Look around the console meanwhile"))));
  // The link is usually opened in another tab: move on when it has been.
  const waitForVerification = async () => {
    if (location.hash !== "#/check-email") return;
    try {
      const now = await api("GET", "/api/me");
      if (now.email_verified) { me = now; say(`${now.email} is confirmed. Upload your first video.`, "info"); location.hash = "#/new"; return; }
    } catch { /* a transient failure: try again */ }
    pollTimer = setTimeout(waitForVerification, 3000);
  };
  pollTimer = setTimeout(waitForVerification, 3000);
}

function unverifiedNotice() {
  if (!me || me.email_verified) return null;
  return h("div", { class: "notice", role: "note", "data-testid": "unverified" },
    h("p", {}, h("strong", {}, "Confirm your email address first. "),
      `We sent a link to ${me.email}; videos can be uploaded once it is opened.`),
    h("a", { href: "#/check-email" }, "Resend or change the address"));
}

// ---------- jobs ----------
function thumbnail(job) {
  if (job.thumbnail_url) return h("img", { class: "thumb", src: job.thumbnail_url, alt: "", loading: "lazy" });
  return h("div", { class: `thumb placeholder status-${job.status}`, "aria-hidden": "true" },
    ACTIVE.has(job.status) ? "…" : "");
}

function jobCard(job) {
  const progress = ACTIVE.has(job.status)
    ? h("progress", { max: 100, value: job.progress?.percent ?? 0, "aria-label": `${job.filename} progress` })
    : null;
  return h("li", { class: "job" },
    thumbnail(job),
    h("div", { class: "job-main" },
      h("a", { class: "job-name", href: `#/jobs/${job.id}` }, job.filename),
      h("div", { class: "job-status" }, statusBadge(job.status),
        job.progress && ACTIVE.has(job.status) ? h("span", { class: "muted" }, ` ${job.progress.percent}%`) : null),
      progress),
    h("dl", { class: "job-facts" },
      h("div", {}, h("dt", {}, "Length"), h("dd", {}, clock(job.measured_duration_seconds ?? job.duration_seconds))),
      h("div", {}, h("dt", {}, "Shape"), h("dd", {}, job.options.aspect_ratio)),
      h("div", {}, h("dt", {}, "Created"), h("dd", {}, when(job.created_at)))));
}

async function jobsPage() {
  me = await api("GET", "/api/me");
  const list = h("ul", { class: "jobs", "aria-label": "Jobs, newest first" });
  const more = h("button", { type: "button", class: "secondary" }, "Show older jobs");
  let cursor = null;
  const load = async () => {
    const query = new URLSearchParams({ limit: PAGE_SIZE });
    if (cursor) query.set("starting_after", cursor);
    const page = await api("GET", `/api/jobs?${query}`);
    list.append(...page.data.map(jobCard));
    cursor = page.data.at(-1)?.id ?? cursor;
    more.hidden = !page.has_more;
    return page;
  };
  more.addEventListener("click", () => busy(more, load().catch(explain)));
  const first = await load();
  show(
    h("div", { class: "row spread" }, title("Your videos"), h("a", { class: "button", href: "#/new" }, "New job")),
    unverifiedNotice(),
    first.data.length ? list : h("div", { class: "card empty" },
      h("p", {}, "No jobs yet."), h("a", { href: "#/new" }, "Reframe your first video")),
    h("div", { class: "row" }, more),
  );
}

async function plansAndUsage() {
  const [plans, usage] = await Promise.all([api("GET", "/api/plans"), api("GET", "/api/usage")]);
  return { plans: plans.data, usage };
}

function speedText(bytesPerSecond) {
  const mib = 1024 ** 2;
  return bytesPerSecond >= mib
    ? `${+(bytesPerSecond / mib).toFixed(1)} MB/s` : `${Math.round(bytesPerSecond / 1024)} KB/s`;
}

// The file's duration, read locally, so a too-long video is refused before its upload.
function videoDuration(file) {
  return new Promise((resolve) => {
    const probe = document.createElement("video");
    const url = URL.createObjectURL(file);
    const done = (value) => { URL.revokeObjectURL(url); resolve(value); };
    probe.preload = "metadata";
    probe.onloadedmetadata = () => done(Number.isFinite(probe.duration) ? probe.duration : null);
    probe.onerror = () => done(null);
    setTimeout(() => done(null), 5000);
    probe.src = url;
  });
}

async function newJobPage() {
  me = await api("GET", "/api/me");
  const { usage } = await plansAndUsage();
  const limits = usage.limits;
  const file = h("input", { type: "file", name: "video", accept: "video/*", required: true });
  const choice = (value, text, allowed) =>
    h("option", { value, disabled: !allowed }, allowed ? text : `${text} — on a bigger plan`);
  const aspect = h("select", { name: "aspect_ratio" },
    choice("9:16", "Vertical 9:16", limits.aspect_ratios.includes("9:16")),
    choice("1:1", "Square 1:1", limits.aspect_ratios.includes("1:1")),
    choice("4:5", "Portrait 4:5", limits.aspect_ratios.includes("4:5")));
  const rank = { "480p": 480, "720p": 720, "1080p": 1080, "2160p": 2160 };
  const cap = rank[limits.max_resolution];
  const resolution = h("select", { name: "resolution" },
    ["720p", "1080p", "480p", "2160p"].map((r) => choice(r, r === "2160p" ? "2160p (4K)" : r, rank[r] <= cap)));
  const bar = h("progress", { max: 100, value: 0, "aria-label": "Upload progress" });
  const rate = h("span", { class: "hint", "data-testid": "upload-rate" });
  const report = ({ share, speed, secondsLeft }) => {
    bar.value = share * 100;
    rate.textContent = [`${Math.floor(share * 100)}%`,
      speed ? speedText(speed) : null,
      secondsLeft != null && Number.isFinite(secondsLeft) ? `about ${clock(secondsLeft)} left` : null,
    ].filter(Boolean).join(" · ");
  };
  const submit = h("button", { type: "submit" }, "Upload and reframe");
  const verified = me.email_verified;
  // A large upload cut short (a reload, a closed tab) is picked up by choosing the file again.
  const unfinished = unfinishedUpload.get(me.id);
  const resumeNotice = unfinished ? h("div", { class: "card", "data-testid": "unfinished-upload" },
    h("p", {}, `The upload of ${unfinished.name} (${bytes(unfinished.size)}) did not finish. `
      + "Choose the same file to continue where it stopped."),
    h("button", { type: "button", class: "secondary", onclick: async () => {
      unfinishedUpload.clear();
      try { await api("POST", `/api/jobs/${unfinished.job}/upload/abort`); } catch { /* gone already */ }
      newJobPage();
    } }, "Discard it")) : null;
  const finish = async (jobId) => {
    await api("POST", `/api/jobs/${jobId}/confirm`);
    unfinishedUpload.clear();
    location.hash = `#/jobs/${jobId}`;
  };
  const form = h("form", {
    "aria-label": "New job",
    onsubmit: async (event) => {
      event.preventDefault();
      clearFlash();
      const video = file.files[0];
      if (!video) return say("Choose a video first.");
      if (video.size > limits.max_upload_bytes) {
        return say(`${video.name} is ${bytes(video.size)}; your plan takes up to ${bytes(limits.max_upload_bytes)}.`,
          "error", h("a", { href: "#/plan" }, "See plans"));
      }
      await busy(submit, (async () => {
        try {
          if (unfinished && fingerprint(video) === unfinished.file) {
            say(`Continuing the upload of ${video.name}.`, "info");
            if (await resumeSource(unfinished.job, video, report)) return await finish(unfinished.job);
            unfinishedUpload.clear(); // aborted or expired meanwhile: start over
          }
          const seconds = await videoDuration(video);
          if (seconds != null && seconds > limits.max_source_seconds) {
            return say(`${video.name} runs ${clock(seconds)}; your plan takes videos up to ${minutes(limits.max_source_seconds)}.`,
              "error", h("a", { href: "#/plan" }, "See plans"));
          }
          const created = await api("POST", "/api/jobs", {
            filename: video.name,
            content_type: video.type || "video/mp4",
            size_bytes: video.size,
            ...(seconds != null ? { duration_seconds: Math.max(0.001, seconds) } : {}),
            options: { aspect_ratio: aspect.value, resolution: resolution.value },
          });
          await uploadSource(created, video, report, { account: me.id });
          await finish(created.job.id);
        } catch (error) {
          if (!(error instanceof ApiError) && unfinishedUpload.get(me.id)) {
            return say(`The upload stopped (${error.message}). Choose the file again to continue where it stopped.`);
          }
          explain(error);
        }
      })());
    },
  }, h("fieldset", { disabled: !verified },
    h("legend", { class: "visually-hidden" }, "Video and output"),
    field("Video file", file, `Up to ${bytes(limits.max_upload_bytes)} and ${minutes(limits.max_source_seconds)} on your ${usage.plan} plan.`),
    field("Aspect ratio", aspect), field("Output resolution", resolution),
    field("Upload", bar, rate), submit));
  show(title("New job"), unverifiedNotice(), resumeNotice, h("div", { class: "card" }, form),
    h("p", { class: "muted" }, `${usage.jobs_remaining} of ${limits.jobs_per_month} jobs left this month. `,
      h("a", { href: "#/plan" }, "Compare plans")));
}

function stageList(job) {
  const stages = Object.keys(STAGE_WORDS);
  const current = stages.indexOf(job.progress?.stage);
  return h("ol", { class: "stages" }, stages.map((stage, index) => h("li", {
    class: index < current || job.status === "succeeded" ? "done" : index === current ? "now" : "",
    "aria-current": index === current && ACTIVE.has(job.status) ? "step" : false,
  }, STAGE_WORDS[stage])));
}

function liveCard(job) {
  const percent = job.progress?.percent ?? 0;
  const stage = job.progress?.stage;
  const words = job.status === "running" && stage ? STAGE_WORDS[stage] ?? stage
    : job.status === "submitted" ? "Starting a worker" : "Waiting for a free worker";
  return h("section", { class: "card", "aria-labelledby": "live-title", "data-live": "" },
    h("h2", { id: "live-title" }, "Progress"),
    h("p", { class: "stage", "data-testid": "job-stage" }, `${words} — ${percent}%`),
    h("progress", { max: 100, value: percent, "aria-label": "Processing progress", "data-testid": "job-progress" }),
    stageList(job));
}

function failureCard(job) {
  if (!job.error) return null;
  const retry = job.error.retryable
    ? "This was our side: the same video, uploaded again, should work."
    : "The video could not be processed as it is.";
  return h("section", { class: "card failure" }, h("h2", {}, "What went wrong"),
    h("p", {}, job.error.message ?? job.error.code), h("p", {}, retry),
    h("a", { href: "#/new" }, "Upload a video"));
}

async function resultSection(id) {
  const outputs = await api("GET", `/api/jobs/${id}/outputs`);
  const downloads = h("p", { class: "row" },
    h("a", { class: "button", href: outputs.video.url, download: "reframed.mp4" }, "Download video"),
    h("a", { href: outputs.thumbnail.url, target: "_blank", rel: "noopener" }, "Thumbnail"),
    h("a", { href: outputs.manifest.url, target: "_blank", rel: "noopener" }, "Manifest (JSON)"));
  try {
    const manifest = await fetchJson(outputs.manifest.url);
    return [reframeView(outputs, manifest), downloads];
  } catch (error) {
    return [h("section", { class: "card" }, h("h2", {}, "Result"),
      h("video", { controls: true, src: outputs.video.url, "aria-label": "Reframed video", "data-testid": "result-video" }),
      h("p", { class: "muted" }, `The comparison is unavailable: ${error.message}.`)), downloads];
  }
}

// While a job runs, each poll reads only the job and redraws only its progress card (a full
// redraw would steal keyboard focus); the finished job is drawn once, in full.
async function jobPage(id, previous = null) {
  const job = await api("GET", `/api/jobs/${id}`);
  const shown = view.querySelector(`[data-job="${id}"]`);
  if (shown && previous && ACTIVE.has(job.status) && previous === "live") {
    shown.querySelector("[data-live]")?.replaceWith(liveCard(job));
    shown.querySelector("[data-testid=job-status]")?.replaceWith(statusBadge(job.status, { "data-testid": "job-status" }));
  } else {
    await drawJob(job);
  }
  if (!FINAL.has(job.status)) pollTimer = setTimeout(() => keepPolling(() => jobPage(id, "live")), POLL_MS);
}

// A poll that meets the rate limit waits as told and goes on; other failures are shown.
async function keepPolling(poll) {
  try { await poll(); } catch (error) {
    const wait = error instanceof ApiError && error.status === 429 ? Number(error.problem.retry_after) : NaN;
    if (wait > 0) pollTimer = setTimeout(() => keepPolling(poll), wait * 1000);
    else explain(error);
  }
}

async function drawJob(job) {
  const id = job.id;
  const header = [
    title(job.filename),
    h("p", { class: "row" }, statusBadge(job.status, { "data-testid": "job-status" }),
      h("span", { class: "muted" }, `${job.options.aspect_ratio} · ${job.options.resolution} · ${clock(job.duration_seconds)} · created ${when(job.created_at)}`)),
  ];
  const cancel = !FINAL.has(job.status)
    ? h("button", { type: "button", class: "secondary", onclick: async () => {
        try { await api("POST", `/api/jobs/${id}/cancel`); route(); } catch (error) { explain(error); }
      } }, "Cancel job")
    : null;
  const body = [];
  if (ACTIVE.has(job.status)) body.push(liveCard(job));
  if (job.status === "pending_upload") body.push(h("div", { class: "card" }, h("p", {}, "The upload has not finished yet.")));
  body.push(failureCard(job));
  if (job.status === "succeeded") body.push(...await resultSection(id));
  const events = await api("GET", `/api/jobs/${id}/events`);
  const history = h("details", { class: "history" }, h("summary", {}, "History"),
    h("ol", {}, (events.data ?? events).map((e) => h("li", {}, `${when(e.created_at)} — ${e.to_status.replaceAll("_", " ")}`))));
  show(h("div", { "data-job": id }, header, body, h("div", { class: "row" }, cancel), history));
}

// ---------- plans ----------
function included(yes) {
  return yes ? "Included" : [h("span", { "aria-hidden": "true" }, "—"), h("span", { class: "visually-hidden" }, "Not included")];
}

function shortLength(seconds) {
  return seconds >= 3600 ? `${seconds / 3600} hours` : `${seconds / 60} min`;
}

const PLAN_ROWS = [
  ["Upload size", (l) => bytes(l.max_upload_bytes)],
  ["Video length", (l) => shortLength(l.max_source_seconds)],
  ["Jobs a month", (l) => l.jobs_per_month.toLocaleString()],
  ["Jobs at once", (l) => String(l.concurrent_jobs)],
  ["Resolutions", (l) => `up to ${l.max_resolution === "2160p" ? "4K" : l.max_resolution}`],
  ["Aspect ratios", (l) => ["9:16", "1:1", "4:5"].filter((a) => l.aspect_ratios.includes(a)).join(" ")],
  ["API keys", (l) => included(l.features.includes("api_keys"))],
  ["Webhooks", (l) => included(l.features.includes("webhooks"))],
  ["Priority queue", (l) => included(l.features.includes("priority_queue"))],
];

function capitalised(name) { return name.charAt(0).toUpperCase() + name.slice(1); }

function billingButton(label, path, body, kind = "", visible = label) {
  const button = h("button", { type: "button", class: kind, "aria-label": visible === label ? null : label, onclick: async () => {
    clearFlash();
    await busy(button, (async () => {
      try { const { url } = await api("POST", path, body); location.href = url; } catch (error) { explain(error); }
    })());
  } }, visible);
  return button;
}

function comparison(plans, current, subscribed) {
  const currentRank = plans.find((p) => p.name === current)?.rank ?? 0;
  const head = h("tr", {}, h("td", {}), plans.map((p) => h("th", {
    scope: "col", class: p.name === current ? "current" : "",
  }, capitalised(p.name), p.name === current ? h("span", { class: "badge mine" }, "Your plan") : null)));
  const rows = PLAN_ROWS.map(([label, cell]) => h("tr", {},
    h("th", { scope: "row" }, label),
    plans.map((p) => h("td", { class: p.name === current ? "current" : "" }, cell(p.limits)))));
  const actions = h("tr", {}, h("td", {}), plans.map((p) => h("td", { class: p.name === current ? "current" : "" },
    subscribed  // a subscriber changes plan in the payment provider's portal
      ? (p.name === current ? billingButton("Manage", "/api/billing/portal", undefined, "secondary")
        : billingButton(`Switch to ${capitalised(p.name)}`, "/api/billing/portal", undefined, "secondary", "Switch"))
      : p.rank > currentRank ? billingButton(`Upgrade to ${capitalised(p.name)}`, "/api/billing/checkout", { plan: p.name }, "", "Upgrade") : null)));
  return h("div", { class: "table-scroll" }, h("table", { class: "plans", "data-testid": "plans" },
    h("caption", { class: "visually-hidden" }, "What each plan includes"),
    h("thead", {}, head), h("tbody", {}, rows, actions)));
}

async function planPage(query) {
  const { plans, usage } = await plansAndUsage();
  let subscription = null;
  try { subscription = await api("GET", "/api/billing/subscription"); } catch { /* billing off */ }
  const subscribed = Boolean(subscription?.subscribed_plan);
  const used = usage.jobs / usage.limits.jobs_per_month;
  show(
    title("Plan & usage"),
    h("section", { class: "card", "aria-labelledby": "usage-title" },
      h("h2", { id: "usage-title" }, "This month"),
      h("p", {}, "You are on the ", h("strong", { "data-testid": "plan" }, usage.plan), " plan",
        subscription?.cancel_at_period_end ? ` until ${when(subscription.current_period_end)}` : "", "."),
      h("p", {}, `Jobs this period: ${usage.jobs} of ${usage.limits.jobs_per_month.toLocaleString()}`),
      h("meter", { min: 0, max: 1, value: used, "aria-label": "Jobs used this month" }),
      h("p", { class: "muted" }, `${usage.source_minutes} source minutes processed · ${usage.active_jobs} running now · resets ${when(usage.resets_at)}`),
      subscribed ? h("div", { class: "row" }, billingButton("Manage subscription", "/api/billing/portal")) : null),
    h("h2", {}, "Compare plans"),
    comparison(plans, usage.plan, subscribed),
  );
  if (query.get("checkout") === "success") {
    say(usage.plan === "free" ? "Payment received: your plan changes as soon as the payment provider confirms it." : `Payment received: you are on ${capitalised(usage.plan)}.`, "info");
  } else if (query.get("checkout") === "canceled") {
    say("Checkout canceled: nothing was charged.", "info");
  }
}

// ---------- API keys ----------
async function planAllows(feature) {
  const usage = await api("GET", "/api/usage");
  return { allowed: usage.limits.features.includes(feature), plan: usage.plan };
}

function upsell(what) {
  return h("div", { class: "card upsell" }, h("p", {}, `${what} come with the Pro plan.`),
    h("a", { class: "button", href: "#/plan" }, "Compare plans"));
}

// What a key may do, as the API names it; the first three are what a new key gets unless
// its creator chooses otherwise.
const SCOPES = [
  ["jobs:read", "Read jobs", "See jobs, their progress and history, and download results.", true],
  ["jobs:write", "Create and cancel jobs", "Start reframes, upload videos and cancel jobs.", true],
  ["usage:read", "Read usage", "See the plan, its limits and this month's usage.", true],
  ["webhooks:read", "Read webhooks", "See webhook endpoints and the delivery log.", false],
  ["webhooks:write", "Manage webhooks", "Add, test, disable and delete endpoints, rotate their secrets and redeliver events. Includes reading them.", false],
];

function scopeChoice() {
  const boxes = SCOPES.map(([scope, label, hint, chosen]) => {
    const id = `scope-${scope.replace(":", "-")}`;
    const box = h("input", { type: "checkbox", id, name: "scopes", value: scope, checked: chosen, "aria-describedby": `${id}-hint` });
    return { box, element: h("div", { class: "choice" }, box, h("label", { for: id }, label),
      h("span", { class: "hint", id: `${id}-hint` }, h("code", {}, scope), ` — ${hint}`)) };
  });
  return {
    element: h("fieldset", { class: "scopes" },
      h("legend", {}, "What the key may do"),
      boxes.map((b) => b.element),
      h("p", { class: "hint" }, "No key can create keys, change billing or your account: that takes you, signed in.")),
    chosen: () => boxes.filter((b) => b.box.checked).map((b) => b.box.value),
  };
}

function scopeWords(scopes) {
  if (!scopes.length) return "nothing";
  return scopes.map((scope) => SCOPES.find(([name]) => name === scope)?.[1] ?? scope).join(", ");
}

async function keysPage() {
  const [{ allowed }, keys] = await Promise.all([planAllows("api_keys"), api("GET", "/api/api-keys")]);
  const name = h("input", { name: "name", required: true, maxlength: 100 });
  const scopes = scopeChoice();
  const submit = h("button", { type: "submit" }, "Create key");
  const form = h("form", { "aria-label": "New API key", onsubmit: async (event) => {
    event.preventDefault();
    clearFlash();
    const chosen = scopes.chosen();
    if (!chosen.length) return say("Choose at least one thing the key may do.");
    await busy(submit, (async () => {
      try {
        const created = await api("POST", "/api/api-keys", { name: name.value, scopes: chosen });
        await keysPage();
        view.querySelector("h1").after(h("div", { class: "card secret-card" }, h("p", {}, "Copy this key now; it is shown only once:"),
          h("p", { class: "secret", "data-testid": "new-secret" }, created.key)));
      } catch (error) { explain(error); }
    })());
  } }, field("Key name", name), scopes.element, submit);
  const list = (keys.data ?? keys).map((key) => h("li", { class: "card item" },
    h("div", {}, h("strong", {}, key.name), h("span", { class: "muted mono" }, ` ${key.prefix}…`)),
    h("dl", { class: "job-facts key-facts" },
      key.scopes ? h("div", {}, h("dt", {}, "Can"), h("dd", { title: key.scopes.join(" ") }, scopeWords(key.scopes),
        h("span", { class: "muted mono scope-names" }, ` (${key.scopes.join(", ")})`))) : null,
      h("div", {}, h("dt", {}, "Created"), h("dd", {}, when(key.created_at))),
      h("div", {}, h("dt", {}, "Last used"), h("dd", {},
        key.last_used_at ? h("time", { datetime: key.last_used_at, title: when(key.last_used_at) }, ago(key.last_used_at)) : "never"))),
    h("button", { type: "button", class: "danger", "aria-label": `Revoke ${key.name}`, onclick: async () => {
      try { await api("DELETE", `/api/api-keys/${key.id}`); await keysPage(); } catch (error) { explain(error); }
    } }, "Revoke")));
  show(title("API keys"),
    h("p", { class: "muted" }, "Keys let your servers create jobs with the REST API (", h("a", { href: "/docs" }, "API docs"), ")."),
    allowed ? h("div", { class: "card" }, form) : upsell("API keys"),
    list.length ? h("ul", { class: "items", "aria-label": "Your API keys" }, list) : h("p", { class: "muted" }, "No keys yet."));
}

// ---------- webhooks ----------
const EVENTS = ["job.queued", "job.started", "job.succeeded", "job.failed", "job.canceled"];

function attemptsTable(delivery) {
  return h("table", { class: "attempts" },
    h("caption", { class: "visually-hidden" }, "Attempts"),
    h("thead", {}, h("tr", {}, ["#", "When", "Outcome", "HTTP", "Time"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, delivery.attempts.map((a) => h("tr", {},
      h("td", {}, a.number), h("td", {}, when(a.attempted_at)),
      h("td", {}, a.outcome.replaceAll("_", " "), a.error ? h("span", { class: "muted" }, ` — ${a.error}`) : null),
      h("td", {}, a.status_code ?? "—"), h("td", {}, a.latency_ms != null ? `${a.latency_ms} ms` : "—")))));
}

function deliveryItem(delivery, endpoints, watch) {
  const url = endpoints.find((e) => e.id === delivery.endpoint_id)?.url ?? "";
  return h("li", { class: "card item" },
    h("div", { class: "row spread" }, h("strong", {}, delivery.event_type),
      h("span", { class: `badge delivery-${delivery.status}` }, delivery.status)),
    h("p", { class: "muted" }, `${url} · ${when(delivery.created_at)} · ${delivery.attempt_count} attempt${delivery.attempt_count === 1 ? "" : "s"}`,
      delivery.next_attempt_at ? ` · next try ${when(delivery.next_attempt_at)}` : ""),
    delivery.attempts.length
      ? h("details", { "data-delivery": delivery.id }, h("summary", {}, "Attempts"), attemptsTable(delivery)) : null,
    delivery.status === "pending" ? null : h("button", { type: "button", class: "secondary", onclick: async () => {
      try { await api("POST", `/api/webhooks/deliveries/${delivery.id}/redeliver`); say("Queued to be sent again.", "info"); watch(); }
      catch (error) { explain(error); }
    } }, "Redeliver"));
}

function endpointItem(endpoint, watch) {
  const action = (label, method, path, body, after) => h("button", { type: "button", class: "secondary", onclick: async () => {
    clearFlash();
    try { after(await api(method, path, body)); } catch (error) { explain(error); }
  } }, label);
  const base = `/api/webhooks/endpoints/${endpoint.id}`;
  return h("li", { class: "card item" },
    h("div", { class: "row spread" }, h("strong", { class: "mono" }, endpoint.url),
      h("span", { class: `badge ${endpoint.enabled ? "delivery-delivered" : "delivery-failed"}` }, endpoint.enabled ? "enabled" : "disabled")),
    h("p", { class: "muted" }, endpoint.events.join(", "),
      endpoint.secret_rotated_at ? ` · secret rotated ${when(endpoint.secret_rotated_at)}` : "",
      endpoint.disabled_reason ? ` · ${endpoint.disabled_reason}` : ""),
    h("div", { class: "row" },
      action("Send test", "POST", `${base}/test`, undefined, () => { say("Test event sent.", "info"); watch(); }),
      action("Rotate secret", "POST", `${base}/rotate-secret`, undefined, async (rotated) => {
        await webhooksPage();
        view.querySelector("h1").after(h("div", { class: "card secret-card" },
          h("p", {}, `New signing secret, shown only once. The old one keeps working until ${when(rotated.previous_secret_expires_at)}:`),
          h("p", { class: "secret", "data-testid": "new-secret" }, rotated.secret)));
      }),
      action(endpoint.enabled ? "Disable" : "Enable", "PATCH", base, { enabled: !endpoint.enabled }, () => webhooksPage()),
      h("button", { type: "button", class: "danger", "aria-label": `Delete ${endpoint.url}`, onclick: async () => {
        try { await api("DELETE", base); await webhooksPage(); } catch (error) { explain(error); }
      } }, "Delete")));
}

// The delivery log refreshes itself while something is on its way, in place (a redraw of the
// page would lose a secret shown once, and the keyboard focus).
const LOG_POLL_MS = 3000;
const LOG_POLL_ROUNDS = 20;

function deliveryLog(endpoints) {
  const block = h("div", { "data-testid": "delivery-log" });
  let rounds = 0;
  const refresh = async () => {
    const deliveries = (await api("GET", "/api/webhooks/deliveries")).data ?? [];
    const open = new Set([...block.querySelectorAll("details[open]")].map((d) => d.dataset.delivery));
    block.replaceChildren(deliveries.length
      ? h("ul", { class: "items", "aria-label": "Deliveries, newest first" }, deliveries.map((d) => deliveryItem(d, endpoints, watch)))
      : h("p", { class: "muted" }, "Nothing delivered yet."));
    for (const details of block.querySelectorAll("details")) details.open = open.has(details.dataset.delivery);
    return deliveries;
  };
  const poll = async () => {
    if (!block.isConnected || rounds <= 0) return;
    rounds -= 1;
    const deliveries = await refresh().catch(() => []);
    const waiting = deliveries.some((d) => d.status === "pending");
    if (waiting || rounds > LOG_POLL_ROUNDS - 4) pollTimer = setTimeout(poll, LOG_POLL_MS);
  };
  function watch() { rounds = LOG_POLL_ROUNDS; clearTimeout(pollTimer); pollTimer = setTimeout(poll, LOG_POLL_MS / 2); }
  return { block, refresh, watch };
}

async function webhooksPage() {
  const { allowed } = await planAllows("webhooks");
  const endpoints = allowed ? (await api("GET", "/api/webhooks/endpoints")).data ?? [] : [];
  const log = deliveryLog(endpoints);
  if (allowed) await log.refresh();
  const url = h("input", { type: "url", name: "url", required: true, placeholder: "https://example.com/hooks" });
  const submit = h("button", { type: "submit" }, "Add endpoint");
  const form = h("form", { "aria-label": "New webhook endpoint", onsubmit: async (event) => {
    event.preventDefault();
    clearFlash();
    await busy(submit, (async () => {
      try {
        const created = await api("POST", "/api/webhooks/endpoints", { url: url.value, events: EVENTS });
        await webhooksPage();
        view.querySelector("h1").after(h("div", { class: "card secret-card" }, h("p", {}, "Signing secret, shown only once:"),
          h("p", { class: "secret", "data-testid": "new-secret" }, created.secret)));
      } catch (error) { explain(error); }
    })());
  } }, field("Endpoint URL", url, "We POST job events here, signed with the endpoint's secret."), submit);
  show(title("Webhooks"),
    allowed ? h("div", { class: "card" }, form) : upsell("Webhooks"),
    allowed ? [
      h("h2", {}, "Endpoints"),
      endpoints.length ? h("ul", { class: "items", "aria-label": "Endpoints" }, endpoints.map((e) => endpointItem(e, log.watch)))
        : h("p", { class: "muted" }, "No endpoints yet."),
      h("h2", {}, "Delivery log"),
      log.block,
    ] : null);
  if (allowed) log.watch();
}

// ---------- routing ----------
const PUBLIC = new Set(["#/login", "#/signup"]);

async function route() {
  clearTimeout(pollTimer);
  const [hash, queryString] = (location.hash || "#/jobs").split("?");
  const query = new URLSearchParams(queryString ?? "");
  const signedIn = Boolean(session.access);
  nav.hidden = !signedIn;
  for (const link of nav.querySelectorAll("a")) {
    const here = hash === link.getAttribute("href") || (link.getAttribute("href") === "#/jobs" && hash.startsWith("#/jobs/"));
    if (here) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  if (!signedIn && !PUBLIC.has(hash)) return authPage(hash === "#/signup" ? "signup" : "login");
  try {
    if (hash === "#/signup") return authPage("signup");
    if (hash === "#/login") return authPage("login");
    if (hash === "#/check-email") return await checkEmailPage();
    if (hash === "#/new") return await newJobPage();
    if (hash.startsWith("#/jobs/")) return await jobPage(hash.slice("#/jobs/".length));
    if (hash === "#/keys") return await keysPage();
    if (hash === "#/webhooks") return await webhooksPage();
    if (hash === "#/plan" || hash === "#/billing") return await planPage(query);
    return await jobsPage();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) { session.clear(); nav.hidden = true; return authPage("login"); }
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
// The skip link moves focus to the page's heading (an anchor would change the route).
document.querySelector(".skip").addEventListener("click", (event) => {
  event.preventDefault();
  view.querySelector("h1")?.focus();
});
