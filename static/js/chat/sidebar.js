// The list of conversations: newest first, searched by title and text, renamed and deleted in place.
import { api } from "panels/api";
import { ago } from "panels/format";
import { iconButton } from "panels/icons";

export class Sidebar {
  constructor({ root, apiUrl, chatUrl, currentId, onDeleted }) {
    this.list = root.querySelector("[data-conversation-list]");
    this.search = root.querySelector("[data-conversation-search]");
    this.more = root.querySelector("[data-more]");
    this.empty = root.querySelector("[data-empty]");
    this.apiUrl = apiUrl;
    this.chatUrl = chatUrl;
    this.currentId = currentId;
    this.onDeleted = onDeleted;
    this.page = 1;
    let debounce;
    this.search.addEventListener("input", () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => this.load(), 250);
    });
    this.more.addEventListener("click", () => this.load(this.page + 1));
    this.list.addEventListener("click", (event) => this.act(event));
  }

  async load(page = 1) {
    const query = new URLSearchParams({ q: this.search.value.trim(), page });
    const data = await api(`${this.apiUrl}?${query}`);
    this.page = data.page;
    const rows = data.results.map((conversation) => this.row(conversation));
    if (page === 1) this.list.replaceChildren(...rows);
    else this.list.append(...rows);
    this.more.hidden = data.page >= data.pages;
    this.empty.hidden = data.count > 0;
    this.empty.textContent = this.search.value.trim() ? "No conversation matches." : "No conversations yet.";
  }

  row(conversation) {
    const item = document.createElement("li");
    item.className = "conversation-item";
    item.dataset.id = conversation.id;
    const link = document.createElement("a");
    link.href = `${this.chatUrl}${conversation.id}/`;
    if (conversation.id === this.currentId) link.setAttribute("aria-current", "page");
    const title = document.createElement("span");
    title.className = "conversation-title";
    title.textContent = conversation.title || "New conversation";
    const when = document.createElement("span");
    when.className = "conversation-when";
    when.textContent = ago(conversation.updated_at);
    link.append(title, when);
    const actions = document.createElement("div");
    actions.className = "item-actions";
    actions.append(iconButton("rename", "Rename", "rename"), iconButton("trash", "Delete", "delete"));
    item.append(link, actions);
    return item;
  }

  /** Put a conversation first (it was just created or used) and mark it current. */
  upsert(conversation) {
    this.currentId = conversation.id;
    this.list.querySelector(`[data-id="${conversation.id}"]`)?.remove();
    for (const link of this.list.querySelectorAll("a[aria-current]")) link.removeAttribute("aria-current");
    this.list.prepend(this.row(conversation));
    this.empty.hidden = true;
  }

  setTitle(id, title) {
    const node = this.list.querySelector(`[data-id="${id}"] .conversation-title`);
    if (node) node.textContent = title;
  }

  act(event) {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const item = button.closest(".conversation-item");
    const id = Number(item.dataset.id);
    if (button.dataset.action === "rename") this.rename(item, id);
    if (button.dataset.action === "delete") this.confirmDelete(item, id);
  }

  rename(item, id) {
    const title = item.querySelector(".conversation-title").textContent;
    const form = document.createElement("form");
    form.className = "rename-form";
    const input = document.createElement("input");
    input.value = title;
    input.maxLength = 200;
    input.required = true;
    input.setAttribute("aria-label", "New title");
    form.append(input);
    const link = item.querySelector("a");
    link.hidden = true;
    item.querySelector(".item-actions").hidden = true;
    item.prepend(form);
    input.select();
    const close = () => {
      form.remove();
      link.hidden = false;
      item.querySelector(".item-actions").hidden = false;
    };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const saved = await api(`${this.apiUrl}${id}/`, { method: "PATCH", body: { title: input.value } });
        this.setTitle(id, saved.title);
        document.dispatchEvent(new CustomEvent("panels:renamed", { detail: saved }));
        close();
        link.focus();
      } catch (error) {
        input.setCustomValidity(error.message);
        input.reportValidity();
      }
    });
    input.addEventListener("input", () => input.setCustomValidity(""));
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        close();
        link.focus();
      }
    });
  }

  confirmDelete(item, id) {
    const actions = item.querySelector(".item-actions");
    const confirm = document.createElement("div");
    confirm.className = "confirm-delete";
    confirm.setAttribute("role", "group");
    confirm.setAttribute("aria-label", "Delete this conversation?");
    const yes = document.createElement("button");
    yes.type = "button";
    yes.className = "danger small";
    yes.textContent = "Delete";
    const no = document.createElement("button");
    no.type = "button";
    no.className = "ghost small";
    no.textContent = "Cancel";
    confirm.append(yes, no);
    actions.hidden = true;
    item.append(confirm);
    no.focus();
    no.addEventListener("click", () => {
      confirm.remove();
      actions.hidden = false;
    });
    yes.addEventListener("click", async () => {
      try {
        await api(`${this.apiUrl}${id}/`, { method: "DELETE" });
      } catch (error) {
        yes.textContent = "Retry";
        confirm.title = error.message;
        return;
      }
      item.remove();
      this.onDeleted(id);
    });
  }
}
