// Attention time per annotator per trajectory: the human cost the paper never reports.
// Only seconds in which the trajectory is on screen in a focused tab count.
import { api } from "./api.js";

const PERIOD_SECONDS = 15;

/** Sends a heartbeat every 15 s while the trajectory is actually being looked at. */
export function trackAttention(trajectoryId) {
  const timer = setInterval(() => {
    if (document.visibilityState !== "visible" || !document.hasFocus()) return;
    // A lost beat under-counts 15 s; not worth interrupting the annotator for.
    api.attention(trajectoryId, PERIOD_SECONDS).catch(() => {});
  }, PERIOD_SECONDS * 1000);
  return { stop: () => clearInterval(timer) };
}
