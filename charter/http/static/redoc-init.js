// Charter's ReDoc start-up (a file, not an inline script: the page's CSP allows only 'self').
window.addEventListener("load", function () {
  Redoc.init(document.body.dataset.openapi, { hideDownloadButton: false }, document.getElementById("redoc"));
});
