// The conversation's system prompt, shown collapsed at the top of the turns (its first line, or "None") and
// edited in place. A saved conversation keeps it on the server (PATCH /api/conversations/<id>/); a new chat keeps
// it on the page until its first `send` frame carries it (`system_prompt`).
import { api } from "panels/api";

export class SystemPrompt {
  constructor({ element, apiUrl, conversationId, onChange }) {
    this.element = element;
    this.apiUrl = apiUrl;
    this.conversationId = conversationId; // () => the saved conversation's id, or null for a new chat
    this.onChange = onChange;
    this.summary = element.querySelector("[data-system-prompt-summary]");
    this.form = element.querySelector("form");
    this.input = element.querySelector("textarea");
    this.error = element.querySelector("[data-system-prompt-error]");
    this.text = "";
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    element.querySelector("[data-system-prompt-cancel]").addEventListener("click", () => this.close());
    // The toggle event comes a task after the editor opens, when the person (or a test) may already have
    // typed: it must not refill the box then. The box is reset when the editor closes, and by show().
    element.addEventListener("toggle", () => {
      if (!element.open) {
        this.input.value = this.text; // a draft closed without saving is dropped
        return;
      }
      this.error.hidden = true;
      this.input.focus();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault(); // Esc here closes the editor, not the replies
        this.close();
      }
    });
  }

  /** The system prompt the next turn is answered with: the conversation's, or a new chat's draft. */
  get value() {
    return this.text;
  }

  /** Show `text` as the system prompt (read from a conversation or a preset); nothing is saved. */
  show(text) {
    this.text = (text ?? "").trim();
    this.input.value = this.text;
    const firstLine = this.text.split("\n").find((line) => line.trim()) ?? "";
    this.summary.textContent = firstLine || "None";
    this.summary.title = this.text;
    this.element.dataset.set = this.text ? "true" : "false";
  }

  close() {
    this.input.value = this.text;
    this.element.open = false;
    this.element.querySelector("summary").focus();
  }

  async save() {
    const text = this.input.value.trim();
    const id = this.conversationId();
    if (id) {
      try {
        await api(`${this.apiUrl}${id}/`, { method: "PATCH", body: { system_prompt: text } });
      } catch (error) {
        this.error.textContent = error.message;
        this.error.hidden = false;
        return;
      }
    }
    this.show(text);
    this.close();
    this.onChange(text);
  }
}
