// The chat page's keyboard shortcuts and the dialog listing them (templates/chat/_shortcuts.html). The
// modifier is Cmd on a Mac and Ctrl elsewhere. The single keys (/ and ?) act only when no text field has the
// focus, so they can still be typed; none acts while a dialog is open (it has the keyboard, Esc closes it).
const TEXT_INPUTS = new Set(["checkbox", "radio", "button", "submit", "reset", "range", "color", "file"]);

export const onMac = () => /mac|iphone|ipad/i.test(navigator.userAgentData?.platform || navigator.platform || "");

function typingIn(element) {
  if (!element) return false;
  if (element.isContentEditable || element instanceof HTMLTextAreaElement || element instanceof HTMLSelectElement) {
    return true;
  }
  return element instanceof HTMLInputElement && !TEXT_INPUTS.has(element.type);
}

/** Listen for the shortcuts on the chat page `root`; `prompt` is the composer, `newChatUrl` a new chat's page. */
export function installShortcuts({ root, prompt, newChatUrl }) {
  const dialog = document.getElementById("shortcuts");
  const search = root.querySelector("[data-conversation-search]");
  const sidebarToggle = root.querySelector("[data-toggle-sidebar]");
  const mac = onMac();
  if (mac) for (const key of dialog.querySelectorAll("[data-modifier]")) key.textContent = "Cmd";

  const showHelp = () => dialog.showModal();
  for (const opener of root.querySelectorAll("[data-open-shortcuts]")) opener.addEventListener("click", showHelp);
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close(); // a click on the backdrop
  });

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing || document.querySelector("dialog[open]")) return;
    const key = event.key.toLowerCase();
    const modifier = mac ? event.metaKey && !event.ctrlKey : event.ctrlKey && !event.metaKey;
    if (modifier && !event.altKey) {
      if (key === "k" && !event.shiftKey) {
        event.preventDefault();
        if (sidebarToggle.offsetParent !== null) root.classList.add("sidebar-open"); // a phone: it slides in
        search.focus();
        search.select();
      } else if (key === "o" && event.shiftKey) {
        event.preventDefault(); // some browsers give Ctrl+Shift+O a use of their own
        location.assign(newChatUrl);
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typingIn(event.target)) return;
    if (event.key === "/") {
      event.preventDefault(); // or the slash would be typed into the composer it focuses
      prompt.focus();
    } else if (event.key === "?") {
      event.preventDefault();
      showHelp();
    }
  });
}
