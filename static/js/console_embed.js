// The VM page connects only when asked: the console module opens a session as soon as it loads.
const button = document.getElementById("console-embed");
button.addEventListener("click", () => {
  document.getElementById("console-embedded").classList.remove("d-none");
  button.remove();
  import(button.dataset.module);
}, {once: true});
