// "Copy" buttons: <button data-copy="element-id"> copies that element's text (no inline
// handlers: the CSP allows our own script files only).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.innerText).then(function () {
    button.textContent = button.getAttribute("data-copied") || "Copied";
  });
});
