// The current time as RFC 3339 with milliseconds, for stamping events.
// `Date#toISOString` costs about a microsecond; the part up to the second
// changes once a second, so it is kept and only the milliseconds are added.

let cachedSecond = -1;
let prefix = "";

export function isoNow(): string {
  const ms = Date.now();
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    prefix = new Date(second * 1000).toISOString().slice(0, 20); // "2026-11-22T10:00:00."
  }
  const frac = ms - second * 1000;
  return `${prefix}${frac < 10 ? "00" : frac < 100 ? "0" : ""}${frac}Z`;
}
