// The inline "Delete / Cancel" a list row shows in place of its actions before something is deleted.

/**
 * Ask in `item` whether to delete; Delete awaits `remove()`, then calls `removed()`, or `failed(error, parts)`.
 * Cancel puts the row's actions back.
 */
export function confirmDelete(item, { label, remove, removed, failed }) {
  const actions = item.querySelector(".item-actions");
  const confirm = document.createElement("div");
  confirm.className = "confirm-delete";
  confirm.setAttribute("role", "group");
  confirm.setAttribute("aria-label", label);
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
      await remove();
    } catch (error) {
      failed(error, { yes, confirm });
      return;
    }
    removed();
  });
}
