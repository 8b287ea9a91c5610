// The model picker: a dialog of checkboxes rendered by the server (name, provider, prices, context, best
// for, or why a model is unavailable). One to four choices; the page learns of changes through onChange.
export class ModelPicker {
  constructor({ dialog, opener, summary, catalog, onChange, describe = () => "" }) {
    this.dialog = dialog;
    this.describe = describe; // slug -> a note on its chip (its panel settings), or ""
    this.summary = summary;
    this.catalog = catalog;
    this.onChange = onChange;
    this.max = catalog.max_models_per_turn;
    this.boxes = [...dialog.querySelectorAll('input[name="models"]')];
    this.order = []; // the slugs in the order they were chosen: panels appear in this order
    this.count = dialog.querySelector("[data-picker-count]");
    opener.addEventListener("click", () => this.open());
    dialog.addEventListener("change", () => this.changed());
    dialog.addEventListener("close", () => this.onChange(this.selected));
    // A click on the backdrop (outside the dialog's box) closes it, as people expect of a popup.
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) dialog.close();
    });
  }

  get selected() {
    return [...this.order];
  }

  available(slug) {
    return this.boxes.some((box) => box.value === slug && !box.disabled);
  }

  /** Check exactly `slugs` (those still available, at most four) and show them. */
  select(slugs) {
    const wanted = slugs.filter((slug) => this.available(slug)).slice(0, this.max);
    for (const box of this.boxes) box.checked = wanted.includes(box.value);
    this.order = wanted;
    this.changed(false);
  }

  open() {
    this.dialog.showModal();
    this.boxes.find((box) => box.checked)?.focus();
  }

  changed(notify = true) {
    const checked = this.boxes.filter((box) => box.checked).map((box) => box.value);
    const kept = this.order.filter((slug) => checked.includes(slug));
    this.order = [...kept, ...checked.filter((slug) => !kept.includes(slug))];
    const chosen = this.selected;
    for (const box of this.boxes) {
      // Unavailable models stay disabled; others only while four are already chosen.
      if (box.dataset.unavailable === undefined) box.disabled = !box.checked && chosen.length >= this.max;
    }
    this.count.textContent = chosen.length
      ? `${chosen.length} of ${this.max} chosen`
      : "Choose at least one model";
    this.renderSummary(chosen);
    if (notify) this.onChange(chosen);
  }

  renderSummary(chosen) {
    const chips = chosen.map((slug) => {
      const chip = document.createElement("span");
      chip.className = "chip";
      chip.dataset.model = slug;
      chip.textContent = this.catalog.models.find((model) => model.slug === slug)?.name ?? slug;
      const note = this.describe(slug);
      if (note) {
        const settings = document.createElement("span");
        settings.className = "chip-note";
        settings.textContent = note;
        chip.append(" ", settings);
      }
      return chip;
    });
    this.summary.replaceChildren(...(chips.length ? chips : ["No model chosen"]));
  }

  /** Mark the chosen models the prompt is too long for: they will be skipped when it is sent. */
  markTooLong(slugs) {
    for (const chip of this.summary.querySelectorAll(".chip")) {
      const tooLong = slugs.includes(chip.dataset.model);
      chip.classList.toggle("too-long", tooLong);
      chip.title = tooLong ? "This prompt is too long for this model; it will be skipped" : "";
    }
  }
}
