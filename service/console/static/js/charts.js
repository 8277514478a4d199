// Small SVG bar charts built with DOM calls (no library, no inline style, so the
// page's Content-Security-Policy holds). Values are numbers for the geometry only;
// the labels show the service's exact decimal strings.

import { h, s } from "./dom.js";

const WIDTH = 720;
const LABEL = 170;
const VALUE = 120;
const BAR = 14;
const GAP = 10;
const PLOT = WIDTH - LABEL - VALUE;

let counter = 0;

function frame(title, height, legend) {
  counter += 1;
  const titleId = `chart-title-${counter}`;
  const svg = s("svg", { viewBox: `0 0 ${WIDTH} ${height}`, role: "img", "aria-labelledby": titleId,
                         class: "chart", preserveAspectRatio: "xMinYMin meet" },
    s("title", { id: titleId }, title));
  return [svg, h("figure", { class: "chart-figure" }, h("figcaption", {}, title, legend), svg)];
}

function legendOf(series) {
  return h("span", { class: "legend" }, series.map((entry, index) =>
    h("span", { class: "legend-item" }, h("span", { class: `swatch series-${index}`, "aria-hidden": "true" }),
      entry.name)));
}

/**
 * Horizontal grouped bars: one group per label, one bar per series.
 * series: [{name, values: [number], texts: [string]}]
 */
export function groupedBars(title, labels, series) {
  const groupHeight = series.length * BAR + GAP;
  const height = labels.length * groupHeight + GAP;
  const max = Math.max(0, ...series.flatMap((entry) => entry.values.map((value) => Math.abs(value))));
  const [svg, figure] = frame(title, height, legendOf(series));
  labels.forEach((label, row) => {
    const top = GAP / 2 + row * groupHeight;
    svg.append(s("text", { x: LABEL - 8, y: top + (series.length * BAR) / 2 + 4, class: "chart-label",
                           "text-anchor": "end" }, label));
    series.forEach((entry, index) => {
      const width = max > 0 ? (Math.abs(entry.values[row]) / max) * PLOT : 0;
      const y = top + index * BAR;
      svg.append(s("rect", { x: LABEL, y: y + 1, width: Math.max(width, 0.5), height: BAR - 2,
                             class: `bar series-${index}` },
        s("title", {}, `${label}, ${entry.name}: ${entry.texts[row]}`)));
      svg.append(s("text", { x: LABEL + width + 6, y: y + BAR - 3, class: "chart-value" }, entry.texts[row]));
    });
  });
  return figure;
}

/** Horizontal bars around zero: increases to the right, decreases to the left. */
export function divergingBars(title, labels, values, texts) {
  const rowHeight = BAR + GAP;
  const height = labels.length * rowHeight + GAP;
  const max = Math.max(0, ...values.map((value) => Math.abs(value)));
  const half = PLOT / 2;
  const zero = LABEL + half;
  const [svg, figure] = frame(title, height,
    h("span", { class: "legend" },
      h("span", { class: "legend-item" }, h("span", { class: "swatch up", "aria-hidden": "true" }), "costs more"),
      h("span", { class: "legend-item" }, h("span", { class: "swatch down", "aria-hidden": "true" }), "costs less")));
  svg.append(s("line", { x1: zero, x2: zero, y1: 0, y2: height, class: "axis" }));
  labels.forEach((label, row) => {
    const y = GAP / 2 + row * rowHeight;
    const value = values[row];
    const width = max > 0 ? (Math.abs(value) / max) * (half - 8) : 0;
    const x = value < 0 ? zero - width : zero;
    svg.append(s("text", { x: LABEL - 8, y: y + BAR - 3, class: "chart-label", "text-anchor": "end" }, label));
    svg.append(s("rect", { x, y: y + 1, width: Math.max(width, 0.5), height: BAR - 2,
                           class: `bar ${value > 0 ? "up" : value < 0 ? "down" : "flat"}` },
      s("title", {}, `${label}: ${texts[row]}`)));
    svg.append(s("text", { x: LABEL + PLOT + 8, y: y + BAR - 3, class: "chart-value" }, texts[row]));
  });
  return figure;
}
