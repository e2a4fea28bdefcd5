// Building DOM without innerHTML (the CSP allows no inline script or style), and the few
// formats every page shares: sizes, durations, dates, and the words for statuses and stages.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else if (value !== false && value != null) el.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child != null && child !== false) el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function field(label, input, hint = null) {
  return h("label", {}, h("span", {}, label), input, hint ? h("span", { class: "hint" }, hint) : null);
}

export function when(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const UNITS = [[3600, "minute", 60], [86400, "hour", 3600], [86400 * 30, "day", 86400]];

// "just now", "5 minutes ago", "yesterday"; older than a month, the date.
export function ago(iso, now = Date.now()) {
  if (!iso) return "never";
  const seconds = (now - new Date(iso).getTime()) / 1000;
  if (seconds < 60) return "just now";
  for (const [below, unit, size] of UNITS) {
    if (seconds < below) return RELATIVE.format(-Math.floor(seconds / size), unit);
  }
  return `on ${when(iso)}`;
}

export function clock(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return "—";
  const whole = Math.round(seconds);
  const m = Math.floor(whole / 60);
  const s = String(whole % 60).padStart(2, "0");
  return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

export function bytes(n) {
  const gib = 1024 ** 3;
  const mib = 1024 ** 2;
  return n >= gib ? `${+(n / gib).toFixed(1)} GB` : `${Math.round(n / mib)} MB`;
}

export function minutes(seconds) {
  if (seconds >= 3600) return `${seconds / 3600} hours`;
  return seconds === 60 ? "1 minute" : `${seconds / 60} minutes`;
}

export function percent(share) { return `${Math.round(share * 100)}%`; }

export const STATUS_WORDS = {
  pending_upload: "Waiting for upload",
  queued: "Queued",
  submitted: "Starting",
  running: "Processing",
  succeeded: "Ready",
  failed: "Failed",
  canceled: "Canceled",
  expired: "Upload expired",
};

export const STAGE_WORDS = {
  probe: "Reading the video",
  decode: "Decoding frames",
  shots: "Finding the shots",
  faces: "Looking for faces",
  saliency: "Finding what stands out",
  tracking: "Following the subject",
  camera: "Planning the camera",
  render: "Rendering the new video",
  outputs: "Saving the result",
};

export const FINAL = new Set(["succeeded", "failed", "canceled", "expired"]);
export const ACTIVE = new Set(["queued", "submitted", "running"]);

export function statusBadge(status, attrs = {}) {
  return h("span", { class: `badge status-${status}`, ...attrs }, STATUS_WORDS[status] ?? status);
}

export function title(text) {
  // The page's heading takes focus on every view change, for screen readers and keyboards.
  return h("h1", { tabindex: "-1" }, text);
}
