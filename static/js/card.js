// The pump card filled in on screen (templates/education/tools/card.html). What the
// patient types in the panel is copied onto the card and the emergency sheet, and the
// sheet keeps only the notes for the chosen pump and medicines (all of them when none is
// chosen). Nothing is sent or kept: no form, no request, no storage; closing the page
// forgets it. Without JavaScript the panel stays hidden and the card prints blank.
(function () {
  const panel = document.querySelector("[data-card-fill]");
  if (!panel) return;
  const inputs = (name) => Array.from(panel.querySelectorAll(`[data-card-input="${name}"]`));
  const text = (name) => inputs(name)[0].value.trim();

  function refillDate() {
    const value = text("refill");
    if (!value) return "";
    const [year, month, day] = value.split("-").map(Number);
    // Built from its parts: new Date("2027-01-15") would be midnight UTC, the day
    // before in the Americas.
    return new Date(year, month - 1, day).toLocaleDateString(document.documentElement.lang, {
      dateStyle: "long",
    });
  }

  function fill(field, value) {
    document.querySelectorAll(`[data-card-field="${field}"]`).forEach((slot) => {
      slot.textContent = value;
    });
  }

  // Keep the notes of the chosen ones; all of them when none is chosen. A group left
  // with no note hides its heading too.
  function choose(group, chosen) {
    const notes = document.querySelector(`[data-card-notes="${group}"]`);
    if (!notes) return;
    let shown = 0;
    notes.querySelectorAll("[data-card-choice]").forEach((note) => {
      note.hidden = chosen.length > 0 && !chosen.includes(note.dataset.cardChoice);
      shown += note.hidden ? 0 : 1;
    });
    notes.hidden = shown === 0;
  }

  function update() {
    const pump = inputs("pump")[0];
    const medicines = inputs("medicine").filter((box) => box.checked);
    const names = medicines.map((box) => panel.querySelector(`label[for="${box.id}"]`).textContent);
    fill("name", text("name"));
    fill("pump", pump.value ? pump.selectedOptions[0].textContent : "");
    fill("medicine", [names.join(", "), text("dose")].filter(Boolean).join(": "));
    fill("refill", refillDate());
    choose("pump", pump.value ? [pump.value] : []);
    choose("medicine", medicines.map((box) => box.value));
  }

  panel.addEventListener("input", update);
  panel.addEventListener("change", update);
  panel.querySelector("[data-card-clear]").addEventListener("click", () => {
    panel.querySelectorAll("input[type=checkbox]").forEach((box) => {
      box.checked = false;
    });
    panel.querySelectorAll("input:not([type=checkbox]), select").forEach((field) => {
      field.value = "";
    });
    update();
    panel.querySelector("input, select").focus();
  });
  panel.hidden = false;
})();
