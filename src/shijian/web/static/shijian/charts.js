/* Dashboard charts: each <div class="chart" data-spec="ID"> is drawn from the JSON in <script id="ID">
   ({kind: "bar"|"line"|"pie", categories, series: [{name, data, stack}], links, band}) with the ECharts library
   served by this site (no CDN). A click on a bar, point or slice opens the list behind it (links[index]). */
(function () {
  "use strict";
  function option(spec) {
    var base = {
      animation: false,
      tooltip: { trigger: spec.kind === "pie" ? "item" : "axis" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 48, right: 16, top: 32, bottom: 48, containLabel: true },
    };
    if (spec.kind === "pie") {
      base.series = [{ type: "pie", radius: ["35%", "65%"], data: spec.categories.map(function (c, i) {
        return { name: c, value: spec.series[0].data[i] };
      }) }];
      return base;
    }
    base.xAxis = { type: "category", data: spec.categories, axisLabel: { rotate: spec.categories.length > 8 ? 40 : 0 } };
    base.yAxis = { type: "value" };
    base.series = spec.series.map(function (s) {
      var out = { name: s.name, type: s.type || spec.kind, data: s.data, stack: s.stack, showSymbol: false };
      if (s.band) {  /* a prediction interval: an invisible lower bound with the width stacked on it */
        out.type = "line"; out.stack = s.band; out.lineStyle = { opacity: 0 }; out.symbol = "none";
        out.areaStyle = { opacity: s.base ? 0 : 0.2 }; out.color = "#5470c6";
      }
      return out;
    });
    return base;
  }
  function draw(el) {
    var source = document.getElementById(el.dataset.spec);
    if (!source || typeof echarts === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option(spec));
    if (spec.links) {
      chart.on("click", function (p) {
        var url = spec.links[p.dataIndex];
        if (url) { window.location.href = url; }
      });
    }
    window.addEventListener("resize", function () { chart.resize(); });
    el.dataset.rendered = "1";
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".chart[data-spec]").forEach(draw);
  });
})();
