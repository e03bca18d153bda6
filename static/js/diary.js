// The trial diary (templates/education/tools/diary.html). For each time the patient
// writes their pain, it works out how much less pain than usual (the "at least half
// less pain" rule), in numbers and words, and sums up the diary. It sends nothing. It
// keeps the entries in this browser (localStorage) only when the patient ticks "Keep my
// entries", and "Delete my entries" removes them. Without JavaScript the diary is a
// sheet to fill in and print.
(function () {
  const diary = document.querySelector("[data-diary]");
  if (!diary) return;
  const key = `trial-diary:${diary.dataset.diary}`;
  const fields = Array.from(diary.querySelectorAll("[data-diary-input]"));
  const keep = diary.querySelector("#diary-keep");
  const status = diary.querySelector("[data-diary-status]");
  const usual = diary.querySelector("#diary-usual");
  const say = (name, values) =>
    diary.dataset[name].replace(/\{(\w+)\}/g, (_, word) => values[word]);

  // A pain score: a whole number from 0 to 10, null when empty, NaN when not valid.
  function score(field) {
    const text = field.value.trim();
    if (text === "") return null;
    return /^(10|[0-9])$/.test(text) ? Number(text) : NaN;
  }

  function showError(field) {
    const error = document.getElementById(field.getAttribute("aria-describedby"));
    const wrong = Number.isNaN(score(field));
    error.textContent = wrong ? diary.dataset.error : "";
    error.hidden = !wrong;
    if (wrong) field.setAttribute("aria-invalid", "true");
    else field.removeAttribute("aria-invalid");
  }

  // Percent less pain than usual; null with no usual pain above 0 or no valid score.
  function relief(before, now) {
    if (!(before > 0) || now === null || Number.isNaN(now)) return null;
    return Math.round(((before - now) / before) * 100);
  }

  function inWords(percent) {
    if (percent < 0) return diary.dataset.more;
    if (percent === 0) return diary.dataset.same;
    return say(percent >= 50 ? "half" : "less", { percent });
  }

  function update() {
    const before = score(usual);
    const results = [];
    diary.querySelectorAll("[data-diary-row]").forEach((row) => {
      const percent = relief(before, score(row.querySelector("[data-diary-pain]")));
      row.querySelector("[data-diary-relief]").textContent =
        percent === null ? "" : inWords(percent);
      if (percent !== null) results.push({ percent, when: row.querySelector("th").textContent });
    });
    const result = diary.querySelector("[data-diary-result]");
    if (before === 0) {
      result.textContent = diary.dataset.noUsual;
    } else if (results.length === 0) {
      result.textContent = "";
    } else {
      const best = results.reduce((a, b) => (b.percent > a.percent ? b : a));
      const half = results.filter((r) => r.percent >= 50).length;
      const summary = [best.percent > 0 ? say("best", best) : diary.dataset.worse];
      summary.push(say("count", { half, count: results.length }));
      result.textContent = summary.join(" ");
    }
  }

  function save() {
    if (!keep.checked) return;
    const entries = {};
    fields.forEach((field) => {
      entries[field.dataset.diaryInput] = field.value;
    });
    localStorage.setItem(key, JSON.stringify(entries));
  }

  function load() {
    let entries = null;
    try {
      entries = JSON.parse(localStorage.getItem(key));
    } catch (error) {
      localStorage.removeItem(key); // not ours, or damaged: start afresh
    }
    if (!entries) return;
    keep.checked = true;
    fields.forEach((field) => {
      field.value = entries[field.dataset.diaryInput] || "";
    });
  }

  diary.addEventListener("input", (event) => {
    if (event.target.matches("[data-diary-pain]")) showError(event.target);
    if (event.target.matches("[data-diary-input]")) {
      update();
      save();
    }
  });
  keep.addEventListener("change", () => {
    if (keep.checked) save();
    else localStorage.removeItem(key);
    status.textContent = status.dataset[keep.checked ? "kept" : "notKept"];
  });
  diary.querySelector("[data-diary-delete]").addEventListener("click", (event) => {
    if (!window.confirm(event.target.dataset.confirm)) return;
    localStorage.removeItem(key);
    keep.checked = false;
    fields.forEach((field) => {
      field.value = "";
    });
    diary.querySelectorAll("[data-diary-pain]").forEach(showError);
    update();
    status.textContent = status.dataset.deleted;
  });

  load();
  diary.querySelectorAll("[data-diary-pain]").forEach(showError);
  update();
  diary.querySelector("[data-diary-nokeep]").hidden = true;
  diary.querySelector("[data-diary-keep]").hidden = false;
})();
