// A Print button where a page asks for one (data-print-button="label"): printing is a
// browser command, so the button is made only when JavaScript runs; without it the
// page's text says to use the browser's Print.
document.querySelectorAll("[data-print-button]").forEach(function (slot) {
  var button = document.createElement("button");
  button.type = "button";
  button.className = "button";
  button.textContent = slot.getAttribute("data-print-button");
  button.addEventListener("click", function () {
    window.print();
  });
  slot.replaceChildren(button);
});
