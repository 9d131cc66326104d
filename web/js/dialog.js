/* Modal dialogs (<dialog>): open with focus on a chosen control, close with focus back where
 * it was. Feature modules use openDialog() for their own dialogs too. */

const returnTo = new WeakMap(); // dialog -> element that had focus before it opened

/* Open a <dialog> as modal. focus: the element to focus inside it (default: the first control). */
export function openDialog(dialog, { focus } = {}) {
  if (dialog.open) return;
  const before = document.activeElement;
  returnTo.set(dialog, before && before !== document.body ? before : null);
  if (!dialog.dataset.wired) {
    dialog.dataset.wired = "1";
    dialog.addEventListener("close", () => restoreFocus(dialog));
    // A click on the backdrop (outside the dialog's box) closes it.
    dialog.addEventListener("click", (e) => {
      if (e.target !== dialog) return;
      const r = dialog.getBoundingClientRect();
      const inside = e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
      if (!inside) dialog.close();
    });
  }
  dialog.showModal();
  const target = focus || dialog.querySelector("input, select, textarea, button");
  if (target) target.focus();
}

export function closeDialog(dialog) {
  if (dialog.open) dialog.close();
}

function restoreFocus(dialog) {
  const before = returnTo.get(dialog);
  returnTo.delete(dialog);
  if (before && before.isConnected && !before.closest("[hidden]")) before.focus();
  else {
    const main = document.getElementById("main");
    if (main) main.focus();
  }
}

/* Ask a yes/no question in a small modal dialog; resolves to true when confirmed. */
export function confirmDialog({ title, text, confirm, danger }) {
  return new Promise((resolve) => {
    const titleId = "confirm-title-" + Math.random().toString(36).slice(2, 8);
    const dialog = document.createElement("dialog");
    dialog.className = "dialog";
    dialog.setAttribute("aria-labelledby", titleId);
    const form = document.createElement("form");
    form.method = "dialog";
    form.className = "stack";
    const h = document.createElement("h2");
    h.id = titleId;
    h.textContent = title;
    const p = document.createElement("p");
    p.textContent = text;
    const buttons = document.createElement("div");
    buttons.className = "dialog-buttons";
    const cancel = document.createElement("button");
    cancel.type = "submit";
    cancel.value = "cancel";
    cancel.className = "button-quiet";
    cancel.textContent = "Cancel";
    const ok = document.createElement("button");
    ok.type = "submit";
    ok.value = "ok";
    ok.className = danger ? "button-primary button-danger-strong" : "button-primary";
    ok.dataset.action = "confirm";
    ok.textContent = confirm;
    buttons.append(cancel, ok);
    form.append(h, p, buttons);
    dialog.append(form);
    document.body.append(dialog);
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok");
      window.setTimeout(() => dialog.remove());
    });
    openDialog(dialog, { focus: ok });
  });
}
