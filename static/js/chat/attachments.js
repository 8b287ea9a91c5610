// The files attached to the next prompt: chosen with the paperclip, dropped on the composer, or pasted into the
// prompt. Each uploads at once (POST /api/attachments/) and shows as a chip: uploading, reading a PDF's pages,
// ready, or failed with the server's reason, with a button that removes it (DELETE). A refused upload leaves no
// chip, only a notice saying why. The server checks every limit; the count per prompt is checked here as well,
// for an answer before anything is uploaded.
import { api, ApiError } from "panels/api";
import { fileFacts } from "panels/chat/attachment-view";
import { fileSize } from "panels/format";
import { icon, iconButton } from "panels/icons";

const POLL_MS = 700; // how often a PDF being read is asked about
const RETRY_MS = 3000; // after a poll that did not reach the server
const WAITING = new Set(["uploading", "reading"]);

const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

/** Return the chosen models (Auto aside: it picks a model with vision) that cannot read images. */
export function modelsWithoutVision(catalog, slugs) {
  return slugs
    .filter((slug) => slug !== "auto")
    .map((slug) => catalog.models.find((model) => model.slug === slug))
    .filter((model) => model && !model.capabilities?.includes("vision"));
}

/** Return the slugs of the models that read images: Auto's candidates for a prompt with one. */
export const visionModels = (catalog) =>
  catalog.models.filter((model) => model.slug !== "auto" && model.capabilities?.includes("vision")).map((m) => m.slug);

export class AttachedFiles {
  constructor({ list, input, opener, dropZone, textarea, uploadUrl, maxFiles, notify, onChange }) {
    this.list = list;
    this.dropZone = dropZone;
    this.uploadUrl = uploadUrl;
    this.maxFiles = maxFiles;
    this.notify = notify;
    this.onChange = onChange;
    this.textarea = textarea;
    this.items = []; // { name, size, kind, status, attachment (the server's JSON, once uploaded), element }
    opener.addEventListener("click", () => input.click());
    input.addEventListener("change", () => {
      this.add([...input.files]);
      input.value = ""; // the same file chosen again is a change too
    });
    textarea.addEventListener("paste", (event) => this.pasted(event));
    for (const type of ["dragenter", "dragover"]) dropZone.addEventListener(type, (event) => this.dragOver(event));
    dropZone.addEventListener("dragleave", (event) => {
      if (!dropZone.contains(event.relatedTarget)) dropZone.classList.remove("dropping");
    });
    dropZone.addEventListener("drop", (event) => this.dropped(event));
    // A file dropped beside the composer would otherwise open in place of the page.
    for (const type of ["dragover", "drop"]) {
      document.addEventListener(type, (event) => {
        if (!event.dataTransfer?.types.includes("Files") || dropZone.contains(event.target)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = "none";
      });
    }
  }

  /** The files ready to go with the next prompt (the server's JSON of each). */
  get ready() {
    return this.items.filter((item) => item.status === "ready").map((item) => item.attachment);
  }

  /** Whether a file is still uploading or being read: the prompt waits for it. */
  get waiting() {
    return this.items.some((item) => WAITING.has(item.status));
  }

  /** Whether an image is attached (or on its way) to the next prompt. */
  get hasImages() {
    return this.items.some((item) => item.kind === "image" && item.status !== "failed" && item.status !== "sending");
  }

  // --- Taking files in ------------------------------------------------------------------------------------

  /** Upload `files`, as many as the prompt has room for; say so when some are left out. */
  add(files) {
    const taken = this.items.filter((item) => item.status !== "failed").length;
    const room = Math.max(0, this.maxFiles - taken);
    if (files.length > room) this.notify(`A prompt can have at most ${this.maxFiles} files attached.`);
    for (const file of files.slice(0, room)) this.upload(file);
  }

  pasted(event) {
    const files = [...(event.clipboardData?.files ?? [])];
    // Text copied from a document or a sheet often brings a picture of itself along: paste the text then.
    if (!files.length || event.clipboardData.types.includes("text/plain")) return;
    event.preventDefault();
    this.add(files);
  }

  dragOver(event) {
    if (!event.dataTransfer?.types.includes("Files")) return; // dragged text drops into the prompt as usual
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    this.dropZone.classList.add("dropping");
  }

  dropped(event) {
    this.dropZone.classList.remove("dropping");
    const files = [...(event.dataTransfer?.files ?? [])];
    if (!files.length) return;
    event.preventDefault();
    this.add(files);
    this.textarea.focus();
  }

  // --- Uploading and reading ------------------------------------------------------------------------------

  async upload(file) {
    const item = {
      name: file.name || "file",
      size: file.size,
      kind: file.type.startsWith("image/") ? "image" : "file", // a guess until the server has read it
      status: "uploading",
      attachment: null,
    };
    this.items.push(item);
    this.render(item);
    const form = new FormData();
    form.append("file", file, item.name);
    let attachment;
    try {
      attachment = await api(this.uploadUrl, { method: "POST", form });
    } catch (error) {
      this.forget(item);
      this.notify(
        error instanceof ApiError && error.code
          ? error.message
          : `“${item.name}” could not be uploaded; check the connection and attach it again.`,
      );
      return;
    }
    if (item.removed) return this.deleteOnServer(attachment); // its × was pressed while it uploaded
    this.received(item, attachment);
  }

  received(item, attachment) {
    Object.assign(item, { attachment, kind: attachment.kind, status: attachment.status });
    this.render(item);
    if (item.status === "reading") item.timer = setTimeout(() => this.poll(item), POLL_MS);
  }

  /** Ask again how far the server has read a PDF. */
  async poll(item) {
    let attachment;
    try {
      attachment = await api(`${this.uploadUrl}${item.attachment.id}/`);
    } catch (error) {
      if (item.removed) return;
      if (error instanceof ApiError && error.status === 404) {
        item.status = "failed";
        item.attachment = { ...item.attachment, error: "This file is gone from the server; attach it again." };
        return this.render(item);
      }
      item.timer = setTimeout(() => this.poll(item), RETRY_MS);
      return;
    }
    if (!item.removed) this.received(item, attachment);
  }

  // --- Removing, and sending ------------------------------------------------------------------------------

  /** Remove a file the person no longer wants sent: its chip at once, the upload on the server. */
  remove(item) {
    const at = this.items.indexOf(item);
    const next = this.items[at + 1] ?? this.items[at - 1];
    this.forget(item);
    if (item.attachment) this.deleteOnServer(item.attachment);
    (next?.element.querySelector("[data-action=remove-file]") ?? this.textarea).focus();
  }

  deleteOnServer(attachment) {
    api(`${this.uploadUrl}${attachment.id}/`, { method: "DELETE" }).catch(() => {}); // an unsent file expires anyway
  }

  forget(item) {
    item.removed = true;
    clearTimeout(item.timer);
    item.element?.remove();
    this.items = this.items.filter((other) => other !== item);
    this.changed();
  }

  /** The files `ids` went out with a prompt: they wait for the server's answer, and go in no other prompt. */
  sending(ids) {
    this.setStatus(ids, "sending");
  }

  /** The prompt with `ids` was refused: the files are ready again, to send once the cause is fixed. */
  notSent(ids) {
    this.setStatus(ids, "ready");
  }

  /** The prompt with `ids` started: the files belong to its turn now, and leave the composer. */
  sent(ids) {
    for (const item of this.items.filter((item) => ids.includes(item.attachment?.id))) this.forget(item);
  }

  setStatus(ids, status) {
    for (const item of this.items) {
      if (!ids.includes(item.attachment?.id)) continue;
      item.status = status;
      this.render(item);
    }
  }

  changed() {
    this.list.hidden = !this.items.length;
    this.onChange();
  }

  // --- The chip -------------------------------------------------------------------------------------------

  /** Draw the file's chip, or bring it up to date (built once, so focus on its button survives a poll). */
  render(item) {
    if (!item.element) this.build(item);
    const { attachment, element } = item;
    element.dataset.status = item.status;
    element.dataset.kind = item.kind;
    element.setAttribute("aria-busy", String(WAITING.has(item.status)));
    if (item.kind === "image" && attachment?.url && !item.thumb.querySelector("img")) {
      const image = el("img");
      image.src = attachment.url;
      image.alt = "";
      item.thumb.replaceChildren(image);
    } else if (!item.thumb.firstChild) {
      item.thumb.append(icon(item.kind === "image" ? "image" : "document"));
    }
    item.state.textContent = this.describe(item);
    item.state.title = item.state.textContent;
    item.removeButton.hidden = item.status === "sending";
    this.changed();
  }

  build(item) {
    item.element = el("li", "attachment");
    item.thumb = el("span", "attachment-thumb");
    item.state = el("span", "attachment-state");
    const text = el("span", "attachment-text");
    text.append(el("span", "attachment-name", item.name), item.state);
    text.firstChild.title = item.name;
    item.removeButton = iconButton("close", `Remove ${item.name}`, "remove-file");
    item.removeButton.addEventListener("click", () => this.remove(item));
    item.element.append(item.thumb, text, item.removeButton);
    this.list.append(item.element);
  }

  describe({ status, attachment, size }) {
    switch (status) {
      case "uploading":
        return `${fileSize(size)} · Uploading…`;
      case "reading":
        return `Reading PDF… ${attachment.pages_read ?? 0}/${attachment.pages ?? "?"}`;
      case "failed":
        return attachment?.error || "This file could not be read.";
      case "sending":
        return `${fileFacts(attachment)} · Sending…`;
      default:
        return fileFacts(attachment);
    }
  }
}
