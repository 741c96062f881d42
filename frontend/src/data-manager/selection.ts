/**
 * The Data tab's selection: "select every item on this page" and the count of checked items next to
 * the bulk toolbar. Without JavaScript the checkboxes and the "all matching" choice still work.
 */
export function installSelection(doc: Document = document): void {
  const form = doc.getElementById("bulk-form");
  const all = doc.getElementById("select-page");
  const count = doc.getElementById("selected-count");
  if (form === null || !(all instanceof HTMLInputElement)) return;
  const boxes = () => Array.from(form.querySelectorAll<HTMLInputElement>('input[type=checkbox][name="item"]'));
  const update = () => {
    const checked = boxes().filter((b) => b.checked).length;
    all.checked = checked > 0 && checked === boxes().length;
    all.indeterminate = checked > 0 && checked < boxes().length;
    if (count !== null) count.textContent = checked ? `${checked} selected` : "";
  };
  all.addEventListener("change", () => {
    for (const box of boxes()) box.checked = all.checked;
    update();
  });
  form.addEventListener("change", (event) => {
    if (event.target instanceof HTMLInputElement && event.target.name === "item") update();
  });
  update();
}
