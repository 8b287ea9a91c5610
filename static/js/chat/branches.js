// A conversation is a tree of turns (each names its parent_id) and a panel keeps versions of its reply: these
// read the conversation JSON (GET /api/conversations/<id>/) to find the branch to show and its neighbours, and
// draw the "‹ 2 / 3 ›" arrows that step between branches and between versions.
import { iconButton } from "panels/icons";

/** Return the saved turns of the branch that ends at `lastId`, first to last. */
export function branchTo(turns, lastId) {
  const byId = new Map(turns.map((turn) => [turn.id, turn]));
  const path = [];
  for (let turn = byId.get(lastId); turn && path.length <= turns.length; turn = byId.get(turn.parent_id)) {
    path.unshift(turn);
  }
  return path;
}

/** Return the turns that follow the same turn as `parentId` (the branches at that point), oldest first. */
export function siblingsOf(turns, parentId) {
  return turns.filter((turn) => (turn.parent_id ?? null) === (parentId ?? null)).sort((a, b) => a.id - b.id);
}

/** Return a saved turn's replies grouped by panel, each panel's versions in order. */
export function versionsByPanel(turn) {
  const panels = [];
  for (const message of [...turn.messages].sort((a, b) => a.panel - b.panel || (a.version ?? 1) - (b.version ?? 1))) {
    (panels[message.panel] ??= []).push(message);
  }
  return panels.filter(Boolean);
}

/** Return the versions each panel shows (the current one, else the newest). */
export function shownMessages(turn) {
  return versionsByPanel(turn).map((versions) => versions.find((m) => m.current !== false) ?? versions.at(-1));
}

/** Fill `element` with "‹ 2 / 3 ›" (`at` counts from 0) and `<action>-previous`/`-next` buttons; hide it for one. */
export function showStepper(element, { at, count, action, noun }) {
  element.hidden = count < 2 || at < 0;
  if (element.hidden) return element.replaceChildren();
  const previous = iconButton("previous", `Previous ${noun}`, `${action}-previous`);
  const next = iconButton("next", `Next ${noun}`, `${action}-next`);
  previous.disabled = at === 0;
  next.disabled = at === count - 1;
  const label = document.createElement("span");
  label.className = "nav-count";
  label.textContent = `${at + 1} / ${count}`;
  label.setAttribute("aria-label", `${noun[0].toUpperCase()}${noun.slice(1)} ${at + 1} of ${count}`);
  element.replaceChildren(previous, label, next);
}
