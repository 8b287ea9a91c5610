// The share dialog: make a read-only link to the conversation (the branch shown now) or to one turn, copy it,
// and see and revoke the conversation's live links. The server decides what a link shows (chat/sharing.py).
import { api } from "panels/api";

const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

const SCOPES = {
  conversation: [
    "Share this conversation",
    "The turns you see now, up to the latest; turns added later are not included.",
  ],
  turn: ["Share this turn", "Only this prompt and its replies."],
};

export class ShareDialog {
  constructor({ dialog, opener }) {
    this.dialog = dialog;
    this.opener = opener;
    this.urls = dialog.dataset;
    this.conversationId = null;
    this.turnId = null;
    const $ = (selector) => dialog.querySelector(selector);
    this.title = $("[data-share-title]");
    this.scope = $("[data-share-scope]");
    this.costs = $("[data-share-costs]");
    this.createButton = $("[data-share-create]");
    this.made = $("[data-share-made]");
    this.url = $("[data-share-url]");
    this.copyButton = $("[data-share-copy]");
    this.error = $("[data-share-error]");
    this.list = $("[data-share-list]");
    this.none = $("[data-share-none]");
    opener.addEventListener("click", () => this.open());
    this.createButton.addEventListener("click", () => this.create());
    this.copyButton.addEventListener("click", () => this.copy(this.url.value, this.copyButton));
    this.list.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (button?.dataset.revoke) this.revoke(button.dataset.revoke);
      if (button?.dataset.copyLink) this.copy(button.dataset.copyLink, button);
    });
    // A click on the backdrop (outside the dialog's box) closes it, as the model picker does.
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) dialog.close();
    });
  }

  /** Offer sharing once the conversation exists (after its first turn is saved). */
  setConversation(id) {
    this.conversationId = id;
    this.opener.hidden = !id;
  }

  get sharesUrl() {
    return `${this.urls.apiConversations}${this.conversationId}/shares`;
  }

  /** Open the dialog for the whole conversation, or for the saved turn `turnId`. */
  async open({ turnId = null } = {}) {
    if (!this.conversationId) return;
    this.turnId = turnId;
    const [title, scope] = SCOPES[turnId ? "turn" : "conversation"];
    this.title.textContent = title;
    this.scope.textContent = scope;
    this.costs.checked = false;
    this.made.hidden = true;
    this.error.hidden = true;
    this.dialog.showModal();
    this.createButton.focus();
    await this.load();
  }

  showError(error) {
    this.error.textContent = error.message || String(error);
    this.error.hidden = false;
  }

  async load() {
    try {
      const { results } = await api(this.sharesUrl);
      this.showLinks(results);
    } catch (error) {
      this.showError(error);
    }
  }

  showLinks(links) {
    this.list.replaceChildren(
      ...links.map((link) => {
        const item = el("li", "share-item");
        const what = el("div", "share-item-what");
        const anchor = el("a", "", link.turn_id ? "One turn" : "Conversation");
        anchor.href = link.url;
        anchor.target = "_blank";
        anchor.rel = "noopener noreferrer";
        const made = new Date(link.created_at).toLocaleString();
        what.append(anchor, el("span", "", `${link.show_costs ? "With costs · " : ""}made ${made}`));
        const copy = el("button", "ghost small", "Copy");
        copy.type = "button";
        copy.dataset.copyLink = link.url;
        copy.setAttribute("aria-label", `Copy the link made ${made}`);
        const revoke = el("button", "secondary small", "Revoke");
        revoke.type = "button";
        revoke.dataset.revoke = link.token;
        revoke.setAttribute("aria-label", `Revoke the link made ${made}`);
        item.append(what, copy, revoke);
        return item;
      }),
    );
    this.none.hidden = links.length > 0;
  }

  async create() {
    this.error.hidden = true;
    this.createButton.disabled = true;
    try {
      const link = await api(this.sharesUrl, {
        method: "POST",
        body: { turn_id: this.turnId, show_costs: this.costs.checked },
      });
      this.url.value = link.url;
      this.made.hidden = false;
      this.copyButton.textContent = "Copy link";
      this.url.select();
      await this.load();
    } catch (error) {
      this.showError(error);
    } finally {
      this.createButton.disabled = false;
    }
  }

  async copy(url, button) {
    try {
      await navigator.clipboard.writeText(url);
      button.textContent = "Copied";
    } catch {
      // No clipboard permission: the new link is selected, ready to copy by hand; a listed one can be opened.
      if (button === this.copyButton) this.url.select();
      this.showError(new Error("Copying needs clipboard permission; copy the link by hand."));
    }
  }

  async revoke(token) {
    this.error.hidden = true;
    try {
      await api(this.urls.apiShare.replace("TOKEN", encodeURIComponent(token)), { method: "DELETE" });
      if (this.url.value.endsWith(`/${token}/`)) this.made.hidden = true;
      await this.load();
      this.createButton.focus();
    } catch (error) {
      this.showError(error);
    }
  }
}
