// How an attached file reads: its facts ("12.3 KB · 4 pages"), and the files of a sent prompt as its turn shows
// them: a thumbnail for an image, opening the whole image in a new tab, and a chip (name, size, pages) for others.
import { fileSize } from "panels/format";
import { icon } from "panels/icons";

const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

/** Return what a file is beside its name: its size, and an image's pixels or a PDF's pages. */
export function fileFacts(attachment) {
  const facts = [fileSize(attachment.size_bytes)];
  if (attachment.width && attachment.height) facts.push(`${attachment.width} × ${attachment.height} px`);
  if (attachment.pages) facts.push(attachment.pages === 1 ? "1 page" : `${attachment.pages} pages`);
  return facts.join(" · ");
}

/** Return the list of a sent prompt's files (server JSON, as `turn.attachments` has them), or null for none. */
export function promptFiles(attachments) {
  if (!attachments?.length) return null;
  const list = el("ul", "prompt-files");
  list.setAttribute("aria-label", "Attached files");
  for (const attachment of attachments) {
    const item = el("li", "prompt-file");
    item.dataset.kind = attachment.kind;
    const link = el("a");
    link.href = attachment.url;
    link.title = `${attachment.name} (${fileFacts(attachment)})`;
    if (attachment.kind === "image") {
      link.className = "prompt-image";
      link.target = "_blank";
      link.rel = "noopener";
      const image = el("img");
      image.src = attachment.url;
      image.alt = attachment.name;
      image.loading = "lazy";
      link.append(image);
    } else {
      link.className = "file-chip";
      link.download = attachment.name;
      const text = el("span", "file-chip-text");
      text.append(el("span", "file-chip-name", attachment.name), el("span", "file-chip-facts", fileFacts(attachment)));
      link.append(icon("document"), text);
    }
    item.append(link);
    list.append(item);
  }
  return list;
}
