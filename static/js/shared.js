// A shared link's page: the replies arrive as data (#shared-replies) and are rendered here as markdown, through
// the one sanitizing renderer, the same way the chat page renders a finished reply.
import { decorateCodeBlocks, renderMarkdown } from "panels/markdown";

const texts = JSON.parse(document.getElementById("shared-replies").textContent);

for (const body of document.querySelectorAll("[data-reply]")) {
  const text = texts[Number(body.dataset.reply)] ?? "";
  if (!text) continue; // an empty body stays hidden (a reply not written yet, or one that failed)
  const part = document.createElement("div");
  part.className = "md-part";
  part.append(renderMarkdown(text));
  decorateCodeBlocks(part);
  body.replaceChildren(part);
}

document.querySelector("[data-shared]").addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy-code]");
  if (!button) return;
  try {
    await navigator.clipboard.writeText(button.closest(".code-block").querySelector("pre").textContent);
  } catch {
    return; // no clipboard permission: the code can still be selected
  }
  button.textContent = "Copied";
  setTimeout(() => (button.textContent = "Copy"), 1500);
});
document.documentElement.dataset.ready = "true";
