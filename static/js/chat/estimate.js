// What the next turn may cost, shown before sending. The server holds each reply's worst case (its input
// plus a full reply budget) and refuses a turn the wallet cannot cover, so the composer shows that same
// figure, from /api/estimate (the server's own arithmetic), next to the available balance. An Auto panel holds
// for the model Auto picks, so it is priced at the model /api/route picks for this prompt, its history and the
// person's price ceiling: the same routing table and rules the turn will use. Attached files add to each
// panel's input what the server says they cost its model (`tokens` of /api/attachments/<id>/).
import { api, ApiError } from "panels/api";
import { credits, usdOfCredits } from "panels/format";

const MESSAGE_OVERHEAD_TOKENS = 4; // as chat/tokens.py counts a message
const TYPICAL_REPLY_TOKENS = 500;

// A run of letters, up to 3 digits, an ASCII punctuation mark or symbol, or a line break: a token each at least.
const PIECE = /[A-Za-z]+|[0-9]{1,3}|[!-/:-@[-`{-~]|\n/g;

/**
 * Estimate tokens as the server does before a call (chat/tokens.py): leaning high, never billed. The larger of a
 * token per 3 ASCII characters and a token per piece (dense text: CSV, JSON), plus one per other character.
 */
export function estimateTokens(text) {
  let ascii = 0;
  let other = 0;
  for (const char of text) {
    if (char.codePointAt(0) > 127) other += 1;
    else ascii += 1;
  }
  const pieces = text.match(PIECE)?.length ?? 0;
  return Math.max(Math.ceil(ascii / 3), pieces) + other;
}

const messageTokens = (texts) => texts.reduce((sum, text) => sum + estimateTokens(text) + MESSAGE_OVERHEAD_TOKENS, 0);

/**
 * Return the input tokens of a new prompt for the model `slug`: its words and its files (server JSON, each with
 * its `tokens` per model), as chat/attachments/prompt.py counts them: the words, plus each file's own count.
 */
export function promptTokens(content, files, slug) {
  const fileTokens = files.reduce((sum, file) => sum + (file.tokens?.[slug] ?? 0), 0);
  return messageTokens([content]) + fileTokens;
}

/** Return the tokens of the files' text alone, which Auto counts with the history before it knows the model. */
export function filesTextTokens(files) {
  const textTokens = (file) => Math.max(0, ...Object.values(file.tokens ?? {}).filter(Number.isInteger));
  return files.filter((file) => file.kind !== "image").reduce((sum, file) => sum + textTokens(file), 0);
}

/**
 * Return whether `content` with its `files` (after the conversation's system prompt) fits `model`'s window beside
 * a full reply (of at most `outputLimit` tokens, if set), as chat/budget.py decides before a call (older turns are
 * dropped to fit; the prompt itself cannot be). Auto picks a model the prompt fits, so it always fits here.
 */
export function fitsModel(model, content, systemPrompt, outputLimit = null, files = []) {
  if (!model?.context_window) return true;
  const fixed = (systemPrompt ? messageTokens([systemPrompt]) : 0) + promptTokens(content, files, model.slug);
  return fixed <= model.context_window - Math.min(model.reply_budget_tokens, outputLimit ?? Infinity);
}

/**
 * Return the tokens a panel sends before the new prompt: the system prompt, then each earlier turn's prompt and
 * this thread's reply, as chat/selectors.py threads_for pairs them. An earlier prompt's files count what they
 * added for the reply's model (`attachment_tokens`).
 */
export function historyTokens(conversation, model, panel) {
  const texts = conversation?.system_prompt ? [conversation.system_prompt] : [];
  let fileTokens = 0;
  for (const turn of conversation?.turns ?? []) {
    const replies = turn.messages.filter((message) => message.text && message.status !== "streaming");
    const chosen = replies.find((m) => m.model === model) ?? replies.find((m) => m.panel === panel);
    if (!chosen) continue;
    texts.push(turn.content, chosen.text);
    fileTokens += chosen.attachment_tokens ?? 0;
  }
  return messageTokens(texts) + fileTokens;
}

export class CostEstimate {
  constructor({ element, warning, estimateUrl, routeUrl, autoCeiling, catalog }) {
    this.element = element;
    this.warning = warning;
    this.estimateUrl = estimateUrl;
    this.routeUrl = routeUrl;
    this.autoCeiling = autoCeiling ?? null;
    this.catalog = catalog;
    this.cache = new Map();
    this.routes = new Map();
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

  /**
   * Return the slug of the model Auto would pick for `content` after `historyTokens` of history, among
   * `candidates` (null: every model).
   */
  async routed(content, historyTokens, candidates = null) {
    // /api/route refuses a blank prompt, which a turn of files alone has: "." is classified as the same plain
    // chat, and its one token more is taken off the history, so the router weighs the same input.
    const blank = !content.trim();
    const body = {
      prompt: blank ? "." : content,
      history_tokens: blank ? Math.max(0, historyTokens - 1) : historyTokens,
    };
    if (candidates) body.models = candidates;
    if (this.autoCeiling) body.ceiling_credits = this.autoCeiling;
    const key = JSON.stringify(body);
    if (!this.routes.has(key)) {
      const asked = api(this.routeUrl, { method: "POST", body }).then((route) => route.model);
      asked.catch(() => this.routes.delete(key)); // ask again next time, rather than remember a failure
      this.routes.set(key, asked);
    }
    return this.routes.get(key);
  }

  /**
   * Show the worst case and a typical cost of sending `content` to `models`, against `available` credits.
   * `outputLimit(slug)` is a panel's max output tokens (null: the model's reply budget), as the hold uses it.
   * `files` are the attached files ready to send; with an image, Auto chooses among the `visionModels` slugs.
   */
  async update({ models, content, conversation, available, outputLimit = () => null, files = [], visionModels = [] }) {
    const generation = ++this.generation;
    if (!models.length || (!content.trim() && !files.length)) {
      this.show(null, available);
      return;
    }
    let worst = 0;
    let typical = 0;
    let inputTokens = 0;
    const autoPicks = [];
    try {
      for (const [panel, slug] of models.entries()) {
        const history = historyTokens(conversation, slug, panel);
        // Auto holds for the model it picks, which the router names for this prompt (and the ceiling), and
        // counts the files' text with the history, as chat/services.py choose_panels asks it.
        const candidates = files.some((file) => file.kind === "image") ? visionModels : null;
        const model = this.entry(
          slug === "auto" ? await this.routed(content, history + filesTextTokens(files), candidates) : slug,
        );
        if (slug === "auto") autoPicks.push(model);
        const input = history + promptTokens(content, files, model.slug);
        inputTokens = Math.max(inputTokens, input);
        const replyTokens = Math.min(model.reply_budget_tokens, outputLimit(slug) ?? Infinity);
        const rows = await this.rows(input, replyTokens);
        worst += rows.find((row) => row.slug === model.slug)?.credits ?? 0;
        // A rough typical figure: per-1M prices, a 500-token reply (or shorter, if limited).
        const typicalReply = Math.min(TYPICAL_REPLY_TOKENS, replyTokens);
        typical += Math.ceil((input * model.input_credits_per_m + typicalReply * model.output_credits_per_m) / 1e6);
      }
    } catch (error) {
      if (generation !== this.generation) return;
      // 422: no model can take this prompt for Auto (too long, none available, none within the ceiling).
      const refused = error instanceof ApiError && error.status === 422;
      this.element.textContent = refused ? `Auto: ${error.message}` : "Cost estimate unavailable right now.";
      return;
    }
    if (generation !== this.generation) return; // a newer keystroke already asked again
    this.show({ worst, typical, inputTokens, autoPicks }, available);
  }

  show(estimate, available) {
    const perUsd = this.catalog.credits_per_usd;
    this.element.dataset.worstCredits = estimate?.worst ?? "";
    this.element.dataset.inputTokens = estimate?.inputTokens ?? "";
    this.element.dataset.autoModels = estimate?.autoPicks.map((m) => m.slug).join(",") ?? "";
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
      (estimate.autoPicks.length
        ? ` Auto is counted at ${[...new Set(estimate.autoPicks.map((m) => m.name))].join(", ")}, the model it picks for this prompt.`
        : "");
    this.warning.hidden = estimate.worst <= available;
    this.warning.querySelector("[data-warning-text]").textContent =
      `Your balance can't cover this turn: it may need up to ${credits(estimate.worst)} credits and ` +
      `${credits(available)} are available. Top up, or choose fewer or cheaper models.`;
  }
}
