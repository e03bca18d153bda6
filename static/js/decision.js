// The decision aid's SURE test (templates/education/tools/decision.html): once all four
// questions are answered, it says what the answers mean and, for each "no", what can
// help. It sends and keeps nothing; without it the page says the same in one sentence.
(function () {
  const sure = document.querySelector("[data-sure]");
  if (!sure) return;
  const questions = Array.from(sure.querySelectorAll("[data-sure-question]"));
  const result = sure.querySelector("[data-sure-result]");

  function update() {
    const answers = questions.map((question) => question.querySelector("input:checked"));
    result.replaceChildren();
    if (answers.some((answer) => answer === null)) return;
    const noes = questions.filter((question, i) => answers[i].value === "no");
    const summary = document.createElement("p");
    summary.textContent = sure.dataset[noes.length ? "someNo" : "allYes"];
    result.append(summary);
    if (noes.length) {
      const list = document.createElement("ul");
      noes.forEach((question) => {
        const item = document.createElement("li");
        item.textContent = question.dataset.help;
        list.append(item);
      });
      result.append(list);
    }
  }

  sure.addEventListener("change", update);
  sure.querySelector("[data-sure-static]").hidden = true;
  update();
})();
