// Winners: the star that marks a turn's best reply (one per turn; pressing it again clears the mark), the badge
// on the winning panel and its "Continue with <model>" button. The server keeps the mark, and Auto can learn
// from it (my routing, in the settings). A turn with one panel compared nothing, so it has no star.
import { api } from "panels/api";
import { iconButton } from "panels/icons";

const MARK = "Mark as the best reply";
const UNMARK = "Best reply (press to clear)";

const nameOf = (panel) => panel.entry(panel.model)?.name ?? panel.model ?? "this model";

function element(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

/** Show the turn's winner (a reply's id, or null) on its panels, with the star on each reply of a comparison. */
export function showWinner(turn, winnerId) {
  turn.winnerId = winnerId ?? null;
  const compared = turn.panels.length >= 2;
  for (const panel of turn.panels) {
    const won = turn.winnerId !== null && panel.messageId === turn.winnerId;
    let star = panel.actions.querySelector('[data-action="best"]');
    if (!star && compared) {
      star = iconButton("star", MARK, "best");
      panel.actions.prepend(star);
    }
    if (star) {
      star.hidden = !panel.messageId; // nothing to mark until the server named the reply
      star.setAttribute("aria-pressed", String(won));
      star.title = won ? UNMARK : MARK;
      star.setAttribute("aria-label", won ? UNMARK : MARK);
    }
    panel.element.classList.toggle("panel-winner", won);
    panel.element.querySelector(".winner-bar")?.remove();
    if (!won) continue;
    // Below the reply, not in its crowded header: the mark, and the way to go on with this model.
    const bar = element("div", "winner-bar", "");
    const badge = element("span", "badge winner-badge", "Best reply");
    badge.dataset.testid = "winner-badge";
    const proceed = element("button", "small winner-continue", `Continue with ${nameOf(panel)}`);
    proceed.type = "button";
    proceed.dataset.action = "continue"; // the panel's own continue action, made prominent
    bar.append(badge, proceed);
    panel.element.append(bar);
  }
}

/** Mark `panel`'s reply the best of its turn, or clear the mark when it already is; the server's answer shows. */
export async function toggleWinner(turn, panel, url) {
  const messageId = turn.winnerId === panel.messageId ? null : panel.messageId;
  const answer = await api(url.replace("/0/", `/${turn.id}/`), { method: "PUT", body: { message_id: messageId } });
  showWinner(turn, answer.winner_id);
}
