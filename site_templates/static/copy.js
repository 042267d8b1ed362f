// A "Copy" button above every code block. It is made here, not in the HTML, so that with
// scripts off no button shows that could not work; the code itself is in the page as built.
(function () {
  "use strict";

  function copyText(text, pre) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return copyBySelection(pre); });
    }
    return copyBySelection(pre);
  }

  // Where the Clipboard API is missing or refused: select the code, as a reader would, and copy.
  function copyBySelection(pre) {
    const range = document.createRange();
    range.selectNodeContents(pre);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    const done = document.execCommand("copy");
    selection.removeAllRanges();
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function addButton(block, index) {
    const pre = block.querySelector("pre");
    if (!pre || block.querySelector(".copy-code")) return;
    const bar = document.createElement("div");
    bar.className = "code-tools";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy-code";
    button.textContent = "Copy";
    button.setAttribute("aria-describedby", "copy-status-" + index);
    const status = document.createElement("span");
    status.className = "copy-status";
    status.id = "copy-status-" + index;
    status.setAttribute("role", "status");
    button.addEventListener("click", function () {
      copyText(pre.innerText.replace(/\n$/, ""), pre).then(
        function () { status.textContent = "Copied"; },
        function () { status.textContent = "Could not copy: select the code and copy it by hand"; });
    });
    bar.append(button, status);
    block.insertBefore(bar, block.firstChild);
  }

  function start() {
    document.querySelectorAll("article .highlight").forEach(addButton);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
