// A conversation's actions in the sidebar: one button that opens a small menu, by pointer or by keyboard
// (the ARIA menu button pattern: arrows move, Escape closes and returns to the button, Tab leaves).
import { icon } from "panels/icons";

/**
 * Return a menu button with its menu of `items` ({action, label, icon}); choosing one closes the menu and
 * calls onChoose(action). The caller rebuilds the menu when the items change (Pin becomes Unpin).
 */
export function conversationMenu({ label, items, onChoose }) {
  const wrap = document.createElement("div");
  wrap.className = "item-menu";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "icon-button";
  button.title = label;
  button.setAttribute("aria-label", label);
  button.setAttribute("aria-haspopup", "menu");
  button.setAttribute("aria-expanded", "false");
  button.append(icon("more"));
  const menu = document.createElement("div");
  menu.className = "menu";
  menu.setAttribute("role", "menu");
  menu.setAttribute("aria-label", label);
  menu.hidden = true;
  const entries = items.map((item) => {
    const entry = document.createElement("button");
    entry.type = "button";
    entry.className = item.action === "delete" ? "menu-item danger-item" : "menu-item";
    entry.setAttribute("role", "menuitem");
    entry.tabIndex = -1;
    entry.dataset.action = item.action;
    const text = document.createElement("span");
    text.textContent = item.label;
    entry.append(icon(item.icon), text);
    return entry;
  });
  menu.append(...entries);
  wrap.append(button, menu);

  const outside = (event) => {
    if (!wrap.contains(event.target)) close();
  };
  function open(focusIndex = 0) {
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    wrap.closest(".conversation-item")?.classList.add("menu-open");
    document.addEventListener("pointerdown", outside, true);
    entries.at(focusIndex)?.focus();
    menu.scrollIntoView({ block: "nearest" });
  }
  function close({ refocus = false } = {}) {
    if (menu.hidden) return;
    menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
    wrap.closest(".conversation-item")?.classList.remove("menu-open");
    document.removeEventListener("pointerdown", outside, true);
    if (refocus) button.focus();
  }

  button.addEventListener("click", () => (menu.hidden ? open() : close()));
  button.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      open(event.key === "ArrowDown" ? 0 : -1);
    }
  });
  menu.addEventListener("keydown", (event) => {
    const at = entries.indexOf(document.activeElement);
    const moves = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: entries.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      entries[(moves[event.key] + entries.length) % entries.length].focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation(); // Esc here closes the menu, not the sidebar or a reply
      close({ refocus: true });
    } else if (event.key === "Tab") {
      close();
    }
  });
  menu.addEventListener("click", (event) => {
    const entry = event.target.closest("[role=menuitem]");
    if (!entry) return;
    close({ refocus: true });
    onChoose(entry.dataset.action);
  });
  wrap.addEventListener("focusout", (event) => {
    if (!menu.hidden && event.relatedTarget && !wrap.contains(event.relatedTarget)) close();
  });
  return wrap;
}
