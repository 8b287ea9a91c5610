// The theme toggle in the site header: each click moves to the next theme (the choices and their names come
// with the button), applies it at once and saves it for the person, so every page opens in it.
const root = document.documentElement;
const button = document.querySelector("[data-theme-toggle]");
const status = document.querySelector("[data-theme-status]");
const options = [...button.querySelectorAll("[data-theme-option]")].map((svg) => ({
  value: svg.dataset.themeOption,
  label: svg.dataset.label,
}));
const labelOf = (theme) => options.find((option) => option.value === theme)?.label ?? theme;

let saved = root.dataset.theme; // what the server has: a failed save goes back to it
let saving = Promise.resolve(); // saves go out one after another, so the last click is the one remembered

/** Show `theme` now: the page's colours, the browser's own controls and its toolbar colour. */
function apply(theme) {
  root.dataset.theme = theme;
  document.querySelector('meta[name="color-scheme"]').content = theme === "system" ? "light dark" : theme;
  for (const meta of document.querySelectorAll('meta[name="theme-color"][data-scheme]')) {
    const scheme = meta.dataset.scheme;
    meta.media = theme === "system" ? `(prefers-color-scheme: ${scheme})` : theme === scheme ? "all" : "not all";
  }
  const label = `Theme: ${labelOf(theme)}`;
  button.setAttribute("aria-label", label);
  button.title = `${label} (click to change)`;
}

async function save(theme) {
  const response = await fetch(button.dataset.url, {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": button.dataset.csrf },
    body: JSON.stringify({ theme }),
    credentials: "same-origin",
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(body?.detail || `The server answered ${response.status}.`);
  return body.theme;
}

button.addEventListener("click", () => {
  const index = options.findIndex((option) => option.value === root.dataset.theme);
  const theme = options[(index + 1) % options.length].value;
  apply(theme);
  status.textContent = `Theme: ${labelOf(theme)}`;
  saving = saving.then(async () => {
    try {
      saved = await save(theme);
    } catch (error) {
      if (root.dataset.theme === theme) apply(saved);
      status.textContent = `The theme could not be saved: ${error.message}`;
    }
  });
});
