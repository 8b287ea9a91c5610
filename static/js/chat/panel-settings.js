// Each chosen model's settings for the next turns: its temperature and its max output tokens (empty: the model's
// default). They go out with every `send` as `panel_settings`, one entry per model in the same order; the server
// holds each reply's worst case on its max output tokens, so the cost estimate reads them too (outputLimit).
import { credits } from "panels/format";

const DEFAULTS = Object.freeze({ temperature: null, max_output_tokens: null });

export class PanelSettings {
  constructor({ dialog, opener, catalog, models, onChange }) {
    this.dialog = dialog;
    this.catalog = catalog;
    this.models = models; // () => the chosen slugs, in panel order
    this.onChange = onChange;
    this.list = dialog.querySelector("[data-panel-settings-list]");
    this.bySlug = new Map(); // slug -> { temperature, max_output_tokens }
    opener.addEventListener("click", () => this.open());
    dialog.querySelector("form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.saveForm();
    });
    dialog.querySelector("[data-panel-settings-cancel]").addEventListener("click", () => dialog.close());
    dialog.querySelector("[data-panel-settings-reset]").addEventListener("click", () => {
      for (const input of this.list.querySelectorAll("input")) input.value = "";
    });
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) dialog.close();
    });
  }

  entry(slug) {
    return this.catalog.models.find((model) => model.slug === slug);
  }

  /** The largest output limit a panel of `slug` may set: what one reply of it may use. */
  /** Return the highest temperature the model's provider takes (Anthropic's end at 1; Auto may pick either). */
  maxTemperature(slug) {
    return this.entry(slug)?.max_temperature ?? 2;
  }

  limit(slug) {
    return this.entry(slug)?.reply_budget_tokens ?? this.catalog.max_output_tokens;
  }

  get(slug) {
    return { ...DEFAULTS, ...this.bySlug.get(slug) };
  }

  /** The output limit set for `slug`, or null for the model's own. */
  outputLimit(slug) {
    return this.get(slug).max_output_tokens;
  }

  /** The settings of each of `models`, in order, as the `send` frame and presets carry them. */
  forModels(models) {
    return models.map((slug) => this.get(slug));
  }

  /** Use `settings` (one entry per model, null entries for defaults) and forget any others. */
  apply(models, settings) {
    this.bySlug.clear();
    models.forEach((slug, index) => {
      const chosen = settings?.[index];
      if (!chosen) return;
      const limit = this.limit(slug);
      const maxOutput = chosen.max_output_tokens == null ? null : Math.min(chosen.max_output_tokens, limit);
      this.bySlug.set(slug, { temperature: chosen.temperature ?? null, max_output_tokens: maxOutput });
    });
  }

  /** A compact summary of what differs from the model's defaults, e.g. "T 0.2 · 500 max"; "" when nothing. */
  describe(slug) {
    const { temperature, max_output_tokens: maxOutput } = this.get(slug);
    const parts = [];
    if (temperature != null) parts.push(`T ${temperature}`);
    if (maxOutput != null) parts.push(`${credits(maxOutput)} max`);
    return parts.join(" · ");
  }

  open() {
    const models = this.models();
    this.list.replaceChildren(...models.map((slug, index) => this.fieldset(slug, index)));
    if (!models.length) this.list.textContent = "Choose a model first.";
    this.dialog.showModal();
    this.list.querySelector("input")?.focus();
  }

  fieldset(slug, index) {
    const { temperature, max_output_tokens: maxOutput } = this.get(slug);
    const fieldset = document.createElement("fieldset");
    fieldset.className = "panel-setting";
    fieldset.dataset.model = slug;
    const legend = document.createElement("legend");
    legend.textContent = this.entry(slug)?.name ?? slug;
    const field = (label, name, value, attributes, hint) => {
      const id = `panel-${index}-${name}`;
      const wrapper = document.createElement("div");
      const labelElement = document.createElement("label");
      labelElement.htmlFor = id;
      labelElement.textContent = label;
      const input = document.createElement("input");
      Object.assign(input, { id, name, type: "number", value: value ?? "", placeholder: hint, ...attributes });
      wrapper.append(labelElement, input);
      return wrapper;
    };
    const limit = this.limit(slug);
    fieldset.append(
      legend,
      field("Temperature", "temperature", temperature, { min: 0, max: this.maxTemperature(slug), step: 0.01 }, "Default"),
      field(
        "Max output tokens",
        "max_output_tokens",
        maxOutput,
        { min: 1, max: limit, step: 1 },
        `Default: ${credits(limit)}`,
      ),
    );
    return fieldset;
  }

  saveForm() {
    for (const fieldset of this.list.querySelectorAll("fieldset")) {
      const number = (name) => {
        const value = fieldset.querySelector(`[name="${name}"]`).value.trim();
        return value === "" ? null : Number(value);
      };
      const chosen = { temperature: number("temperature"), max_output_tokens: number("max_output_tokens") };
      if (chosen.temperature == null && chosen.max_output_tokens == null) this.bySlug.delete(fieldset.dataset.model);
      else this.bySlug.set(fieldset.dataset.model, chosen);
    }
    this.dialog.close();
    this.onChange();
  }
}
