/* Funnel and forecast charts (SAL-3): the numbers come from a json_script block on the page. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("funnel-data");
    if (!source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var labels = document.getElementById("funnel-labels").dataset;
    var funnelEl = document.getElementById("chart-funnel");
    if (funnelEl) {
      var funnel = echarts.init(funnelEl);
      funnel.setOption({
        tooltip: { trigger: "item", formatter: "{b}: {c}" },
        series: [{
          type: "funnel", sort: "none", left: "10%", width: "80%", label: { show: true, position: "inside" },
          data: data.stages.map(function (s) { return { name: s.name + " (" + s.count + ")", value: Number(s.total) }; })
        }]
      });
      window.addEventListener("resize", function () { funnel.resize(); });
    }
    var monthsEl = document.getElementById("chart-months");
    if (monthsEl) {
      var months = echarts.init(monthsEl);
      months.setOption({
        tooltip: { trigger: "axis" },
        legend: { data: [labels.total, labels.weighted] },
        xAxis: { type: "category", data: data.months.map(function (m) { return m.month; }) },
        yAxis: { type: "value" },
        series: [
          { name: labels.total, type: "bar", data: data.months.map(function (m) { return Number(m.total); }) },
          { name: labels.weighted, type: "bar", data: data.months.map(function (m) { return Number(m.weighted); }) }
        ]
      });
      window.addEventListener("resize", function () { months.resize(); });
    }
    document.body.dataset.chartsReady = "1";
  });
})();
