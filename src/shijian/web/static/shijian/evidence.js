// Evidence capture on the visit page: a preview of the chosen photo, the time it was taken and, when the
// inspector allows it, the place (GPS), sent with the upload in hidden fields. Plain script, no library.
(function () {
  "use strict";
  var form = document.getElementById("evidence-form");
  if (!form) return;
  var input = form.querySelector('input[type="file"]');
  var preview = document.getElementById("evidence-preview");
  var where = document.getElementById("evidence-where");
  function field(name) { return form.querySelector('input[name="' + name + '"]'); }
  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    if (!file) return;
    field("taken_at").value = new Date(file.lastModified || Date.now()).toISOString();
    if (file.type.indexOf("image/") === 0) {
      preview.src = URL.createObjectURL(file);
      preview.hidden = false;
    }
    if (navigator.geolocation) {
      navigator.geolocation.getCurrentPosition(function (pos) {
        field("latitude").value = pos.coords.latitude.toFixed(6);
        field("longitude").value = pos.coords.longitude.toFixed(6);
        field("accuracy_m").value = Math.round(pos.coords.accuracy);
        where.textContent = pos.coords.latitude.toFixed(5) + ", " + pos.coords.longitude.toFixed(5);
      }, function () { where.textContent = ""; }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    }
  });
})();
