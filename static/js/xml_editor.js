// The XML editor: each textarea[data-xml-editor] becomes a CodeMirror 5 editor with XML highlighting.
// CodeMirror copies its text back into the textarea when the form submits, so the form (and the page
// without JavaScript) posts the same `xml` field either way.
(function () {
  if (!window.CodeMirror) return;
  document.querySelectorAll("textarea[data-xml-editor]").forEach(function (area) {
    var editor = CodeMirror.fromTextArea(area, {
      mode: "xml", lineNumbers: true, indentUnit: 2, tabSize: 2, lineWrapping: false,
      extraKeys: { Tab: function (cm) { cm.replaceSelection("  "); } },
    });
    editor.setSize(null, "32rem");
    editor.getWrapperElement().classList.add("border", "rounded");
    area.xmlEditor = editor;  // for tests and other scripts: area.xmlEditor.setValue(...)
  });
})();
