// The chat page: turns of side-by-side panels fed by the websocket, the composer with its cost estimate,
// the model picker and the sidebar. The server renders the shell and the data to start from (#panels-boot).
import { api } from "panels/api";
import { credits } from "panels/format";
import { icon, iconButton } from "panels/icons";
import { CostEstimate, fitsModel } from "panels/chat/estimate";
import { Notices } from "panels/chat/notices";
import { Panel } from "panels/chat/panel";
import { ModelPicker } from "panels/chat/picker";
import { Sidebar } from "panels/chat/sidebar";
import { ChatSocket } from "panels/chat/socket";

const BUSY_RETRIES = 3; // times a turn refused as `busy` is sent again before the refusal is shown

const boot = JSON.parse(document.getElementById("panels-boot").textContent);
const root = document.getElementById("chat");
const urls = root.dataset;
const catalog = boot.catalog;
const $ = (selector) => root.querySelector(selector);

const state = {
  conversation: boot.conversation, // the JSON of GET /api/conversations/<id>/, kept current for estimates
  wallet: boot.wallet,
  replies: new Map(), // message_id -> Panel
  pending: new Map(), // request_id -> { frame, turn } until turn.started (or an error) answers
};
const conversationId = () => state.conversation?.id ?? null;
const available = () => state.wallet.balance_credits - state.wallet.held_credits;

const turnsBox = $("[data-turns]");
const turnsList = $("[data-turn-list]");
const emptyState = $("[data-empty-state]");
const composer = $("[data-composer]");
const prompt = composer.querySelector("textarea");
const sendButton = composer.querySelector("[data-send]");
const stopButton = composer.querySelector("[data-stop-all]");
const alertBox = composer.querySelector("[data-composer-alert]");
const connection = $("[data-connection-banner]");
const notices = new Notices(composer.querySelector("[data-notices]"), { onClosed: () => prompt.focus() });

// --- Small page helpers ---------------------------------------------------------------------------------

const toast = (message) => notices.show(message);

// What a refused turn's alert offers, by error code. A wallet on hold is not fixed by a top-up while a payment
// is disputed: its wallet page says why it is on hold and what lifts it.
const WALLET_LINKS = {
  insufficient_credits: "Top up your wallet",
  wallet_restricted: "See on your wallet page what you can do",
};

function showAlert(message, { walletLink = null } = {}) {
  alertBox.replaceChildren(message);
  if (walletLink) {
    const link = document.createElement("a");
    link.href = urls.walletUrl;
    link.textContent = walletLink;
    alertBox.append(" ", link);
  }
  alertBox.hidden = false;
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    toast("Copying needs clipboard permission; select the text instead.");
    return;
  }
  if (!button) return toast("Copied.");
  const original = [...button.childNodes];
  button.replaceChildren(button.dataset.copyCode === undefined ? icon("check") : "Copied");
  setTimeout(() => button.replaceChildren(...original), 1500);
}

const uuid = () =>
  crypto.randomUUID?.() ??
  "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
    (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16),
  );

// Follow the newest text while the reader is at the bottom; leave them be once they scroll up.
let stickToBottom = true;
turnsBox.addEventListener("scroll", () => {
  stickToBottom = turnsBox.scrollHeight - turnsBox.scrollTop - turnsBox.clientHeight < 80;
});
const followBottom = new ResizeObserver(() => {
  if (stickToBottom) turnsBox.scrollTop = turnsBox.scrollHeight;
});
followBottom.observe(turnsList);
followBottom.observe(turnsBox); // it shrinks when a notice or an alert appears above the composer

// --- Header balance, title ------------------------------------------------------------------------------

function showWallet(wallet) {
  state.wallet = wallet;
  for (const node of document.querySelectorAll("[data-balance]")) node.textContent = credits(wallet.balance_credits);
  refreshEstimate();
}

function showTitle(title) {
  $("[data-conversation-title]").textContent = title || "New conversation";
  document.title = `${title || "Chat"} · Panels`;
}

function showExports() {
  const links = $("[data-exports]");
  links.hidden = !conversationId();
  for (const link of links.querySelectorAll("a")) {
    link.href = `${urls.apiConversations}${conversationId()}/export?format=${link.dataset.format}`;
  }
}

// --- Turns and panels -----------------------------------------------------------------------------------

function addTurn({ content, models, id = null }) {
  const element = document.createElement("section");
  element.className = "turn";
  element.setAttribute("aria-label", "Turn");
  const you = document.createElement("div");
  you.className = "prompt";
  const text = document.createElement("p");
  text.className = "prompt-text";
  text.textContent = content;
  const actions = document.createElement("div");
  actions.className = "prompt-actions";
  actions.append(iconButton("edit", "Edit and resend", "edit"), iconButton("copy", "Copy prompt", "copy-prompt"));
  you.append(text, actions);
  const grid = document.createElement("div");
  grid.className = "panels";
  grid.dataset.count = models.length;
  const panels = models.map((requested, index) => new Panel({ catalog, requested, index }));
  grid.append(...panels.map((panel) => panel.element));
  element.append(you, grid);
  const turn = { id, content, element, panels };
  element.turn = turn;
  for (const panel of panels) panel.turn = turn;
  turnsList.append(element);
  emptyState.hidden = true;
  return turn;
}

function renderConversation(conversation) {
  for (const saved of conversation.turns) {
    const models = saved.messages.map((message) => message.requested_model);
    const turn = addTurn({ content: saved.content, models, id: saved.id });
    saved.messages.forEach((message, index) => {
      const panel = turn.panels[index];
      panel.load(message, catalog.credits_per_usd);
      state.replies.set(message.id, panel);
    });
  }
  turnsBox.scrollTop = turnsBox.scrollHeight;
}

function streamingPanels() {
  return [...state.replies.values()].filter((panel) => panel.active);
}

function updateBusy() {
  const busy = streamingPanels().length > 0 || state.pending.size > 0;
  stopButton.hidden = !busy;
}

// --- Sending --------------------------------------------------------------------------------------------

/** Send a turn; `regenerate` asks one panel of an earlier turn again, which leaves the remembered models be. */
function send(content, models, { regenerate = false } = {}) {
  const frame = {
    type: "send",
    request_id: uuid(),
    conversation_id: conversationId(),
    models,
    content,
    regenerate,
  };
  const turn = addTurn({ content, models });
  state.pending.set(frame.request_id, { frame, turn });
  stickToBottom = true;
  turnsBox.scrollTop = turnsBox.scrollHeight;
  alertBox.hidden = true;
  if (!socket.send(frame)) toast("Not connected; your message goes out as soon as the connection is back.");
  updateBusy();
}

// The server refuses a prompt over the protocol's limits (characters as code points, and the frame's UTF-8
// size): say so here instead of sending it, and keep the prompt to be shortened.
function tooLong(content) {
  const { prompt_characters: maxCharacters, frame_bytes: maxBytes } = boot.limits;
  let characters = 0;
  for (const _ of content) characters += 1; // code points, as the server counts: an emoji is one
  const bytes = new TextEncoder().encode(content).length;
  if (characters <= maxCharacters && bytes <= maxBytes - 1024) return false; // 1 KiB for the frame's fields
  showAlert(
    `This prompt is too long to send (${characters.toLocaleString()} characters): a prompt may have ` +
      `${maxCharacters.toLocaleString()}. Shorten it or split it over several turns.`,
  );
  return true;
}

/**
 * Return the chosen models `content` fits, and those it is too long for. The page leaves the latter out of the
 * turn (nothing is held for them); when it fits none, all go, and the server refuses the turn saying why.
 */
function panelsFor(content) {
  const systemPrompt = state.conversation?.system_prompt ?? "";
  const entry = (slug) => catalog.models.find((model) => model.slug === slug);
  const chosen = picker.selected;
  const tooLongFor = chosen.filter((slug) => !fitsModel(entry(slug), content, systemPrompt));
  const fitting = chosen.filter((slug) => !tooLongFor.includes(slug));
  return fitting.length ? { models: fitting, skipped: tooLongFor } : { models: chosen, skipped: [] };
}

function showSkipped(content) {
  const { models, skipped } = panelsFor(content);
  picker.markTooLong(skipped);
  const warning = composer.querySelector("[data-too-long]");
  warning.hidden = !skipped.length;
  if (!skipped.length) return;
  const names = (slugs) => slugs.map((slug) => catalog.models.find((m) => m.slug === slug)?.name ?? slug).join(", ");
  warning.textContent =
    `This prompt is too long for ${names(skipped)}: ${skipped.length === 1 ? "it" : "they"} will be skipped. ` +
    `Send goes to ${models.length === 1 ? names(models) : `the ${models.length} that fit`}.`;
}

function submit() {
  const content = prompt.value;
  if (!content.trim() || !picker.selected.length) return;
  if (tooLong(content)) return;
  const { models } = panelsFor(content);
  send(content, models);
  localStorage.setItem("panels:models", JSON.stringify(picker.selected));
  prompt.value = "";
  composerChanged();
}

function turnStarted(frame) {
  const pending = state.pending.get(frame.request_id);
  if (!pending) return; // another tab's turn, or an answer we already had
  state.pending.delete(frame.request_id);
  const { turn } = pending;
  turn.id = frame.turn_id;
  if (!state.conversation || state.conversation.id !== frame.conversation_id) {
    state.conversation = { id: frame.conversation_id, title: "", system_prompt: "", turns: [] };
    history.replaceState(null, "", `${urls.chatUrl}${frame.conversation_id}/`);
    showExports();
  }
  sidebar.upsert({
    id: frame.conversation_id,
    title: state.conversation.title,
    updated_at: new Date().toISOString(),
  });
  if (!pending.frame.regenerate) state.conversation.models = pending.frame.models;
  state.conversation.turns.push({
    id: frame.turn_id,
    content: turn.content,
    messages: frame.messages.map((m) => ({ ...m, id: m.message_id, text: "", status: "streaming" })),
  });
  for (const message of frame.messages) {
    const panel = turn.panels[message.panel];
    panel.bind(message);
    state.replies.set(message.message_id, panel);
  }
  if (pending.stopRequested) socket.send({ type: "stop", message_id: null, turn_id: frame.turn_id });
  updateBusy();
}

/** Send a turn the server was too busy for again after `retry_after` seconds, a few times; false when given up.
 * The same request_id goes out, so the server starts the turn at most once. */
function sendAgainLater(pending, frame) {
  pending.busyRefusals = (pending.busyRefusals || 0) + 1;
  if (!frame.retry_after || pending.busyRefusals > BUSY_RETRIES) return false;
  toast(`The server is busy; your message goes out again in ${frame.retry_after} s.`);
  setTimeout(() => {
    if (state.pending.get(frame.request_id) === pending) socket.send(pending.frame);
  }, frame.retry_after * 1000);
  return true;
}

function turnRefused(pending, frame) {
  state.pending.delete(frame.request_id);
  pending.turn.element.remove();
  emptyState.hidden = turnsList.childElementCount > 0;
  if (!prompt.value.trim()) prompt.value = pending.frame.content; // nothing typed is lost
  composerChanged();
  showAlert(frame.detail, { walletLink: WALLET_LINKS[frame.code] });
  updateBusy();
}

async function messageDone(frame) {
  const panel = state.replies.get(frame.message_id);
  if (!panel) return;
  const savedTurn = state.conversation?.turns.find((t) => t.id === panel.turn.id);
  const saved = savedTurn?.messages.find((m) => m.id === frame.message_id);
  let text = panel.markdown.text;
  if (panel.awaitingStart && frame.status !== "error") {
    // It ended while the socket was away: its deltas are gone from the stream, so read the saved text.
    const conversation = await api(`${urls.apiConversations}${conversationId()}/`).catch(() => null);
    const message = conversation?.turns.flatMap((t) => t.messages).find((m) => m.id === frame.message_id);
    if (message) text = message.text;
  }
  panel.awaitingStart = false;
  panel.done(frame, catalog.credits_per_usd, text);
  if (saved) Object.assign(saved, { text, status: frame.status });
  updateBusy();
  refreshEstimate();
}

function subscribe(panel) {
  panel.awaitingStart = true;
  socket.send({
    type: "subscribe",
    conversation_id: conversationId(),
    after_seq: panel.lastSeq,
    message_id: panel.messageId,
  });
}

function onFrame(frame) {
  switch (frame.type) {
    case "turn.started":
      return turnStarted(frame);
    case "message.started": {
      const panel = state.replies.get(frame.message_id);
      if (panel) panel.awaitingStart = false;
      return;
    }
    case "message.delta": {
      const panel = state.replies.get(frame.message_id);
      if (panel && panel.delta(frame) === "gap") subscribe(panel); // ask again from the last seq we have
      return;
    }
    case "message.done":
      return messageDone(frame);
    case "wallet":
      return showWallet({ balance_credits: frame.balance_credits, held_credits: frame.held_credits });
    case "conversation.updated":
      if (frame.conversation_id === conversationId()) {
        state.conversation.title = frame.title;
        showTitle(frame.title);
      }
      return sidebar.setTitle(frame.conversation_id, frame.title);
    case "error": {
      const pending = state.pending.get(frame.request_id);
      if (pending && frame.code === "busy" && sendAgainLater(pending, frame)) return;
      if (pending) return turnRefused(pending, frame);
      return toast(frame.detail);
    }
  }
}

const socket = new ChatSocket({
  onFrame,
  onOpen(reconnected) {
    connection.hidden = true;
    root.dataset.connection = "open";
    if (reconnected) toast("Reconnected.");
    // Resume every reply still streaming from the last piece shown: no gap, no duplicate.
    for (const panel of streamingPanels()) if (panel.messageId) subscribe(panel);
    // A send whose answer never came is sent again; the server starts it once per request_id.
    for (const { frame } of state.pending.values()) socket.send(frame);
  },
  onDown() {
    connection.hidden = false;
    root.dataset.connection = "down";
  },
});

// --- Panel and prompt actions ---------------------------------------------------------------------------

function stopAll() {
  const turns = new Set(streamingPanels().map((panel) => panel.turn.id).filter(Boolean));
  for (const turnId of turns) socket.send({ type: "stop", message_id: null, turn_id: turnId });
  for (const pending of state.pending.values()) pending.stopRequested = true;
}

turnsList.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  if (button.dataset.copyCode !== undefined) {
    return copyText(button.closest(".code-block").querySelector("pre").textContent, button);
  }
  const turn = button.closest(".turn")?.turn;
  const panel = button.closest(".panel")?.panel;
  switch (button.dataset.action) {
    case "stop":
      if (panel.messageId) socket.send({ type: "stop", message_id: panel.messageId, turn_id: null });
      return;
    case "copy":
      return copyText(panel.markdown.text, button);
    case "regenerate":
      return send(turn.content, [panel.requested], { regenerate: true });
    case "continue": {
      const slug = picker.available(panel.model) ? panel.model : panel.requested;
      picker.select([slug]);
      composerChanged();
      toast(`Next prompts go to ${catalog.models.find((m) => m.slug === slug)?.name ?? slug} only.`);
      return prompt.focus();
    }
    case "edit":
      prompt.value = turn.content;
      composerChanged();
      prompt.focus();
      return prompt.setSelectionRange(prompt.value.length, prompt.value.length);
    case "copy-prompt":
      return copyText(turn.content, button);
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || event.defaultPrevented || document.querySelector("dialog[open]")) return;
  if (streamingPanels().length || state.pending.size) {
    event.preventDefault();
    stopAll();
  } else if (root.classList.contains("sidebar-open")) {
    root.classList.remove("sidebar-open");
  }
});

// --- Composer -------------------------------------------------------------------------------------------

const estimate = new CostEstimate({
  element: composer.querySelector("[data-estimate]"),
  warning: composer.querySelector("[data-estimate-warning]"),
  estimateUrl: urls.apiEstimate,
  routeUrl: urls.apiRoute,
  autoCeiling: boot.auto_ceiling_credits,
  catalog,
});

let estimateTimer;
function refreshEstimate() {
  clearTimeout(estimateTimer);
  estimateTimer = setTimeout(() => {
    showSkipped(prompt.value);
    estimate.update({
      models: panelsFor(prompt.value).models,
      content: prompt.value,
      conversation: state.conversation,
      available: available(),
    });
  }, 250);
}

function composerChanged() {
  sendButton.disabled = !prompt.value.trim() || !picker.selected.length;
  refreshEstimate();
}

prompt.addEventListener("input", composerChanged);
prompt.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    submit();
  }
});
composer.addEventListener("submit", (event) => {
  event.preventDefault();
  submit();
});
stopButton.addEventListener("click", stopAll);
for (const suggestion of root.querySelectorAll("[data-suggestion]")) {
  suggestion.addEventListener("click", () => {
    prompt.value = suggestion.textContent.trim();
    composerChanged();
    prompt.focus();
  });
}

const picker = new ModelPicker({
  dialog: document.getElementById("model-picker"),
  opener: composer.querySelector("[data-open-picker]"),
  summary: composer.querySelector("[data-picker-summary]"),
  catalog,
  onChange: composerChanged,
});

// --- Sidebar --------------------------------------------------------------------------------------------

const sidebar = new Sidebar({
  root: document.getElementById("sidebar"),
  apiUrl: urls.apiConversations,
  chatUrl: urls.chatUrl,
  currentId: conversationId(),
  onDeleted(id) {
    if (id === conversationId()) location.assign(urls.chatUrl);
  },
});
document.addEventListener("panels:renamed", ({ detail }) => {
  if (detail.id === conversationId()) showTitle(detail.title);
});
$("[data-toggle-sidebar]").addEventListener("click", () => root.classList.toggle("sidebar-open"));
$("[data-sidebar-scrim]").addEventListener("click", () => root.classList.remove("sidebar-open"));

// --- Start ----------------------------------------------------------------------------------------------

function initialModels() {
  const remembered = state.conversation?.models?.length ? state.conversation.models : null;
  let stored = null;
  try {
    stored = JSON.parse(localStorage.getItem("panels:models"));
  } catch {
    stored = null;
  }
  const fallback = catalog.models.filter((m) => m.available && m.slug !== "auto").slice(0, 2);
  for (const choice of [remembered, stored, fallback.map((m) => m.slug)]) {
    if (Array.isArray(choice) && choice.some((slug) => picker.available(slug))) return choice;
  }
  return [];
}

// The account's messages (signed in, email sent, ...) come with the page; they leave like any notice.
for (const message of document.querySelector("[data-page-messages]")?.content.children ?? []) {
  toast(message.textContent.trim());
}
if (state.conversation) {
  showTitle(state.conversation.title);
  renderConversation(state.conversation);
}
showExports();
picker.select(initialModels());
composerChanged();
showWallet(state.wallet);
updateBusy();
sidebar.load().catch(() => toast("Could not load your conversations."));
socket.connect();
root.dataset.ready = "true";
