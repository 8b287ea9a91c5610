// The chat page: turns of side-by-side panels fed by the websocket, the composer with its attached files and
// its cost estimate, the model picker and the sidebar. The server renders the shell and the data to start from (#panels-boot).
import { api } from "panels/api";
import { promptFiles } from "panels/chat/attachment-view";
import { AttachedFiles, modelsWithoutVision, visionModels } from "panels/chat/attachments";
import { branchTo, showStepper, shownMessages, siblingsOf, versionsByPanel } from "panels/chat/branches";
import { credits } from "panels/format";
import { icon, iconButton } from "panels/icons";
import { CostEstimate, fitsModel } from "panels/chat/estimate";
import { Notices } from "panels/chat/notices";
import { Panel } from "panels/chat/panel";
import { PanelSettings } from "panels/chat/panel-settings";
import { ModelPicker } from "panels/chat/picker";
import { Presets, requestedPreset } from "panels/chat/presets";
import { installShortcuts } from "panels/chat/shortcuts";
import { ShareDialog } from "panels/chat/share";
import { Sidebar } from "panels/chat/sidebar";
import { ChatSocket } from "panels/chat/socket";
import { SystemPrompt } from "panels/chat/system-prompt";
import { showWinner, toggleWinner } from "panels/chat/winners";

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
  pending: new Map(), // request_id -> { frame, turn, version? } until turn.started (or an error) answers
  views: new Map(), // turn id -> its drawn turn, kept while another branch shows so its replies stream on
  path: [], // the drawn turns of the branch shown, first to last
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
  share.setConversation(conversationId());
  for (const link of links.querySelectorAll("a")) {
    link.href = `${urls.apiConversations}${conversationId()}/export?format=${link.dataset.format}`;
  }
}

// --- Turns and panels -----------------------------------------------------------------------------------

/** Return a drawn turn (not yet shown): its prompt (its files too) with its actions and one panel per model. */
function buildTurn({ content, models, id = null, parentId = null, attachments = [] }) {
  const element = document.createElement("section");
  element.className = "turn";
  element.setAttribute("aria-label", "Turn");
  const you = document.createElement("div");
  you.className = "prompt";
  const text = document.createElement("p");
  text.className = "prompt-text";
  text.textContent = content;
  text.hidden = !content.trim() && attachments.length > 0; // a prompt of files alone
  const body = document.createElement("div");
  body.className = "prompt-body";
  body.append(...[promptFiles(attachments), text].filter(Boolean));
  const actions = document.createElement("div");
  actions.className = "prompt-actions";
  actions.append(
    iconButton("edit", "Edit this prompt (a new branch)", "edit"),
    iconButton("copy", "Copy prompt", "copy-prompt"),
    iconButton("share", "Share this turn", "share-turn"),
  );
  const branches = document.createElement("div");
  branches.className = "branch-nav";
  branches.hidden = true;
  you.append(branches, body, actions);
  const grid = document.createElement("div");
  grid.className = "panels";
  grid.dataset.count = models.length;
  const turn = {
    id,
    parentId,
    content,
    attachments,
    element,
    prompt: you,
    grid,
    branches,
    slots: [],
    get panels() {
      return this.slots.map(shownPanel); // the version each column shows
    },
  };
  turn.slots = models.map((requested, index) => ({ versions: [newPanel(turn, requested, index)], shown: 0 }));
  grid.append(...turn.slots.map((slot) => slot.versions[0].element));
  element.append(you, grid);
  element.turn = turn;
  return turn;
}

function newPanel(turn, requested, index) {
  const panel = new Panel({ catalog, requested, index });
  panel.turn = turn;
  return panel;
}

const shownPanel = (slot) => slot.versions[slot.shown];
const turnPanels = (turn) => turn.panels;
const lastShown = () => state.path.at(-1) ?? null;

/** Return the drawn turn of a saved one, drawing it (every version of every panel) the first time. */
function viewOf(saved) {
  let turn = state.views.get(saved.id);
  if (turn) return turn;
  const panels = versionsByPanel(saved);
  turn = buildTurn({
    content: saved.content,
    models: panels.map((versions) => versions[0].requested_model),
    id: saved.id,
    parentId: saved.parent_id ?? null,
    attachments: saved.attachments,
  });
  panels.forEach((versions, index) => {
    const slot = turn.slots[index];
    const placeholder = shownPanel(slot).element;
    slot.versions = versions.map((message) => {
      const panel = newPanel(turn, message.requested_model, index);
      panel.load(message, catalog.credits_per_usd);
      state.replies.set(message.id, panel);
      return panel;
    });
    const current = versions.findIndex((message) => message.current !== false);
    slot.shown = current === -1 ? versions.length - 1 : current;
    placeholder.replaceWith(shownPanel(slot).element);
  });
  showWinner(turn, saved.winner_id);
  state.views.set(saved.id, turn);
  return turn;
}

/** Show `turns` as the branch on the page, with the arrows between branches and versions. */
function showPath(turns) {
  state.path = turns;
  turnsList.replaceChildren(emptyState, ...turns.map((turn) => turn.element));
  emptyState.hidden = turns.length > 0;
  refreshNavigation();
}

/** Show the saved branch that ends at `lastId`. */
function showBranch(lastId) {
  showPath(branchTo(state.conversation.turns, lastId).map(viewOf));
}

function savedTurn(id) {
  return state.conversation?.turns.find((turn) => turn.id === id) ?? null;
}

/** Draw "2 / 3" with arrows where the prompt has sibling branches and where a panel has versions. */
function refreshNavigation() {
  for (const turn of state.path) {
    const siblings = turn.id && state.conversation ? siblingsOf(state.conversation.turns, turn.parentId) : [];
    const at = siblings.findIndex((sibling) => sibling.id === turn.id);
    showStepper(turn.branches, { at, count: siblings.length, action: "branch", noun: "branch" });
    for (const slot of turn.slots) {
      for (const panel of slot.versions) panel.showVersions(slot.shown, slot.versions.length);
    }
  }
}

/** Show version `at` of a turn's panel `index` in its column. */
function showSlot(turn, index, at) {
  const slot = turn.slots[index];
  const before = shownPanel(slot).element;
  slot.shown = at;
  if (before !== shownPanel(slot).element) before.replaceWith(shownPanel(slot).element);
  for (const panel of slot.versions) panel.showVersions(slot.shown, slot.versions.length);
  showWinner(turn, turn.winnerId); // the mark follows the version shown
}

/** Show another version of a panel's reply, and make it the one later turns send as this panel's history. */
function stepVersion(panel, step) {
  const turn = panel.turn;
  const slot = turn.slots[panel.index];
  const at = slot.shown + step;
  if (at < 0 || at >= slot.versions.length) return;
  showSlot(turn, panel.index, at);
  const shown = shownPanel(slot);
  if (!shown.messageId) return;
  markCurrent(turn.id, panel.index, shown.messageId);
  api(urls.apiMessageShown.replace("/0/", `/${shown.messageId}/`), { method: "POST" }).catch(() =>
    toast("Could not save which version is shown; the next prompt may follow another one."),
  );
  refreshEstimate();
}

/** Record in the conversation JSON which version of a panel is current. */
function markCurrent(turnId, panelIndex, messageId) {
  for (const message of savedTurn(turnId)?.messages ?? []) {
    if (message.panel === panelIndex) message.current = message.id === messageId;
  }
}

/** Show the branch beside this turn's (the previous or next edit of its prompt), at that branch's newest turn. */
async function stepBranch(turn, step) {
  const siblings = siblingsOf(state.conversation.turns, turn.parentId);
  const target = siblings[siblings.findIndex((sibling) => sibling.id === turn.id) + step];
  if (!target) return;
  try {
    const { current_turn_id: lastId } = await api(`${urls.apiConversations}${conversationId()}/branch`, {
      method: "POST",
      body: { turn_id: target.id },
    });
    state.conversation.current_turn_id = lastId;
    showBranch(lastId);
    refreshEstimate();
  } catch (error) {
    toast(error.message || "Could not show that branch.");
  }
}

/** The conversation as the branch shown sends it: its system prompt and the versions shown (for the estimate). */
function branchShown() {
  if (!state.conversation) return null;
  const turns = state.path
    .map((turn) => (turn.id ? savedTurn(turn.id) : null))
    .filter(Boolean)
    .map((saved) => ({ ...saved, messages: shownMessages(saved) }));
  return { ...state.conversation, turns };
}

function renderConversation(conversation) {
  const lastId = conversation.current_turn_id ?? conversation.turns.at(-1)?.id;
  if (lastId) showBranch(lastId);
  turnsBox.scrollTop = turnsBox.scrollHeight;
}

function streamingPanels() {
  const pending = [...state.pending.values()].flatMap((p) => (p.version ? [p.version] : turnPanels(p.turn)));
  return [...new Set([...state.replies.values(), ...pending])].filter((panel) => panel.active);
}

function updateBusy() {
  const busy = streamingPanels().length > 0 || state.pending.size > 0;
  stopButton.hidden = !busy;
}

// --- Sending --------------------------------------------------------------------------------------------

/**
 * Send a turn after the branch shown, or (`editOf`: a drawn turn) as an edit of that turn's prompt; `files` are
 * the attached files (the server's JSON) that go with it.
 */
function send(content, models, { editOf = null, panelSettings = null, files = [] } = {}) {
  const frame = {
    type: "send",
    request_id: uuid(),
    conversation_id: conversationId(),
    models,
    content,
    attachment_ids: files.map((file) => file.id),
    // A new chat takes the system prompt kept on the page; a saved conversation has its own already.
    system_prompt: conversationId() ? null : systemPrompt.value || null,
  };
  const previousPath = state.path;
  let keep = state.path;
  if (editOf) {
    frame.edit_of_turn_id = editOf.id;
    keep = state.path.slice(0, state.path.indexOf(editOf));
  } else if (lastShown()?.id) {
    frame.after_turn_id = lastShown().id; // a turn still unanswered has no id: the server follows it anyway
  }
  frame.panel_settings = panelSettings ?? chosenSettings.forModels(models); // an edit keeps the turn's own
  const turn = buildTurn({
    content,
    models,
    parentId: editOf ? editOf.parentId : (lastShown()?.id ?? null),
    attachments: files,
  });
  attached.sending(frame.attachment_ids);
  showPath([...keep, turn]);
  state.pending.set(frame.request_id, { frame, turn, previousPath });
  stickToBottom = !editOf;
  if (!editOf) turnsBox.scrollTop = turnsBox.scrollHeight;
  alertBox.hidden = true;
  if (!socket.send(frame)) toast("Not connected; your message goes out as soon as the connection is back.");
  updateBusy();
}

/** Ask one panel again: a new version of its reply, in place (the earlier ones stay, behind the arrows). */
function regenerate(panel) {
  if (!panel.messageId) return;
  const turn = panel.turn;
  const slot = turn.slots[panel.index];
  const version = newPanel(turn, panel.requested, panel.index);
  slot.versions.push(version);
  showSlot(turn, panel.index, slot.versions.length - 1);
  const frame = { type: "regenerate", request_id: uuid(), message_id: panel.messageId };
  state.pending.set(frame.request_id, { frame, turn, version });
  alertBox.hidden = true;
  if (!socket.send(frame)) toast("Not connected; your request goes out as soon as the connection is back.");
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
  const entry = (slug) => catalog.models.find((model) => model.slug === slug);
  const chosen = picker.selected;
  const files = attached.ready;
  const fits = (slug) => fitsModel(entry(slug), content, systemPrompt.value, chosenSettings.outputLimit(slug), files);
  const tooLongFor = chosen.filter((slug) => !fits(slug));
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

/** Return the chosen models that cannot read the images attached (Auto aside: it picks one that can). */
function blindModels() {
  return attached.hasImages ? modelsWithoutVision(catalog, panelsFor(prompt.value).models) : [];
}

function showVisionWarning() {
  const blind = blindModels();
  const warning = composer.querySelector("[data-vision-warning]");
  warning.hidden = !blind.length;
  const names = new Intl.ListFormat("en", { type: "conjunction" }).format(blind.map((model) => model.name));
  warning.textContent = blind.length
    ? `${names} cannot read images: remove the image or pick a model with vision.`
    : "";
}

/** Return whether the composer's prompt can go: words or files, models, every file read, and no blind model. */
function canSend() {
  const hasPrompt = prompt.value.trim() || attached.ready.length;
  return Boolean(hasPrompt && picker.selected.length && !attached.waiting && !blindModels().length);
}

function submit() {
  const content = prompt.value;
  if (!canSend()) return;
  if (tooLong(content)) return;
  const { models } = panelsFor(content);
  send(content, models, { files: attached.ready });
  localStorage.setItem("panels:models", JSON.stringify(picker.selected));
  localStorage.setItem("panels:settings", JSON.stringify(chosenSettings.forModels(picker.selected)));
  prompt.value = "";
  composerChanged();
}

function turnStarted(frame) {
  const pending = state.pending.get(frame.request_id);
  if (!pending) return otherTabsTurn(frame);
  state.pending.delete(frame.request_id);
  if (pending.version) {
    versionStarted(pending.turn, frame, pending.version);
  } else {
    attached.sent(pending.frame.attachment_ids);
    const { turn } = pending;
    turn.id = frame.turn_id;
    turn.parentId = frame.parent_turn_id ?? null;
    state.views.set(turn.id, turn);
    if (!state.conversation || state.conversation.id !== frame.conversation_id) {
      state.conversation = {
        id: frame.conversation_id,
        title: "",
        system_prompt: pending.frame.system_prompt ?? "",
        turns: [],
      };
      history.replaceState(null, "", `${urls.chatUrl}${frame.conversation_id}/`);
      showExports();
    }
    state.conversation.models = pending.frame.models;
    state.conversation.chosen_settings = pending.frame.panel_settings;
    savedTurnStarted(frame, turn.content);
    for (const message of frame.messages) bindPanel(turnPanels(turn)[message.panel], message);
    showWinner(turn, null);
    refreshNavigation();
  }
  sidebar.upsert({
    id: frame.conversation_id,
    title: state.conversation.title,
    updated_at: new Date().toISOString(),
  });
  if (pending.stopRequested) socket.send({ type: "stop", message_id: null, turn_id: frame.turn_id });
  updateBusy();
}

function bindPanel(panel, message) {
  panel.bind(message);
  state.replies.set(message.message_id, panel);
}

/** Add a started turn to the conversation JSON, as the branch the conversation now opens on. */
function savedTurnStarted(frame, content) {
  state.conversation.turns.push({
    id: frame.turn_id,
    parent_id: frame.parent_turn_id ?? null,
    content,
    attachments: frame.attachments ?? [],
    messages: frame.messages.map((m) => ({ ...m, id: m.message_id, text: "", status: "streaming", current: true })),
  });
  state.conversation.current_turn_id = frame.turn_id;
}

/** A new version of one panel started: bind it, and make it the panel's current one in the conversation JSON. */
function versionStarted(turn, frame, version) {
  const [message] = frame.messages;
  bindPanel(version, message);
  showWinner(turn, turn.winnerId);
  const saved = savedTurn(turn.id);
  if (saved) {
    for (const earlier of saved.messages) if (earlier.panel === message.panel) earlier.current = false;
    saved.messages.push({ ...message, id: message.message_id, text: "", status: "streaming", current: true });
  }
  refreshNavigation();
}

/** A turn (or a version) another tab of this person started: show it here and follow its replies live. */
function otherTabsTurn(frame) {
  if (frame.conversation_id !== conversationId() || state.replies.has(frame.messages[0]?.message_id)) return;
  sidebar.upsert({ id: frame.conversation_id, title: state.conversation.title, updated_at: new Date().toISOString() });
  const known = state.views.get(frame.turn_id);
  if (known) {
    // A regenerated reply: a new version in its panel's column.
    const [message] = frame.messages;
    const slot = known.slots[message.panel];
    if (!slot) return;
    const version = newPanel(known, message.requested_model, message.panel);
    slot.versions.push(version);
    showSlot(known, message.panel, slot.versions.length - 1);
    versionStarted(known, frame, version);
    follow(version);
    return updateBusy();
  }
  const models = [...frame.messages].sort((a, b) => a.panel - b.panel).map((m) => m.requested_model);
  const turn = buildTurn({
    content: frame.content,
    models,
    id: frame.turn_id,
    parentId: frame.parent_turn_id,
    attachments: frame.attachments,
  });
  state.views.set(turn.id, turn);
  const onThisBranch = (frame.parent_turn_id ?? null) === (lastShown()?.id ?? null) && !state.pending.size;
  savedTurnStarted(frame, frame.content);
  for (const message of frame.messages) bindPanel(turnPanels(turn)[message.panel], message);
  showWinner(turn, null);
  if (onThisBranch) {
    showPath([...state.path, turn]);
    stickToBottom = true;
  } else {
    refreshNavigation(); // the prompt it forks from shows one more branch
  }
  for (const panel of turnPanels(turn)) follow(panel);
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
  if (pending.version) {
    const { turn, version } = pending;
    const slot = turn.slots[version.index];
    const at = slot.versions.indexOf(version);
    if (slot.shown === at) showSlot(turn, version.index, at - 1); // back to the version it was asked from
    slot.versions.splice(at, 1);
    if (slot.shown > at) slot.shown -= 1;
    refreshNavigation();
  } else {
    showPath(pending.previousPath.filter((turn) => turn !== pending.turn));
    if (!prompt.value.trim()) prompt.value = pending.frame.content; // nothing typed is lost
    attached.notSent(pending.frame.attachment_ids); // nor anything attached
    composerChanged();
  }
  showAlert(frame.detail, { walletLink: WALLET_LINKS[frame.code] });
  updateBusy();
}

async function messageDone(frame) {
  const panel = state.replies.get(frame.message_id);
  if (!panel) return;
  const saved = savedTurn(panel.turn.id)?.messages.find((m) => m.id === frame.message_id);
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

/** Follow a reply another tab started, from its first piece. */
function follow(panel) {
  panel.lastSeq = 0;
  subscribe(panel);
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
      return regenerate(panel);
    case "version-previous":
      return stepVersion(panel, -1);
    case "version-next":
      return stepVersion(panel, 1);
    case "branch-previous":
      return stepBranch(turn, -1);
    case "branch-next":
      return stepBranch(turn, 1);
    case "edit-send":
      return sendEdit(turn);
    case "edit-cancel":
      return closeEditor(turn);
    case "continue": {
      const slug = picker.available(panel.model) ? panel.model : panel.requested;
      picker.select([slug]);
      composerChanged();
      toast(`Next prompts go to ${catalog.models.find((m) => m.slug === slug)?.name ?? slug} only.`);
      return prompt.focus();
    }
    case "edit":
      return openEditor(turn);
    case "copy-prompt":
      return copyText(turn.content, button);
    case "share-turn":
      return turn.id && share.open({ turnId: turn.id });
    case "best":
      return toggleWinner(turn, panel, urls.apiTurnWinner).catch((error) => toast(error.message));
  }
});

// --- Editing an earlier prompt: a new branch beside it --------------------------------------------------

function openEditor(turn) {
  if (!turn.id) return toast("This prompt is still being sent; edit it once it has started.");
  if (turn.editor) return turn.editor.querySelector("textarea").focus();
  const editor = document.createElement("div");
  editor.className = "prompt-editor";
  const field = document.createElement("textarea");
  field.value = turn.content;
  field.rows = Math.min(12, turn.content.split("\n").length + 1);
  field.setAttribute("aria-label", "Edit the prompt");
  const save = document.createElement("button");
  save.type = "button";
  save.dataset.action = "edit-send";
  save.textContent = "Send as a new branch";
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "ghost";
  cancel.dataset.action = "edit-cancel";
  cancel.textContent = "Cancel";
  const buttons = document.createElement("div");
  buttons.className = "prompt-editor-actions";
  buttons.append(cancel, save);
  editor.append(field);
  if (turn.attachments?.length) {
    // Files belong to the prompt they were sent with; the new branch is sent the words alone.
    const note = document.createElement("p");
    note.className = "muted small";
    note.textContent = "The files stay with the original prompt: attach them again to send them with this one.";
    editor.append(note);
  }
  editor.append(buttons);
  field.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendEdit(turn);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      closeEditor(turn);
    }
  });
  turn.editor = editor;
  turn.prompt.hidden = true;
  turn.prompt.after(editor);
  field.focus();
  field.setSelectionRange(field.value.length, field.value.length);
}

function closeEditor(turn) {
  turn.editor?.remove();
  turn.editor = null;
  turn.prompt.hidden = false;
}

function sendEdit(turn) {
  const content = turn.editor?.querySelector("textarea").value ?? "";
  if (!content.trim() || tooLong(content)) return;
  const panels = turnPanels(turn);
  const saved = shownMessages(savedTurn(turn.id) ?? { messages: [] });
  const settings = saved.map((m) => ({ temperature: m.temperature ?? null, max_output_tokens: m.max_output_tokens ?? null }));
  closeEditor(turn);
  send(content, panels.map((panel) => panel.requested), {
    editOf: turn,
    panelSettings: settings.length === panels.length ? settings : null,
  });
}

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
      conversation: branchShown() ?? { system_prompt: systemPrompt.value, turns: [] },
      available: available(),
      outputLimit: (slug) => chosenSettings.outputLimit(slug),
      files: attached.ready,
      visionModels: visionModels(catalog),
    });
  }, 250);
}

function composerChanged() {
  showVisionWarning();
  sendButton.disabled = !canSend();
  refreshEstimate();
}

const attached = new AttachedFiles({
  list: composer.querySelector("[data-attachments]"),
  input: composer.querySelector("[data-file-input]"),
  opener: composer.querySelector("[data-attach]"),
  dropZone: composer,
  textarea: prompt,
  uploadUrl: urls.apiAttachments,
  maxFiles: Number(urls.attachmentsPerPrompt),
  notify: toast,
  onChange: () => composerChanged(),
});

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
  describe: (slug) => chosenSettings.describe(slug),
});

const chosenSettings = new PanelSettings({
  dialog: document.getElementById("panel-settings"),
  opener: composer.querySelector("[data-open-panel-settings]"),
  catalog,
  models: () => picker.selected,
  onChange() {
    picker.renderSummary(picker.selected);
    composerChanged();
  },
});

const systemPrompt = new SystemPrompt({
  element: $("[data-system-prompt]"),
  apiUrl: urls.apiConversations,
  conversationId,
  onChange(text) {
    if (state.conversation) state.conversation.system_prompt = text;
    refreshEstimate();
  },
});

const share = new ShareDialog({ dialog: document.getElementById("share-dialog"), opener: $("[data-share]") });

// --- Sidebar --------------------------------------------------------------------------------------------

const sidebar = new Sidebar({
  root: document.getElementById("sidebar"),
  apiUrl: urls.apiConversations,
  chatUrl: urls.chatUrl,
  currentId: conversationId(),
  onDeleted(id) {
    if (id === conversationId()) location.assign(urls.chatUrl);
  },
  notify: toast,
});
document.addEventListener("panels:renamed", ({ detail }) => {
  if (detail.id === conversationId()) showTitle(detail.title);
});
$("[data-toggle-sidebar]").addEventListener("click", () => root.classList.toggle("sidebar-open"));
$("[data-sidebar-scrim]").addEventListener("click", () => root.classList.remove("sidebar-open"));
installShortcuts({ root, prompt, newChatUrl: urls.chatUrl });

// --- Start ----------------------------------------------------------------------------------------------

new Presets({
  root: document.getElementById("presets"),
  dialog: document.getElementById("save-preset"),
  apiUrl: urls.apiPresets,
  chatUrl: urls.chatUrl,
  presets: boot.presets,
  catalog,
  onError: toast,
  current: () => ({
    system_prompt: systemPrompt.value,
    models: picker.selected,
    panel_settings: chosenSettings.forModels(picker.selected),
  }),
});

function stored(key) {
  try {
    return JSON.parse(localStorage.getItem(key));
  } catch {
    return null;
  }
}

/** Start from a preset the URL names (a new chat only), else the conversation's or the last chosen settings. */
function initialChoice() {
  const preset = state.conversation ? null : requestedPreset(boot.presets);
  if (preset) {
    systemPrompt.show(preset.system_prompt);
    return { models: preset.models, settings: preset.panel_settings };
  }
  systemPrompt.show(state.conversation?.system_prompt ?? "");
  const models = initialModels();
  const remembered = state.conversation?.models?.length ? state.conversation.chosen_settings : null;
  const storedModels = stored("panels:models");
  const storedSettings = stored("panels:settings");
  const aligned = (slugs, settings) =>
    Array.isArray(settings) ? models.map((slug) => settings[slugs.indexOf(slug)] ?? null) : [];
  const settings = remembered
    ? aligned(state.conversation.models, remembered)
    : aligned(Array.isArray(storedModels) ? storedModels : [], storedSettings);
  return { models, settings };
}

function initialModels() {
  const remembered = state.conversation?.models?.length ? state.conversation.models : null;
  const last = stored("panels:models");
  const fallback = catalog.models.filter((m) => m.available && m.slug !== "auto").slice(0, 2);
  for (const choice of [remembered, last, fallback.map((m) => m.slug)]) {
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
const initial = initialChoice();
chosenSettings.apply(initial.models, initial.settings);
picker.select(initial.models);
composerChanged();
showWallet(state.wallet);
updateBusy();
sidebar.load().catch(() => toast("Could not load your conversations."));
socket.connect();
root.dataset.ready = "true";
