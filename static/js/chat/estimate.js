// What the next turn may cost, shown before sending. The server holds each reply's worst case (its input
// plus a full reply budget) and refuses a turn the wallet cannot cover, so the composer shows that same
// figure, from /api/estimate (the server's own arithmetic), next to the available balance.
import { api } from "panels/api";
import { credits, usdOfCredits } from "panels/format";

const MESSAGE_OVERHEAD_TOKENS = 4; // as chat/tokens.py counts a message
const TYPICAL_REPLY_TOKENS = 500;

/** Estimate tokens as the server does before a call (chat/tokens.py): leaning high, never billed. */
export function estimateTokens(text) {
  let ascii = 0;
  let other = 0;
  for (const char of text) {
    if (char.codePointAt(0) > 127) other += 1;
    else ascii += 1;
  }
  return Math.ceil(ascii / 3) + other;
}

const messageTokens = (texts) => texts.reduce((sum, text) => sum + estimateTokens(text) + MESSAGE_OVERHEAD_TOKENS, 0);

/** Return the texts a panel sends before the new prompt: each earlier turn's prompt and this thread's reply. */
export function threadTexts(conversation, model, panel) {
  const texts = conversation?.system_prompt ? [conversation.system_prompt] : [];
  for (const turn of conversation?.turns ?? []) {
    const replies = turn.messages.filter((message) => message.text && message.status !== "streaming");
    const chosen = replies.find((m) => m.model === model) ?? replies.find((m) => m.panel === panel);
    if (chosen) texts.push(turn.content, chosen.text);
  }
  return texts;
}

export class CostEstimate {
  constructor({ element, warning, estimateUrl, catalog }) {
    this.element = element;
    this.warning = warning;
    this.estimateUrl = estimateUrl;
    this.catalog = catalog;
    this.cache = new Map();
    this.generation = 0;
  }

  entry(slug) {
    return this.catalog.models.find((model) => model.slug === slug);
  }

  async rows(inputTokens, outputTokens) {
    const query = new URLSearchParams({ requests: 1, input_tokens: inputTokens, output_tokens: outputTokens });
    const url = `${this.estimateUrl}?${query}`;
    if (!this.cache.has(url)) this.cache.set(url, api(url).then((data) => data.models));
    return this.cache.get(url);
  }

  /** Show the worst case and a typical cost of sending `content` to `models`, against `available` credits. */
  async update({ models, content, conversation, available }) {
    this.auto = models.includes("auto");
    const generation = ++this.generation;
    if (!models.length || !content.trim()) {
      this.show(null, available);
      return;
    }
    const usable = this.catalog.models.filter((m) => m.available && m.slug !== "auto");
    let worst = 0;
    let typical = 0;
    let inputTokens = 0;
    try {
      for (const [panel, slug] of models.entries()) {
        // Auto is counted at the dearest model it could pick, so "up to" stays true.
        const candidates = slug === "auto" ? usable : [this.entry(slug)];
        const input = messageTokens([...threadTexts(conversation, slug, panel), content]);
        inputTokens = Math.max(inputTokens, input);
        const budget = this.entry(slug).reply_budget_tokens;
        const rows = await this.rows(input, budget);
        const costs = candidates.map((model) => rows.find((row) => row.slug === model.slug)?.credits ?? 0);
        worst += Math.max(...costs);
        // A rough typical figure (for Auto, the middle of the range): per-1M prices, a 500-token reply.
        const typicalCosts = candidates
          .map((m) => Math.ceil((input * m.input_credits_per_m + TYPICAL_REPLY_TOKENS * m.output_credits_per_m) / 1e6))
          .sort((a, b) => a - b);
        typical += typicalCosts[Math.floor(typicalCosts.length / 2)];
      }
    } catch {
      if (generation === this.generation) this.element.textContent = "Cost estimate unavailable right now.";
      return;
    }
    if (generation !== this.generation) return; // a newer keystroke already asked again
    this.show({ worst, typical, inputTokens }, available);
  }

  show(estimate, available) {
    const perUsd = this.catalog.credits_per_usd;
    this.element.dataset.worstCredits = estimate?.worst ?? "";
    this.element.dataset.inputTokens = estimate?.inputTokens ?? "";
    if (!estimate) {
      this.element.textContent = `${credits(available)} credits available`;
      this.warning.hidden = true;
      return;
    }
    const strong = document.createElement("strong");
    strong.textContent = `${credits(estimate.worst)} credits`;
    strong.dataset.testid = "estimate-worst";
    this.element.replaceChildren(
      "Up to ",
      strong,
      ` (${usdOfCredits(estimate.worst, perUsd)}) · typically ≈ ${credits(estimate.typical)} · `,
      `${credits(available)} available`,
    );
    this.element.title =
      `About ${credits(estimate.inputTokens)} input tokens per reply. Each reply holds its worst case ` +
      "(a full-length answer) until it ends; you pay only for what it uses." +
      (this.auto ? " Auto is counted at the dearest model it could pick." : "");
    this.warning.hidden = estimate.worst <= available;
    this.warning.querySelector("[data-warning-text]").textContent =
      `Your balance can't cover this turn: it may need up to ${credits(estimate.worst)} credits and ` +
      `${credits(available)} are available. Top up, or choose fewer or cheaper models.`;
  }
}
