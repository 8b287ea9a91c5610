// Short notices on the chat page ("Copied.", "Reconnected.", the account messages after signing up): a list in
// the layout's flow above the composer, so a notice covers no title or control. Each is announced politely and
// leaves by itself after a few seconds, or at once with its close button; none leaves while being read
// (pointer over it, or focus in it).
import { iconButton } from "panels/icons";

const SHOWN_MS = 6000;

export class Notices {
  constructor(list, { shownMs = SHOWN_MS, onClosed = () => {} } = {}) {
    this.list = list;
    this.shownMs = shownMs;
    this.onClosed = onClosed; // where focus goes when a notice is closed from its own button
    this.held = false;
    const hold = () => {
      this.held = true;
      for (const item of this.list.children) clearTimeout(item.timer);
    };
    const release = () => {
      if (this.list.matches(":hover") || this.list.contains(document.activeElement)) return;
      this.held = false;
      for (const item of this.list.children) this.schedule(item);
    };
    list.addEventListener("pointerenter", hold);
    list.addEventListener("focusin", hold);
    list.addEventListener("pointerleave", release);
    list.addEventListener("focusout", () => setTimeout(release)); // after focus has moved on
  }

  /** Show `text`; the same text already shown starts its time again instead of appearing twice. */
  show(text) {
    let item = [...this.list.children].find((shown) => shown.dataset.text === text);
    if (!item) {
      item = document.createElement("li");
      item.className = "notice";
      item.dataset.text = text;
      const words = document.createElement("span");
      words.textContent = text;
      const close = iconButton("close", "Dismiss", "dismiss");
      close.addEventListener("click", () => {
        this.remove(item);
        this.onClosed();
      });
      item.append(words, close);
      this.list.append(item);
    }
    this.schedule(item);
  }

  schedule(item) {
    clearTimeout(item.timer);
    if (!this.held) item.timer = setTimeout(() => this.remove(item), this.shownMs);
  }

  remove(item) {
    clearTimeout(item.timer);
    item.remove();
  }
}
