/* A case's process diagram (bpmn-js viewer, vendored): the steps done and the current one marked.
   The diagram and the marks come from <script type="application/json"> blocks (no inline script: CSP 'self'). */
(function () {
  "use strict";
  function ready(fn) { if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); } }
  ready(function () {
    var box = document.getElementById("bpmn-canvas");
    var xmlNode = document.getElementById("bpmn-xml");
    var marksNode = document.getElementById("bpmn-marks");
    if (!box || !xmlNode || !window.BpmnJS) { return; }
    var xml = JSON.parse(xmlNode.textContent);
    var marks = marksNode ? JSON.parse(marksNode.textContent) : {};
    var viewer = new window.BpmnJS({ container: box });
    viewer.importXML(xml).then(function () {
      var canvas = viewer.get("canvas");
      canvas.zoom("fit-viewport");
      (marks.done || []).forEach(function (id) { try { canvas.addMarker(id, "step-done"); } catch (e) { /* not in this version */ } });
      (marks.current || []).forEach(function (id) { try { canvas.addMarker(id, "step-current"); } catch (e) { } });
      (marks.end || []).forEach(function (id) { if (id) { try { canvas.addMarker(id, "step-current"); } catch (e) { } } });
      box.setAttribute("data-rendered", "1");
    }).catch(function (err) {
      box.textContent = box.getAttribute("data-error") || String(err);
    });
  });
})();
