// Model output is untrusted: markdown becomes HTML here, and only through sanitize() does it reach the page.
// Raw HTML in a reply is shown as text (never parsed), images become plain links (no request to a stranger's
// server), and DOMPurify then drops anything outside a small allow-list (scripts, handlers, javascript: URLs).
import { Marked } from "marked";
import DOMPurify from "dompurify";
import hljs from "highlight.js";

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);

function highlighted(code, lang) {
  const language = (lang || "").trim().split(/\s+/)[0].toLowerCase();
  if (language && hljs.getLanguage(language)) {
    return { html: hljs.highlight(code, { language, ignoreIllegals: true }).value, language };
  }
  return { html: escapeHtml(code), language };
}

const marked = new Marked({
  gfm: true,
  renderer: {
    html({ text, block }) {
      return block ? `<p>${escapeHtml(text)}</p>\n` : escapeHtml(text);
    },
    image({ href, text }) {
      return `<a href="${escapeHtml(href)}">${escapeHtml(text || href)}</a>`;
    },
    code({ text, lang }) {
      const { html, language } = highlighted(text, lang);
      const label = language ? ` data-lang="${escapeHtml(language)}"` : "";
      return `<pre${label}><code class="hljs">${html}</code></pre>\n`;
    },
  },
});

const ALLOWED_TAGS = [
  "a", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "input",
  "li", "ol", "p", "pre", "span", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
];
const ALLOWED_ATTR = ["href", "title", "class", "align", "start", "type", "checked", "disabled", "data-lang"];

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
  // GFM task lists are the only inputs marked writes; keep them inert.
  if (node.tagName === "INPUT") {
    node.setAttribute("type", "checkbox");
    node.setAttribute("disabled", "");
  }
});

/** Return a sanitized fragment for a piece of markdown (whole blocks, or a block still streaming). */
export function renderMarkdown(source) {
  const html = marked.parse(source, { async: false });
  // A fragment, not a string: what DOMPurify checked is what goes in, with no second parse in between.
  return DOMPurify.sanitize(html, { ALLOWED_TAGS, ALLOWED_ATTR, RETURN_DOM_FRAGMENT: true });
}

/** Give each code block in `root` a bar with its language and a copy button. */
export function decorateCodeBlocks(root) {
  for (const pre of root.querySelectorAll("pre:not([data-decorated])")) {
    pre.dataset.decorated = "";
    const bar = document.createElement("div");
    bar.className = "code-bar";
    const label = document.createElement("span");
    label.textContent = pre.dataset.lang || "code";
    const copy = document.createElement("button");
    copy.type = "button";
    copy.className = "ghost small";
    copy.dataset.copyCode = "";
    copy.textContent = "Copy";
    copy.setAttribute("aria-label", `Copy ${label.textContent} code`);
    bar.append(label, copy);
    pre.before(bar);
    const wrap = document.createElement("div");
    wrap.className = "code-block";
    bar.before(wrap);
    wrap.append(bar, pre);
  }
}
