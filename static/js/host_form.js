// The add-host form: show only the chosen transport's credential fields (the server clears the others anyway)
// and its example URI.
(function () {
  const transports = JSON.parse(document.getElementById("transport-fields").textContent);
  const credentials = new Set(Object.values(transports).flatMap((t) => t.fields));
  const example = document.getElementById("uri-example");
  const uri = document.getElementById("id_uri");
  function update() {
    const chosen = document.querySelector('input[name="transport"]:checked');
    const transport = chosen && transports[chosen.value];
    if (!transport) return;
    for (const name of credentials) {
      const row = document.querySelector(`[data-field="${name}"]`);
      if (row) row.hidden = !transport.fields.includes(name);
    }
    example.textContent = transport.example;
    uri.placeholder = transport.example;
  }
  for (const radio of document.querySelectorAll('input[name="transport"]')) radio.addEventListener("change", update);
  update();
})();
