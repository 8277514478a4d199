// Wording shared by the views. Money stays the decimal string the service sent:
// the console never does arithmetic on amounts.

export function money(value) {
  if (!value) return "none";
  return `${value.amount} ${value.currency}`;
}

export function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}

/** 0.027 -> "2.7%" (rates, not money). */
export function rate(value) {
  if (value === null || value === undefined) return "n/a";
  return `${Math.round(value * 10000) / 100}%`;
}

/** A signed difference as the service wrote it: "383.06" -> "+383.06". */
export function signed(text) {
  const value = String(text);
  if (value.startsWith("-")) return `−${value.slice(1)}`;
  return /[1-9]/.test(value) ? `+${value}` : value;
}

export function signedPercent(value) {
  if (value === null || value === undefined) return "n/a";
  if (value > 0) return `+${value}%`;
  if (value < 0) return `−${-value}%`;
  return "0%";
}

export function words(slug) {
  return String(slug).replaceAll("_", " ");
}

export function capitalised(text) {
  const value = String(text);
  return value.charAt(0).toUpperCase() + value.slice(1);
}

export function shortDigest(digest) {
  return digest && digest.length > 19 ? `${digest.slice(0, 19)}…` : digest;
}

/** An ISO timestamp as "2026-11-23 07:15:42 UTC". */
export function utc(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** The same, plus the reader's local time. */
export function when(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return `${utc(iso)} (${date.toLocaleString()} your time)`;
}

const FROM = { agent: "the agent", supervisor: "a supervisor", manager: "a manager" };

/** The apology as a sentence: "A sincere apology from the agent, with an explanation." */
export function apologyLine(apology) {
  if (!apology || apology.level === "none") {
    return apology && apology.explanation ? "No apology, but an explanation of what went wrong." : "No apology.";
  }
  const from = FROM[apology.from] || apology.from;
  const explanation = apology.explanation ? "with an explanation of what went wrong" : "without an explanation";
  return `A ${apology.level} apology from ${from}, ${explanation}.`;
}

export function levelName(level) {
  return FROM[level] || level;
}
