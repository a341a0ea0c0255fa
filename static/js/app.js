// One listener for failed htmx requests: a translated notice in the flash area.
document.addEventListener("htmx:responseError", function () {
  var flash = document.getElementById("flash");
  if (!flash) return;
  var p = document.createElement("p");
  p.className = "flash-error";
  p.textContent = document.body.dataset.errorMessage || "Error";
  flash.replaceChildren(p);
});
