/* The server's clock as seen from here (message expiry and mute ends are server times). */

const skewSamples = []; // server clock minus local clock
let clockSkew = 0;

export function serverNow() {
  return Date.now() + clockSkew;
}

/* Learn from a server timestamp that was just made (a new message's ts). */
export function noteServerTime(ts) {
  if (typeof ts !== "number") return;
  skewSamples.push(ts - Date.now());
  if (skewSamples.length > 10) skewSamples.shift();
  // Network delay only ever makes a sample too small, so the largest is the best estimate.
  const best = Math.max(...skewSamples);
  clockSkew = Math.abs(best) < 1500 ? 0 : best;
}
