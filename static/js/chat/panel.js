// One model's reply in one column of a turn: its header (model, Auto's route), the live markdown, the
// footer with usage and speed once it ends, an error with a retry when it fails, and its actions.
import { credits, milliseconds, usdOfCredits } from "panels/format";
import { icon, iconButton } from "panels/icons";
import { showStepper } from "panels/chat/branches";
import { LiveMarkdown } from "panels/chat/live-markdown";
import { tokensPerSecond } from "panels/chat/speed";

const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

export class Panel {
  constructor({ catalog, requested, index }) {
    this.catalog = catalog;
    this.requested = requested; // what the person picked: a slug or "auto"
    this.model = requested === "auto" ? null : requested; // the model that answers, once known
    this.index = index;
    this.messageId = null;
    this.attachmentTokens = 0; // of the input, what the prompt's files added for this model (an estimate)
    this.lastSeq = 0;
    this.status = "waiting";
    this.build();
    this.element.panel = this;
  }

  build() {
    this.element = el("article", "panel");
    this.element.dataset.status = this.status;
    this.name = el("h3", "panel-model");
    this.provider = el("span", "panel-provider");
    this.route = el("p", "panel-route");
    this.route.hidden = true;
    // The server leaves the oldest turns out when the history would not fit this model's context window.
    this.trimmed = el("p", "panel-note");
    this.trimmed.hidden = true;
    const title = el("div", "panel-title");
    title.append(this.name, this.provider);
    // "‹ 2 / 3 ›" when the panel was regenerated: the earlier versions stay, one step away.
    this.versions = el("div", "version-nav");
    this.versions.hidden = true;
    this.actions = el("div", "panel-actions");
    this.actions.append(
      iconButton("stop", "Stop this reply", "stop"),
      iconButton("copy", "Copy reply", "copy"),
      iconButton("regenerate", "Regenerate this reply", "regenerate"),
      iconButton("continue", "Continue the conversation with this model", "continue"),
    );
    const head = el("header", "panel-head");
    head.append(title, this.versions, this.actions);
    this.body = el("div", "panel-body markdown");
    this.markdown = new LiveMarkdown(this.body);
    this.state = el("p", "panel-state", "Waiting for the model…");
    this.error = el("div", "panel-error");
    this.error.setAttribute("role", "alert");
    this.error.hidden = true;
    this.foot = el("footer", "panel-foot");
    this.foot.hidden = true;
    this.element.append(head, this.route, this.trimmed, this.body, this.state, this.error, this.foot);
    this.showModel();
  }

  /** Show which version of its panel this reply is (`at` from 0, of `count`), with arrows to the others. */
  showVersions(at, count) {
    showStepper(this.versions, { at, count, action: "version", noun: "version" });
  }

  entry(slug) {
    return this.catalog.models.find((model) => model.slug === slug);
  }

  showModel(route = null) {
    const entry = this.model ? this.entry(this.model) : null;
    const modelName = entry?.name ?? this.model ?? "";
    this.element.setAttribute("aria-label", `Reply from ${this.requested === "auto" ? "Auto" : modelName}`);
    if (this.requested !== "auto") {
      this.name.textContent = modelName;
      this.provider.textContent = entry?.provider ?? "";
      return;
    }
    this.name.replaceChildren("Auto");
    this.element.querySelector(".route-toggle")?.remove();
    this.provider.textContent = "";
    if (!this.model) {
      this.provider.textContent = "choosing a model…";
      return;
    }
    const choice = el("span", "auto-choice", ` → ${modelName}`);
    this.name.append(choice);
    if (route) {
      const task = route.task.replaceAll("_", " ");
      this.provider.textContent = `· ${task}`;
      // The reason shows on hover (title) and on tap (the button), so it reaches touch screens too.
      const why = el("button", "route-toggle");
      why.type = "button";
      why.title = route.reason;
      why.setAttribute("aria-expanded", "false");
      why.setAttribute("aria-label", `Why ${modelName}?`);
      why.append(icon("info"));
      why.addEventListener("click", () => {
        this.route.hidden = !this.route.hidden;
        why.setAttribute("aria-expanded", String(!this.route.hidden));
      });
      this.provider.after(why);
      this.route.textContent = route.reason;
    }
  }

  /** Attach the server's message (from `turn.started`, `message.started` or the conversation JSON). */
  bind({ message_id, model, route = null, dropped_turns = 0, attachment_tokens = 0 }) {
    this.messageId = message_id;
    this.attachmentTokens = attachment_tokens;
    this.element.dataset.messageId = message_id;
    this.model = model;
    this.showModel(route);
    this.showTrimmed(dropped_turns);
  }

  showTrimmed(droppedTurns) {
    this.trimmed.hidden = !droppedTurns;
    const name = this.entry(this.model)?.name ?? this.model;
    const turns = droppedTurns === 1 ? "The oldest turn was" : `The ${droppedTurns} oldest turns were`;
    this.trimmed.textContent = droppedTurns ? `${turns} left out to fit ${name}'s context window.` : "";
  }

  setStatus(status) {
    this.status = status;
    this.element.dataset.status = status;
    this.element.setAttribute("aria-busy", String(status === "waiting" || status === "streaming"));
  }

  get active() {
    return this.status === "waiting" || this.status === "streaming";
  }

  /** Take a delta in order: "ok", "duplicate" (already shown), or "gap" (something was missed). */
  delta({ seq, text }) {
    if (seq <= this.lastSeq) return "duplicate";
    if (seq !== this.lastSeq + 1) return "gap";
    this.lastSeq = seq;
    if (this.status === "waiting") {
      this.setStatus("streaming");
      this.state.textContent = "Streaming…";
    }
    this.markdown.append(text);
    return "ok";
  }

  done(frame, creditsPerUsd, text = this.markdown.text) {
    this.markdown.finish(text);
    this.setStatus(frame.status);
    this.state.hidden = frame.status !== "stopped";
    this.state.textContent = frame.status === "stopped" ? "Stopped." : "";
    if (frame.status === "error") this.showError(frame.error?.detail || "The model could not answer.");
    this.showFooter(frame, creditsPerUsd);
  }

  /** Show a finished reply loaded over HTTP. */
  load(message, creditsPerUsd) {
    this.bind({
      message_id: message.id,
      model: message.model,
      route: message.route,
      dropped_turns: message.dropped_turns,
      attachment_tokens: message.attachment_tokens,
    });
    if (message.status === "streaming") {
      this.setStatus("waiting");
      this.state.textContent = "Catching up…";
      return;
    }
    this.done({ ...message, message_id: message.id }, creditsPerUsd, message.text);
  }

  /** Replace the text with the saved one (a reply that ended while the socket was away). */
  replaceText(text) {
    this.markdown.finish(text);
  }

  showError(detail) {
    const text = el("p", "", detail);
    const retry = el("button", "small", "Retry");
    retry.type = "button";
    retry.dataset.action = "regenerate";
    this.error.replaceChildren(text, retry);
    this.error.hidden = false;
  }

  /** The turn was refused before this reply began. */
  refuse() {
    this.setStatus("error");
    this.state.hidden = true;
  }

  showFooter(frame, creditsPerUsd) {
    const parts = [];
    const item = (text, title) => {
      const span = el("span", "", text);
      if (title) span.title = title;
      parts.push(span);
      return span;
    };
    // Counted by Panels (a stop or a cut): the count leans high, so the speed from it does too.
    const about = frame.usage_estimated ? "~" : "";
    const estimated = frame.usage_estimated
      ? " (estimated: the provider did not report usage after the stop or cut, so Panels counted the text; " +
        "its count leans high, and so does a speed from it)"
      : "";
    // The files' share is Panels' estimate, so it never reads as more than the provider's whole count.
    const fromFiles = Math.min(this.attachmentTokens, frame.input_tokens);
    const files = fromFiles > 0 ? ` (${credits(fromFiles)} from files)` : "";
    const counts = item(
      `${about}${credits(frame.input_tokens)} in${files} · ${about}${credits(frame.output_tokens)} out`,
      `Input and output tokens${estimated}` +
        (files ? "; of the input, about what the attached files added (Panels' estimate)" : ""),
    );
    counts.dataset.testid = "token-counts";
    item(
      `${credits(frame.credits)} credits (${usdOfCredits(frame.credits, creditsPerUsd)})`,
      "Charged to your wallet for this reply",
    );
    if (frame.comparison) this.showComparison(frame, creditsPerUsd, item);
    if (frame.ttft_ms !== null && frame.ttft_ms !== undefined) {
      item(`${milliseconds(frame.ttft_ms)} to first token`, "Time from sending to the first text");
    }
    const speed = tokensPerSecond(frame);
    if (speed !== null) {
      const title = `Output tokens per second from the first token to the last${estimated}`;
      const span = item(`${about}${speed} tok/s`, title);
      span.dataset.testid = "speed";
    }
    if (frame.usage_estimated) {
      const badge = el("span", "badge", "estimated");
      badge.title = "The provider did not report usage (a stop or a cut), so Panels counted the tokens";
      parts.push(badge);
    }
    this.foot.replaceChildren(...parts);
    this.foot.hidden = false;
  }

  /** Add what the same tokens would have cost on Auto's other candidate, and what choosing saved. */
  showComparison({ comparison, credits: charged }, creditsPerUsd, item) {
    const name = this.entry(comparison.model)?.name ?? comparison.model;
    const saved = comparison.credits - charged;
    const span = item(
      `on ${name}: ${credits(comparison.credits)} credits (${usdOfCredits(comparison.credits, creditsPerUsd)})` +
        (saved > 0 ? ` — saved ${credits(saved)}` : ""),
      `What the same input and output tokens would have cost on ${name}, the other model Auto weighed`,
    );
    span.className = "comparison";
    span.dataset.testid = "comparison";
  }
}
