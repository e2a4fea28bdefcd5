// What the reframe did, as pictures: the source and the result side by side and in sync, the
// crop window drawn over the source from the manifest's crop path, the shots and their camera
// modes on a timeline, and the manifest's quality figures in plain words.

import { clock, h, percent } from "./dom.js";

const MODE_WORDS = {
  steady: "Steady camera",
  panning: "Panning",
  tracking: "Following the subject",
};
const DRIFT_SECONDS = 0.12;

function cropAt(path, seconds) {
  const last = path.x.length - 1;
  const frame = Math.min(last, Math.max(0, Math.floor(seconds * path.fps)));
  return { x: path.x[frame], y: path.y[frame] };
}

// The result leads (it has the controls and the sound); the source follows it.
function syncPlayers(result, source, onTime) {
  const follow = () => {
    if (Math.abs(source.currentTime - result.currentTime) > DRIFT_SECONDS) {
      source.currentTime = result.currentTime;
    }
  };
  result.addEventListener("play", () => { follow(); source.play().catch(() => {}); });
  result.addEventListener("pause", () => { source.pause(); follow(); });
  result.addEventListener("seeking", follow);
  result.addEventListener("ratechange", () => { source.playbackRate = result.playbackRate; });
  result.addEventListener("timeupdate", follow);
  let frame = null;
  const tick = () => {
    onTime(result.currentTime);
    frame = result.paused ? null : requestAnimationFrame(tick);
  };
  const start = () => { if (frame == null) frame = requestAnimationFrame(tick); };
  result.addEventListener("play", start);
  result.addEventListener("seeked", () => onTime(result.currentTime));
  result.addEventListener("loadedmetadata", () => onTime(result.currentTime));
}

function timeline(shots, duration, seek) {
  const playhead = h("div", { class: "playhead", "aria-hidden": "true" });
  const segments = shots.map((shot, index) => {
    const span = Math.max(0, shot.end_seconds - shot.start_seconds);
    const segment = h("button", {
      type: "button",
      class: `shot mode-${shot.camera_mode}`,
      "aria-label": `Shot ${index + 1}: ${clock(shot.start_seconds)} to ${clock(shot.end_seconds)}, `
        + `${(MODE_WORDS[shot.camera_mode] ?? shot.camera_mode).toLowerCase()}. Play from here.`,
      title: `${MODE_WORDS[shot.camera_mode] ?? shot.camera_mode} · ${clock(shot.start_seconds)}–${clock(shot.end_seconds)}`,
      onclick: () => seek(shot.start_seconds),
    }, h("span", {}, `${index + 1}`));
    segment.style.flexGrow = String(span || 0.01);
    return segment;
  });
  const modes = [...new Set(shots.map((s) => s.camera_mode))];
  const legend = h("ul", { class: "legend" }, modes.map((mode) =>
    h("li", {}, h("span", { class: `swatch mode-${mode}`, "aria-hidden": "true" }), MODE_WORDS[mode] ?? mode)));
  return {
    element: h("div", { class: "timeline-block" },
      h("div", { class: "timeline", role: "group", "aria-label": "Shots, in order" }, segments, playhead),
      legend),
    move(seconds) { playhead.style.left = `${Math.min(100, (seconds / duration) * 100)}%`; },
  };
}

// One play button and one position slider for both videos (the result's own controls are
// small on a phone).
function controls(result, duration, seek) {
  const play = h("button", { type: "button", class: "secondary" }, "Play both");
  const position = h("input", {
    type: "range", min: 0, max: duration, step: 0.04, value: 0, "aria-label": "Position in both videos",
  });
  const time = h("output", { "aria-live": "off" }, `0:00 / ${clock(duration)}`);
  play.addEventListener("click", () => (result.paused ? result.play() : result.pause()));
  result.addEventListener("play", () => { play.textContent = "Pause"; });
  result.addEventListener("pause", () => { play.textContent = "Play both"; });
  position.addEventListener("input", () => seek(Number(position.value)));
  return {
    element: h("div", { class: "player" }, play, position, time),
    move(seconds) {
      position.value = String(seconds);
      time.textContent = `${clock(seconds)} / ${clock(duration)}`;
    },
  };
}

function smoothness(jitter) {
  if (jitter == null) return null;
  if (jitter < 0.1) return "steady as a tripod";
  if (jitter < 0.5) return "smooth";
  if (jitter < 1.5) return "a little lively";
  return "shaky";
}

function sentence(text) { return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`; }

// The subject's figures from the pipeline's quality block when it has one (metrics.quality),
// else from the older flat metrics.
function subjectFigures(m) {
  const q = m.quality ?? {};
  const retention = "subject_retention" in q ? q.subject_retention : m.subject_retention;
  const frames = q.subject_frames ?? m.subject_frames;
  return {
    retention,
    found: retention != null && frames !== 0,
    low: q.low_retention === true,
    warnings: Array.isArray(q.warnings) ? q.warnings.filter((w) => typeof w === "string") : [],
  };
}

function subjectWords(m, subject) {
  if (!subject.found) {
    return "No face or moving subject was found, so the camera held the centre of the picture.";
  }
  const baseline = m.centre_crop_retention != null
    ? ` A plain centre crop would have kept it ${percent(m.centre_crop_retention)} of the time.` : "";
  return `The subject stays fully in the picture ${percent(subject.retention)} of the time.${baseline}`;
}

// A result the pipeline itself doubts says so in plain text above the figures.
function warningNotice(subject) {
  if (!subject.found || !(subject.low || subject.warnings.length)) return null;
  const texts = subject.warnings.length ? subject.warnings
    : ["the subject is often outside the picture"];
  return h("div", { class: "notice", role: "note", "data-testid": "quality-warning" },
    h("p", {}, h("strong", {}, subject.low ? "Check this result." : "Worth knowing.")),
    texts.map((text) => h("p", {}, sentence(text))));
}

function qualityWords(manifest) {
  const m = manifest.metrics ?? {};
  const input = manifest.input ?? {};
  const out = manifest.output ?? {};
  const subject = subjectFigures(m);
  const lines = [["Subject in frame", subjectWords(m, subject)]];
  const shots = manifest.shots ?? [];
  if (shots.length) {
    const counts = {};
    for (const s of shots) counts[s.camera_mode] = (counts[s.camera_mode] ?? 0) + 1;
    const how = Object.entries(counts).map(([mode, n]) => `${n} ${(MODE_WORDS[mode] ?? mode).toLowerCase()}`).join(", ");
    lines.push(["Shots", `${shots.length} shot${shots.length === 1 ? "" : "s"}, each framed on its own (${how}).`]);
  }
  const smooth = smoothness(m.jitter);
  if (smooth) lines.push(["Camera movement", `The virtual camera is ${smooth}.`]);
  if (m.width && m.height) {
    const scaled = m.upscale && m.upscale > 1.01
      ? ` The ${m.crop?.width}×${m.crop?.height} crop is enlarged ${m.upscale.toFixed(1)}×`
        + (m.upscale > 2 ? ", so fine detail may look soft." : ".")
      : " No enlargement was needed: full sharpness.";
    lines.push(["Picture", `${m.width}×${m.height} (${out.aspect_ratio ?? "?"}) from a ${input.width}×${input.height} source.${scaled}`]);
  }
  if (m.wall_seconds != null) {
    lines.push(["Processing time", `${m.wall_seconds.toFixed(1)} seconds for ${clock(m.duration_seconds ?? input.duration_seconds)} of video.`]);
  }
  return [warningNotice(subject), h("dl", { class: "facts", "data-testid": "quality" },
    lines.map(([term, text]) => [h("dt", {}, term), h("dd", { "data-testid": term === "Subject in frame" ? "subject-in-frame" : null }, text)]))];
}

export function reframeView(outputs, manifest) {
  const input = manifest.input ?? {};
  const path = manifest.crop_path;
  const width = input.width || path?.width || 16;
  const height = input.height || path?.height || 9;
  const outWidth = manifest.metrics?.width ?? path?.width ?? 9;
  const outHeight = manifest.metrics?.height ?? path?.height ?? 16;
  const duration = manifest.metrics?.duration_seconds ?? input.duration_seconds ?? 1;

  const source = h("video", {
    src: outputs.source.url, muted: true, playsinline: true, preload: "auto",
    "aria-label": "Original video, with the crop window", "data-testid": "source-video",
  });
  source.muted = true;
  const crop = h("div", { class: "crop", "data-testid": "crop-window", "aria-hidden": "true" });
  // What the crop leaves out is shaded: four panels around the window.
  const shades = ["top", "bottom", "left", "right"].map(() => h("div", { class: "shade", "aria-hidden": "true" }));
  const sourceFrame = h("div", { class: "frame" }, source, shades, crop);
  sourceFrame.style.aspectRatio = `${width} / ${height}`;
  const result = h("video", {
    src: outputs.video.url, controls: true, playsinline: true, preload: "auto",
    "aria-label": "Reframed video", "data-testid": "result-video",
  });
  const resultFrame = h("div", { class: "frame" }, result);
  resultFrame.style.aspectRatio = `${outWidth} / ${outHeight}`;

  const placeCrop = (seconds) => {
    if (!path) return;
    const at = cropAt(path, seconds);
    const left = (at.x / width) * 100;
    const top = (at.y / height) * 100;
    const w = (path.width / width) * 100;
    const ht = (path.height / height) * 100;
    Object.assign(crop.style, { left: `${left}%`, top: `${top}%`, width: `${w}%`, height: `${ht}%` });
    const [above, below, before, after] = shades;
    Object.assign(above.style, { left: "0", top: "0", width: "100%", height: `${top}%` });
    Object.assign(below.style, { left: "0", top: `${top + ht}%`, width: "100%", height: `${Math.max(0, 100 - top - ht)}%` });
    Object.assign(before.style, { left: "0", top: `${top}%`, width: `${left}%`, height: `${ht}%` });
    Object.assign(after.style, { left: `${left + w}%`, top: `${top}%`, width: `${Math.max(0, 100 - left - w)}%`, height: `${ht}%` });
  };
  const seek = (seconds) => { result.currentTime = seconds; source.currentTime = seconds; placeCrop(seconds); };
  const line = timeline(manifest.shots ?? [], duration, seek);
  const bar = controls(result, duration, seek);
  syncPlayers(result, source, (seconds) => { placeCrop(seconds); line.move(seconds); bar.move(seconds); });
  placeCrop(0);

  const compare = h("div", { class: "compare" },
    h("figure", {}, sourceFrame, h("figcaption", {}, "Original — the box is what the result shows")),
    h("figure", {}, resultFrame, h("figcaption", {}, `Reframed ${manifest.output?.aspect_ratio ?? ""}`)));
  // Equal heights: each column as wide as its picture's shape.
  compare.style.gridTemplateColumns = `minmax(0, ${width / height}fr) minmax(0, ${outWidth / outHeight}fr)`;
  return h("section", { class: "card", "aria-labelledby": "reframe-title" },
    h("h2", { id: "reframe-title" }, "Before and after"),
    h("p", { class: "muted" }, "Play the result: the original follows it, with the crop window drawn on it."),
    compare,
    bar.element,
    h("h3", {}, "Shots and camera"),
    line.element,
    h("h3", {}, "How well it worked"),
    qualityWords(manifest));
}
