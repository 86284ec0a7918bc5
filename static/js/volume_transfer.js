// The volume page's upload (templates/storage/_volume_transfer.html): PUT the chosen file to the API with the
// session's CSRF token, and move the bar as the browser sends it. Messages come translated from the form.
(function () {
  const form = document.getElementById("volume-upload");
  if (!form) return;
  const input = form.querySelector("input[type=file]");
  const button = form.querySelector("button[type=submit]");
  const progress = form.querySelector(".progress");
  const bar = progress.querySelector(".progress-bar");
  const status = form.querySelector("[data-upload-status]");

  function show(percent) {
    progress.setAttribute("aria-valuenow", String(percent));
    bar.style.width = `${percent}%`;
    bar.textContent = `${percent}%`;
  }

  function finish(ok, message, jobUrl) {
    bar.classList.remove("progress-bar-animated", "progress-bar-striped");
    bar.classList.toggle("bg-success", ok);
    bar.classList.toggle("bg-danger", !ok);
    status.textContent = message;
    if (jobUrl) {
      const link = document.createElement("a");
      link.href = jobUrl;
      link.textContent = ` ${form.dataset.job}`;
      status.append(link);
    }
    button.disabled = false;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = input.files[0];
    if (!file) return;
    const request = new XMLHttpRequest();
    request.open("PUT", form.dataset.url);
    request.setRequestHeader("X-CSRFToken", form.dataset.csrf);
    request.setRequestHeader("Content-Type", "application/octet-stream");
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) show(Math.floor((100 * e.loaded) / e.total));
    });
    request.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(request.responseText); } catch (e) { /* not JSON */ }
      const jobId = request.status === 200 ? body.id : body.job;
      const jobUrl = jobId ? form.dataset.jobUrl.replace("/0/", `/${jobId}/`) : null;
      if (request.status === 200) {
        show(100);
        finish(true, form.dataset.done, jobUrl);
      } else {
        finish(false, `${form.dataset.failed} ${body.detail || request.statusText}`, jobUrl);
      }
    });
    request.addEventListener("error", () => finish(false, form.dataset.network, null));
    button.disabled = true;
    status.textContent = "";
    bar.className = "progress-bar progress-bar-striped progress-bar-animated";
    show(0);
    progress.classList.remove("d-none");
    request.send(file);
  });
})();
