// The pricing calculator: requests x input tokens x output tokens -> cost per model, from /api/estimate
// (the server's own arithmetic, so the page never disagrees with the wallet).
import { api } from "panels/api";
import { credits, usd } from "panels/format";

const form = document.querySelector("[data-calculator]");
const results = document.querySelector("[data-calc-results]");
const status = document.querySelector("[data-calc-status]");
// Models the server cannot call right now are still priced, but never offered as the cheapest.
const unavailable = new Set([...document.querySelectorAll("tr.unavailable[data-slug]")].map((tr) => tr.dataset.slug));
let latest = 0;

// Roles and data-label as in the template's table: narrow screens draw each row as a labelled card.
function cell(label, text, sub, className = "num") {
  const td = document.createElement("td");
  td.className = className;
  td.setAttribute("role", "cell");
  td.dataset.label = label;
  td.append(text);
  if (sub) {
    const small = document.createElement("span");
    small.className = "sub";
    small.textContent = sub;
    td.append(small);
  }
  return td;
}

async function calculate() {
  if (!form.checkValidity()) {
    status.textContent = "Enter whole numbers: at least 1 request, and 0 or more tokens.";
    return;
  }
  const query = new URLSearchParams(new FormData(form));
  const call = ++latest;
  let data;
  try {
    data = await api(`${form.dataset.estimateUrl}?${query}`);
  } catch (error) {
    if (call === latest) status.textContent = error.message;
    return;
  }
  if (call !== latest) return; // a newer input already asked again
  const rows = [...data.models].sort(
    (a, b) => unavailable.has(a.slug) - unavailable.has(b.slug) || a.credits - b.credits,
  );
  results.replaceChildren(
    ...rows.map((row, index) => {
      const tr = document.createElement("tr");
      tr.setAttribute("role", "row");
      if (unavailable.has(row.slug)) tr.className = "unavailable";
      else if (index === 0) tr.className = "best";
      const name = document.createElement("th");
      name.scope = "row";
      name.setAttribute("role", "rowheader");
      name.append(row.name);
      const provider = document.createElement("span");
      provider.className = "sub";
      const note = unavailable.has(row.slug) ? " · unavailable" : index === 0 ? " · cheapest" : "";
      provider.textContent = row.provider + note;
      name.append(provider);
      tr.dataset.slug = row.slug;
      tr.append(
        name,
        cell("Per request", usd(row.usd_per_request), `${credits(row.credits_per_request)} credits`),
        cell("Total", usd(row.usd), `${credits(row.credits)} credits`),
      );
      return tr;
    }),
  );
  status.textContent = `${credits(data.requests)} requests of ${credits(data.input_tokens)} input and ` +
    `${credits(data.output_tokens)} output tokens:`;
}

let timer;
form.addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(calculate, 200);
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  calculate();
});
calculate();
