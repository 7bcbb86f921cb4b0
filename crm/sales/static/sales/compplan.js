/* Charts of the competitor analyses and plan vs actual (COMP-2, SAL-11, SAL-7): the numbers come
   from json_script blocks on the page (no inline script). */
(function () {
  "use strict";
  function labels() { var el = document.getElementById("compplan-labels"); return el ? el.dataset : {}; }
  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var c = echarts.init(el);
    c.setOption(option);
    window.addEventListener("resize", function () { c.resize(); });
  }
  function read(id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; }
  document.addEventListener("DOMContentLoaded", function () {
    if (typeof echarts === "undefined") { return; }
    var L = labels();
    var winloss = read("winloss-data");
    if (winloss) {
      var series = [];
      winloss.competitors.forEach(function (c) {
        series.push({ name: c.name + " · " + L.won, type: "bar", stack: "won", data: c.won });
        series.push({ name: c.name + " · " + L.lost, type: "bar", stack: "lost", data: c.lost });
      });
      chart("chart-winloss", { tooltip: { trigger: "axis" }, legend: { type: "scroll" },
        xAxis: { type: "category", data: winloss.periods }, yAxis: { type: "value", minInterval: 1 }, series: series });
    }
    var lost = read("lost-data");
    if (lost) {
      ["by_reason", "by_competitor", "by_owner", "by_product"].forEach(function (key) {
        var rows = lost[key] || [];
        chart("chart-" + key, { tooltip: { trigger: "item" },
          series: [{ type: "pie", radius: ["35%", "70%"],
            data: rows.map(function (r) { return { name: r.name, value: r.count }; }) }] });
      });
    }
    var plan = read("plan-data");
    if (plan) {
      chart("chart-plan", { tooltip: { trigger: "axis" }, legend: { data: [L.target, L.actual, L.completion] },
        xAxis: { type: "category", data: plan.names },
        yAxis: [{ type: "value" }, { type: "value", axisLabel: { formatter: "{value}%" } }],
        series: [
          { name: L.target, type: "bar", data: plan.target.map(function (v) { return v === null ? null : Number(v); }) },
          { name: L.actual, type: "bar", data: plan.actual.map(Number) },
          { name: L.completion, type: "line", yAxisIndex: 1, data: plan.completion }
        ] });
    }
    document.body.dataset.chartsReady = "1";
  });
})();
