import type { UiBenchChart } from "../../src/ui/wire.ts";
import { api } from "./api.ts";
import { h, showError } from "./dom.ts";

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(value < 10 ? 1 : 0)} ms`;
}

/**
 * A horizontal bar chart in plain HTML, bars scaled to the largest value; on a log scale when the values
 * span more than 20× (a 30 ms pause beside a 34 s one would otherwise not show).
 */
function chartView(chart: UiBenchChart): HTMLElement {
  const values = chart.bars.map((b) => b.ms);
  const max = Math.max(...values, 1);
  const log = max / Math.max(Math.min(...values), 0.1) > 20;
  const scale = (v: number): number => (log ? Math.log10(1 + v) / Math.log10(1 + max) : v / max);
  return h(
    "section",
    { class: "chart" },
    h("h3", {}, chart.title),
    h("div", { class: "sub" }, `bench/results/${chart.source} (median of each method's runs${log ? "; log scale" : ""})`),
    ...chart.bars.map((bar) =>
      h(
        "div",
        { class: "bar-row" },
        h("span", { class: "bar-label" }, bar.label),
        h(
          "span",
          { class: "bar-track" },
          h("span", { class: `bar${bar.label.startsWith("snapvm") ? " ours" : ""}`, style: `width:${(scale(bar.ms) * 100).toFixed(1)}%` }),
        ),
        h("span", { class: "bar-value" }, `${ms(bar.ms)}${bar.runs > 1 ? ` (${bar.runs} runs)` : ""}`),
      ),
    ),
  );
}

/** The latest bench results (`npm run bench`) as charts. */
export function perfView(root: HTMLElement): () => void {
  const holder = h("div", { class: "charts" }, "loading…");
  root.replaceChildren(h("section", {}, h("h2", {}, "Performance"), holder));
  api<UiBenchChart[]>("GET", "/bench").then(
    (charts) => {
      holder.replaceChildren(...(charts.length === 0 ? [h("p", { class: "sub" }, "no bench results (run `npm run bench`)")] : charts.map(chartView)));
    },
    (error: unknown) => {
      showError(error);
    },
  );
  return () => undefined;
}
