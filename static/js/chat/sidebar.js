// The list of conversations: pinned first, then by activity; searched, filtered by folder, and renamed,
// pinned, filed and deleted in place. The list is kept here (`items`, in the server's order) and drawn from it.
import { confirmDelete } from "panels/chat/confirm-delete";
import { api } from "panels/api";
import { ago } from "panels/format";
import { icon } from "panels/icons";
import { conversationMenu } from "panels/chat/conversation-menu";

const FOLDER_MAX_CHARS = 60;
const TITLE_MAX_CHARS = 200;
const activity = (conversation) => [Date.parse(conversation.updated_at), conversation.id];
const moreActive = (a, b) => {
  const [timeA, idA] = activity(a);
  const [timeB, idB] = activity(b);
  return timeA > timeB || (timeA === timeB && idA > idB);
};

export class Sidebar {
  constructor({ root, apiUrl, chatUrl, currentId, onDeleted, notify = () => {} }) {
    this.list = root.querySelector("[data-conversation-list]");
    this.pinnedGroup = root.querySelector("[data-pinned-group]");
    this.pinnedList = root.querySelector("[data-pinned-list]");
    this.recentTitle = root.querySelector("[data-recent-title]");
    this.search = root.querySelector("[data-conversation-search]");
    this.folderFilter = root.querySelector("[data-folder-filter]");
    this.folderSelect = root.querySelector("[data-folder-select]");
    this.more = root.querySelector("[data-more]");
    this.empty = root.querySelector("[data-empty]");
    this.folderNames = document.createElement("datalist"); // what "Move to folder" offers as you type
    this.folderNames.id = "conversation-folder-names";
    root.append(this.folderNames);
    this.pinnedGroup.querySelector("h2").prepend(icon("pin"));
    this.apiUrl = apiUrl;
    this.chatUrl = chatUrl;
    this.currentId = currentId;
    this.onDeleted = onDeleted;
    this.notify = notify;
    this.items = [];
    this.rows = new Map(); // id -> its <li>, kept while its conversation is unchanged (an open form survives)
    this.page = 1;
    this.loads = 0;
    let debounce;
    this.search.addEventListener("input", () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => this.load(), 250);
    });
    this.folderSelect.addEventListener("change", () => this.load());
    this.more.addEventListener("click", () => this.load(this.page + 1));
  }

  get folder() {
    return this.folderSelect.value;
  }

  async load(page = 1) {
    const query = new URLSearchParams({ q: this.search.value.trim(), page });
    if (this.folder) query.set("folder", this.folder);
    const load = ++this.loads; // an answer to an older search is dropped
    const folders = this.foldersLoaded ? null : this.loadFolders(); // later, each change reloads them
    const [data] = await Promise.all([api(`${this.apiUrl}?${query}`), folders]);
    if (load !== this.loads) return;
    this.page = data.page;
    if (page === 1) {
      this.items = data.results;
      this.rows.clear();
    } else {
      // A conversation pinned or used meanwhile moved up, so the next page can repeat one already shown.
      const shown = new Set(this.items.map((c) => c.id));
      this.items.push(...data.results.filter((c) => !shown.has(c.id)));
    }
    this.more.hidden = data.page >= data.pages;
    this.render();
  }

  /** Fill the folder filter and the folder suggestions with the person's folders. */
  async loadFolders() {
    const { folders } = await api(`${this.apiUrl}folders`);
    const chosen = this.folder;
    const options = [new Option("All conversations", "")];
    for (const folder of folders) options.push(new Option(`${folder.name} (${folder.count})`, folder.name));
    if (chosen && !folders.some((folder) => folder.name === chosen)) options.push(new Option(`${chosen} (0)`, chosen));
    this.folderSelect.replaceChildren(...options);
    this.folderSelect.value = chosen;
    this.folderFilter.hidden = options.length === 1;
    this.folderNames.replaceChildren(...folders.map((folder) => new Option(folder.name)));
    this.foldersLoaded = true;
  }

  render() {
    const focused = document.activeElement;
    const rows = (pinned) => this.items.filter((c) => c.pinned === pinned).map((c) => this.rowOf(c));
    const pinned = rows(true);
    const recent = rows(false);
    this.pinnedList.replaceChildren(...pinned);
    this.list.replaceChildren(...recent);
    this.pinnedGroup.hidden = pinned.length === 0;
    this.recentTitle.hidden = pinned.length === 0 || recent.length === 0;
    this.empty.hidden = this.items.length > 0;
    const filtered = this.search.value.trim() || this.folder;
    this.empty.textContent = filtered ? "No conversation matches." : "No conversations yet.";
    if (focused?.isConnected && document.activeElement !== focused) focused.focus(); // moving a row blurs it
  }

  rowOf(conversation) {
    if (!this.rows.has(conversation.id)) this.rows.set(conversation.id, this.row(conversation));
    return this.rows.get(conversation.id);
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
    const about = document.createElement("span");
    about.className = "conversation-about";
    const when = document.createElement("span");
    when.className = "conversation-when";
    when.textContent = ago(conversation.updated_at);
    about.append(when);
    if (conversation.folder) {
      const folder = document.createElement("span");
      folder.className = "conversation-folder";
      const name = document.createElement("span");
      name.textContent = conversation.folder;
      folder.append(icon("folder"), name);
      folder.title = `In folder ${conversation.folder}`;
      about.append(folder);
    }
    link.append(title, about);
    const actions = document.createElement("div");
    actions.className = "item-actions";
    const items = [
      conversation.pinned
        ? { action: "unpin", label: "Unpin", icon: "unpin" }
        : { action: "pin", label: "Pin", icon: "pin" },
      { action: "rename", label: "Rename", icon: "rename" },
      { action: "file", label: conversation.folder ? "Move to folder" : "Add to folder", icon: "folder" },
      ...(conversation.folder ? [{ action: "unfile", label: "Remove from folder", icon: "close" }] : []),
      { action: "delete", label: "Delete", icon: "trash" },
    ];
    const label = "Conversation actions";
    actions.append(conversationMenu({ label, items, onChoose: (action) => this.act(item, conversation.id, action) }));
    item.append(link, actions);
    return item;
  }

  /** Put a conversation first (it was just created or used) and mark it current; a pinned one keeps its place. */
  upsert(conversation) {
    this.rows.delete(this.currentId); // its link is current no more
    this.rows.delete(conversation.id);
    this.currentId = conversation.id;
    const index = this.items.findIndex((c) => c.id === conversation.id);
    const known = index === -1 ? { pinned: false, folder: "" } : this.items.splice(index, 1)[0];
    const merged = { ...known, ...conversation };
    if (merged.pinned) this.items.splice(index, 0, merged);
    else if (!this.folder || merged.folder === this.folder) {
      const firstRecent = this.items.findIndex((c) => !c.pinned);
      this.items.splice(firstRecent === -1 ? this.items.length : firstRecent, 0, merged);
    }
    this.render();
  }

  setTitle(id, title) {
    const conversation = this.items.find((c) => c.id === id);
    if (conversation) conversation.title = title;
    const node = this.rows.get(id)?.querySelector(".conversation-title");
    if (node) node.textContent = title;
  }

  act(item, id, action) {
    if (action === "pin" || action === "unpin") return this.changeFrom(id, { pinned: action === "pin" });
    if (action === "rename") return this.rename(item, id);
    if (action === "file") return this.file(item, id);
    if (action === "unfile") return this.changeFrom(id, { folder: "" });
    if (action === "delete") return this.confirmDelete(item, id);
  }

  /** Save `changes` to a conversation and redraw the list as the server would now order it. */
  async change(id, changes) {
    const saved = await api(`${this.apiUrl}${id}/`, { method: "PATCH", body: changes });
    const index = this.items.findIndex((c) => c.id === id);
    this.rows.delete(id);
    if (index === -1) return saved;
    const [before] = this.items.splice(index, 1);
    if ("folder" in changes) this.loadFolders().catch(() => {});
    if (this.folder && saved.folder !== this.folder) {
      this.render(); // it left the folder shown
      return saved;
    }
    if (saved.pinned && !before.pinned) this.items.unshift(saved); // the latest pin comes first
    else if (!saved.pinned && before.pinned) {
      const after = this.items.findIndex((c) => !c.pinned && moreActive(saved, c));
      if (after !== -1) this.items.splice(after, 0, saved);
      else if (this.more.hidden) this.items.push(saved);
      else {
        await this.load(); // its place is on a page not loaded yet: load again, so that none is skipped
        return saved;
      }
    } else this.items.splice(index, 0, saved);
    this.render();
    return saved;
  }

  /** Apply a change chosen from a row's menu; keep the focus on that row's menu button wherever the row went. */
  async changeFrom(id, changes) {
    try {
      await this.change(id, changes);
    } catch (error) {
      return this.notify(error.message);
    }
    this.rows.get(id)?.querySelector("[aria-haspopup]")?.focus();
  }

  /** Show a one-field form in place of the row's link; `save(value)` resolves when done, or throws to say why. */
  inlineForm(item, { label, value, maxLength, required = false, list, save }) {
    const form = document.createElement("form");
    form.className = "rename-form";
    const input = document.createElement("input");
    input.value = value;
    input.maxLength = maxLength;
    input.required = required;
    input.setAttribute("aria-label", label);
    if (list) {
      input.setAttribute("list", list);
      input.placeholder = "Folder name";
      input.autocomplete = "off";
    }
    form.append(input);
    const link = item.querySelector("a");
    const actions = item.querySelector(".item-actions");
    link.hidden = true;
    actions.hidden = true;
    item.prepend(form);
    input.focus();
    input.select();
    const close = () => {
      form.remove();
      link.hidden = false;
      actions.hidden = false;
    };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await save(input.value);
      } catch (error) {
        input.setCustomValidity(error.message);
        input.reportValidity();
        return;
      }
      close();
      (this.rows.get(Number(item.dataset.id))?.querySelector("a") ?? link).focus();
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

  rename(item, id) {
    this.inlineForm(item, {
      label: "New title",
      value: item.querySelector(".conversation-title").textContent,
      maxLength: TITLE_MAX_CHARS,
      required: true,
      save: async (title) => {
        const saved = await this.change(id, { title });
        document.dispatchEvent(new CustomEvent("panels:renamed", { detail: saved }));
      },
    });
  }

  file(item, id) {
    this.inlineForm(item, {
      label: "Folder name (empty: no folder)",
      value: this.items.find((c) => c.id === id)?.folder ?? "",
      maxLength: FOLDER_MAX_CHARS,
      list: this.folderNames.id,
      save: (folder) => this.change(id, { folder }),
    });
  }

  confirmDelete(item, id) {
    confirmDelete(item, {
      label: "Delete this conversation?",
      remove: () => api(`${this.apiUrl}${id}/`, { method: "DELETE" }),
      removed: () => {
        this.items = this.items.filter((c) => c.id !== id);
        this.rows.delete(id);
        this.render();
        this.loadFolders().catch(() => {});
        this.onDeleted(id);
      },
      failed: (error, { yes, confirm }) => {
        yes.textContent = "Retry";
        confirm.title = error.message;
      },
    });
  }
}
