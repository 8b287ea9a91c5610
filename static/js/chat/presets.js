// Presets in the sidebar: a click starts a new chat with a preset's system prompt, models and panel settings
// (/chat/?preset=<id>, applied by the page from its boot data); "Save as preset" keeps the current ones under a
// name, and a person's own presets are renamed and deleted in place. Built-in presets are marked and stay.
import { confirmDelete } from "panels/chat/confirm-delete";
import { api } from "panels/api";
import { iconButton } from "panels/icons";

const PARAMETER = "preset";

/** Return the preset the page's URL asks to start from (?preset=<id or built-in key>), or null. */
export function requestedPreset(presets) {
  const wanted = new URLSearchParams(location.search).get(PARAMETER);
  return wanted === null ? null : (presets.find((preset) => String(preset.id) === wanted) ?? null);
}

export class Presets {
  constructor({ root, dialog, apiUrl, chatUrl, presets, current, catalog, onError }) {
    this.list = root.querySelector("[data-preset-list]");
    this.dialog = dialog;
    this.apiUrl = apiUrl;
    this.chatUrl = chatUrl;
    this.presets = [...presets];
    this.current = current; // () => { system_prompt, models, panel_settings } as the page has them now
    this.catalog = catalog;
    this.onError = onError;
    this.form = dialog.querySelector("form");
    this.name = dialog.querySelector('input[name="name"]');
    this.error = dialog.querySelector("[data-preset-error]");
    root.querySelector("[data-save-preset]").addEventListener("click", () => this.openSave());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    dialog.querySelector("[data-preset-cancel]").addEventListener("click", () => dialog.close());
    this.list.addEventListener("click", (event) => this.act(event));
    this.render();
  }

  url(preset) {
    return `${this.chatUrl}?${PARAMETER}=${encodeURIComponent(preset.id)}`;
  }

  render() {
    this.list.replaceChildren(...this.presets.map((preset) => this.row(preset)));
  }

  row(preset) {
    const item = document.createElement("li");
    item.className = "preset-item";
    item.dataset.id = preset.id;
    const link = document.createElement("a");
    link.href = this.url(preset);
    link.title = `Start a new chat with ${this.names(preset.models)}${preset.system_prompt ? " and a system prompt" : ""}.`;
    const name = document.createElement("span");
    name.className = "preset-name";
    name.textContent = preset.name;
    link.append(name);
    if (preset.builtin) {
      const badge = document.createElement("span");
      badge.className = "preset-badge";
      badge.textContent = "Built-in";
      link.append(badge);
    }
    item.append(link);
    if (!preset.builtin) {
      const actions = document.createElement("div");
      actions.className = "item-actions";
      actions.append(
        iconButton("rename", `Rename preset ${preset.name}`, "rename"),
        iconButton("trash", `Delete preset ${preset.name}`, "delete"),
      );
      item.append(actions);
    }
    return item;
  }

  names(models) {
    return models.map((slug) => this.catalog.models.find((m) => m.slug === slug)?.name ?? slug).join(", ");
  }

  openSave() {
    const { models, system_prompt: systemPrompt } = this.current();
    this.error.hidden = true;
    this.name.value = "";
    this.dialog.querySelector("[data-preset-summary]").textContent = models.length
      ? `Saves ${this.names(models)}, each with its settings, and ${systemPrompt ? "the system prompt" : "no system prompt"}.`
      : "Choose at least one model first.";
    this.form.querySelector('button[type="submit"]').disabled = !models.length;
    this.dialog.showModal();
    this.name.focus();
  }

  async save() {
    const { system_prompt: systemPrompt, models, panel_settings: settings } = this.current();
    try {
      const preset = await api(this.apiUrl, {
        method: "POST",
        body: { name: this.name.value, system_prompt: systemPrompt, models, panel_settings: settings },
      });
      this.presets.push(preset);
      this.sortOwn();
      this.render();
      this.dialog.close();
      this.list.querySelector(`[data-id="${preset.id}"] a`)?.focus();
    } catch (error) {
      this.error.textContent = error.message;
      this.error.hidden = false;
    }
  }

  sortOwn() {
    const builtin = this.presets.filter((preset) => preset.builtin);
    const own = this.presets.filter((preset) => !preset.builtin);
    own.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id));
    this.presets = [...builtin, ...own];
  }

  act(event) {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const item = button.closest(".preset-item");
    const preset = this.presets.find((p) => String(p.id) === item.dataset.id);
    if (button.dataset.action === "rename") this.rename(item, preset);
    if (button.dataset.action === "delete") this.confirmDelete(item, preset);
  }

  rename(item, preset) {
    const form = document.createElement("form");
    form.className = "rename-form";
    const input = document.createElement("input");
    input.value = preset.name;
    input.maxLength = 80;
    input.required = true;
    input.setAttribute("aria-label", "New preset name");
    form.append(input);
    const link = item.querySelector("a");
    const actions = item.querySelector(".item-actions");
    link.hidden = actions.hidden = true;
    item.prepend(form);
    input.select();
    const close = () => {
      form.remove();
      link.hidden = actions.hidden = false;
      link.focus();
    };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        Object.assign(preset, await api(`${this.apiUrl}${preset.id}/`, { method: "PATCH", body: { name: input.value } }));
      } catch (error) {
        input.setCustomValidity(error.message);
        input.reportValidity();
        return;
      }
      this.sortOwn();
      this.render();
      this.list.querySelector(`[data-id="${preset.id}"] a`)?.focus();
    });
    input.addEventListener("input", () => input.setCustomValidity(""));
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        event.preventDefault();
        close();
      }
    });
  }

  confirmDelete(item, preset) {
    confirmDelete(item, {
      label: `Delete preset ${preset.name}?`,
      remove: () => api(`${this.apiUrl}${preset.id}/`, { method: "DELETE" }),
      removed: () => {
        this.presets = this.presets.filter((p) => p !== preset);
        item.remove();
      },
      failed: (error) => this.onError(error.message),
    });
  }
}
