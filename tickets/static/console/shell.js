// 邑问 staff console shell: tabs by role, and the 待改进 / 统计 / 导出 pages.
//
// Contracts with the page modules (documents.js, faq.js, hittest.js in this folder):
// - each exports `mount(container, api)`; the shell imports it the first time its tab is
//   opened (a missing or broken module shows "加载失败" in the tab, nothing else breaks);
// - `api(path, {method, json, form})` adds `Authorization: Bearer <token>`, sends `json`
//   as JSON or `form` (a FormData) as multipart, and returns the parsed JSON, or throws an
//   Error whose message is the server's Chinese `detail` (`error.status` is the HTTP code);
// - hand-over from 待改进 to 问答库: the shell sets
//     location.hash = "#faq?new=" + encodeURIComponent(question)
//   and opens the 问答库 tab; faq.js reads `new` from location.hash (on mount and on
//   `hashchange`) to pre-fill a new entry. `#<tab>` alone opens a tab (e.g. #stats).
//
// All data goes on the page with textContent (never innerHTML): questions are the
// public's own words. The token is staff.js's, in sessionStorage.
const TOKEN_KEY = "yiwen.staffToken";

const TABS = [
  { id: "tickets", label: "工单", roles: ["admin", "county"] },
  { id: "documents", label: "文档", roles: ["admin", "editor"], module: "./documents.js" },
  { id: "faq", label: "问答库", roles: ["admin", "editor"], module: "./faq.js" },
  { id: "hittest", label: "命中测试", roles: ["admin", "editor"], module: "./hittest.js" },
  { id: "review", label: "待改进", roles: ["admin", "editor"] },
  { id: "stats", label: "统计", roles: ["admin", "county", "editor"] },
  { id: "export", label: "导出", roles: ["admin", "county"] },
];
const CHANNELS = { rest: "网页接口", socketio: "网页对话", wechat: "微信", api: "问答接口", unknown: "未知" };

let me = null;
const mounted = new Set();

const $ = (id) => document.getElementById(id);

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

export async function api(path, options = {}) {
  const headers = { Authorization: "Bearer " + sessionStorage.getItem(TOKEN_KEY) };
  const init = { method: options.method || "GET", headers };
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.json);
  } else if (options.form !== undefined) {
    init.body = options.form;
  }
  const response = await fetch(path, init);
  let data = null;
  const type = response.headers.get("content-type") || "";
  try {
    // A file (the FAQ's Excel export and template) comes back as a Blob to download.
    data = response.ok && !type.includes("json") ? await response.blob() : await response.json();
  } catch (e) {
    data = null;
  }
  if (!response.ok) {
    let message = "请求失败（" + response.status + "）";
    if (data && typeof data.detail === "string") message = data.detail;
    if (data && Array.isArray(data.detail)) message = data.detail.map((d) => d.message).join("\n");
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return data;
}

// --- tabs -------------------------------------------------------------------------------

function visibleTabs() {
  return TABS.filter((t) => me && t.roles.includes(me.role));
}

function buildTabs() {
  const bar = $("tabs");
  clear(bar);
  for (const tab of TABS) $("panel-" + tab.id).hidden = true;
  for (const tab of visibleTabs()) {
    const button = el("button", tab.label, "tab");
    button.type = "button";
    button.id = "tab-" + tab.id;
    button.setAttribute("role", "tab");
    button.setAttribute("aria-controls", "panel-" + tab.id);
    button.setAttribute("aria-selected", "false");
    button.tabIndex = -1;
    button.dataset.tab = tab.id;
    button.addEventListener("click", () => selectTab(tab.id, true));
    button.addEventListener("keydown", onTabKey);
    bar.appendChild(button);
  }
}

function onTabKey(event) {
  const buttons = Array.from($("tabs").querySelectorAll("[role=tab]"));
  const index = buttons.indexOf(event.currentTarget);
  let next = null;
  if (event.key === "ArrowRight") next = buttons[(index + 1) % buttons.length];
  if (event.key === "ArrowLeft") next = buttons[(index - 1 + buttons.length) % buttons.length];
  if (event.key === "Home") next = buttons[0];
  if (event.key === "End") next = buttons[buttons.length - 1];
  if (next) {
    event.preventDefault();
    next.focus();
    selectTab(next.dataset.tab, true);
  }
}

function hashTab() {
  const name = location.hash.replace(/^#/, "").split("?")[0];
  return visibleTabs().some((t) => t.id === name) ? name : null;
}

async function selectTab(id, updateHash) {
  const tabs = visibleTabs();
  if (!tabs.some((t) => t.id === id)) id = tabs.length ? tabs[0].id : null;
  if (!id) return;
  for (const tab of tabs) {
    const button = $("tab-" + tab.id);
    const active = tab.id === id;
    button.setAttribute("aria-selected", String(active));
    button.tabIndex = active ? 0 : -1;
    $("panel-" + tab.id).hidden = !active;
  }
  if (updateHash && location.hash.replace(/^#/, "").split("?")[0] !== id) {
    history.replaceState(null, "", "#" + id);
  }
  await openPanel(TABS.find((t) => t.id === id));
}

async function openPanel(tab) {
  const panel = $("panel-" + tab.id);
  if (tab.module) {
    if (mounted.has(tab.id)) return;
    mounted.add(tab.id);
    try {
      const module = await import(tab.module);
      await module.mount(panel, api);
    } catch (e) {
      mounted.delete(tab.id);
      clear(panel);
      panel.appendChild(el("p", "加载失败：" + tab.label + "页面暂不可用（" + e.message + "）。", "error"));
    }
    return;
  }
  if (tab.id === "review") await loadReview();
  if (tab.id === "stats") await loadStats();
  if (tab.id === "export") setUpExport();
}

// --- 待改进 -----------------------------------------------------------------------------

function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString("zh-CN", { hour12: false });
}

async function loadReview() {
  const list = $("review-groups");
  $("review-status").textContent = "正在加载…";
  let data;
  try {
    data = await api("/api/staff/review");
  } catch (e) {
    $("review-status").textContent = "";
    showError(e.message);
    return;
  }
  clear(list);
  $("review-status").textContent = data.groups.length
    ? "共 " + data.groups.length + " 组待处理。"
    : "没有待改进的提问。";
  for (const group of data.groups) list.appendChild(reviewItem(group));
}

function reviewItem(group) {
  const item = el("li", null, "review-item");
  const title = el("h3", group.question);
  item.appendChild(title);
  const facts = [group.count + " 次"];
  if (group.abstained) facts.push("未能回答 " + group.abstained);
  if (group.unhelpful) facts.push("没帮助 " + group.unhelpful);
  facts.push("最近：" + fmtTime(group.last_asked));
  item.appendChild(el("p", facts.join(" · "), "muted"));
  if (group.examples.length > 1) {
    const examples = el("ul", null, "examples");
    for (const text of group.examples) examples.appendChild(el("li", text));
    item.appendChild(examples);
  }
  const actions = el("div", null, "actions");
  const toFaq = el("button", "写入问答库", "primary");
  toFaq.type = "button";
  toFaq.addEventListener("click", () => {
    location.hash = "#faq?new=" + encodeURIComponent(group.question);
  });
  actions.appendChild(toFaq);
  for (const [decision, label] of [["resolve", "已解决"], ["ignore", "忽略"]]) {
    const button = el("button", label);
    button.type = "button";
    button.addEventListener("click", async () => {
      try {
        await api("/api/staff/review/" + group.id + "/" + decision, { method: "POST" });
        showError("");
        await loadReview();
      } catch (e) {
        showError(e.message);
      }
    });
    actions.appendChild(button);
  }
  item.appendChild(actions);
  return item;
}

// --- 统计 -------------------------------------------------------------------------------

let echartsReady = null;
const charts = [];

function loadEcharts() {
  if (window.echarts) return Promise.resolve(window.echarts);
  if (!echartsReady) {
    echartsReady = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "/staff/vendor/echarts.min.js";
      script.onload = () => resolve(window.echarts);
      script.onerror = async () => {
        echartsReady = null;
        let message = "统计图表库加载失败。";
        try {
          const r = await fetch(script.src);
          const body = await r.json();
          if (body && body.detail) message = body.detail;
        } catch (e) {
          /* keep the generic message */
        }
        reject(new Error(message));
      };
      document.head.appendChild(script);
    });
  }
  return echartsReady;
}

function pct(part, whole) {
  return whole ? ((100 * part) / whole).toFixed(1) + "%" : "—";
}

// One figure: the chart, and beside it the same numbers as a table (accessibility).
function figure(id, caption, head, rows, option) {
  const box = el("figure", null, "chart-card");
  box.id = "fig-" + id;
  box.appendChild(el("figcaption", caption));
  const body = el("div", null, "chart-body");
  const chart = el("div", null, "chart");
  chart.id = "chart-" + id;
  chart.setAttribute("aria-hidden", "true");
  body.appendChild(chart);
  const table = el("table", null, "chart-table");
  table.id = "table-" + id;
  table.appendChild(el("caption", caption));
  const thead = el("thead");
  const hr = el("tr");
  for (const h of head) {
    const th = el("th", h);
    th.scope = "col";
    hr.appendChild(th);
  }
  thead.appendChild(hr);
  table.appendChild(thead);
  const tbody = el("tbody");
  for (const row of rows) {
    const tr = el("tr");
    row.forEach((cell, i) => {
      const c = el(i === 0 ? "th" : "td", cell);
      if (i === 0) c.scope = "row";
      tr.appendChild(c);
    });
    tbody.appendChild(tr);
  }
  table.appendChild(tbody);
  body.appendChild(table);
  box.appendChild(body);
  $("stats-charts").appendChild(box);
  return { chart, option };
}

const COLORS = ["#0b5cad", "#c8102e", "#2f9e6e", "#e39b1b", "#6b4fbb", "#1a9bb0", "#8a6d3b", "#5b6773"];

function bar(labels, series, horizontal) {
  const category = { type: "category", data: labels, axisLabel: { interval: 0, width: 140, overflow: "truncate" } };
  const value = { type: "value", minInterval: 1 };
  return {
    color: COLORS,
    tooltip: { trigger: "axis" },
    legend: series.length > 1 ? { top: 0 } : undefined,
    grid: { left: horizontal ? 150 : 40, right: 16, top: series.length > 1 ? 32 : 16, bottom: 32 },
    xAxis: horizontal ? value : category,
    yAxis: horizontal ? Object.assign({}, category, { inverse: true }) : value,
    series: series.map((s) => ({ type: "bar", name: s.name, data: s.data, stack: s.stack })),
  };
}

function questionFigures(q) {
  const out = [];
  const days = [...new Set(q.by_day.map((d) => d.date))].sort();
  const channels = [...new Set(q.by_day.map((d) => d.channel))].sort();
  const cell = (day, ch) => {
    const hit = q.by_day.find((d) => d.date === day && d.channel === ch);
    return hit ? hit.count : 0;
  };
  out.push(
    figure(
      "questions-by-day",
      "每日提问量（按渠道）",
      ["日期", ...channels.map((c) => CHANNELS[c] || c)],
      days.map((day) => [day, ...channels.map((ch) => cell(day, ch))]),
      bar(days, channels.map((ch) => ({ name: CHANNELS[ch] || ch, stack: "all", data: days.map((d) => cell(d, ch)) })))
    )
  );
  const rated = q.helpful + q.unhelpful;
  out.push(
    figure(
      "rates",
      "未能回答率与有帮助率",
      ["指标", "数量", "基数", "比例"],
      [
        ["未能回答", q.abstained, q.total, pct(q.abstained, q.total)],
        ["有帮助", q.helpful, rated, pct(q.helpful, rated)],
        ["没帮助", q.unhelpful, rated, pct(q.unhelpful, rated)],
      ],
      {
        color: COLORS,
        tooltip: { trigger: "axis", valueFormatter: (v) => v + "%" },
        grid: { left: 40, right: 16, top: 16, bottom: 32 },
        xAxis: { type: "category", data: ["未能回答率", "有帮助率"] },
        yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
        series: [
          {
            type: "bar",
            data: [
              q.total ? +((100 * q.abstained) / q.total).toFixed(1) : 0,
              rated ? +((100 * q.helpful) / rated).toFixed(1) : 0,
            ],
          },
        ],
      }
    )
  );
  out.push(
    figure(
      "top-questions",
      "最常问的问题",
      ["问题", "次数"],
      q.top_questions.map((t) => [t.question, t.count]),
      bar(q.top_questions.map((t) => t.question), [{ name: "次数", data: q.top_questions.map((t) => t.count) }], true)
    )
  );
  out.push(
    figure(
      "top-topics",
      "最常涉及的主题（答案所依据的文件）",
      ["主题", "次数"],
      q.top_topics.map((t) => [t.topic, t.count]),
      bar(q.top_topics.map((t) => t.topic), [{ name: "次数", data: q.top_topics.map((t) => t.count) }], true)
    )
  );
  return out;
}

function ticketFigures(t) {
  const out = [];
  const counties = Object.keys(t.by_county);
  out.push(
    figure(
      "tickets-by-county",
      "各县区工单数",
      ["县区", "工单数"],
      counties.map((c) => [c, t.by_county[c]]),
      bar(counties, [{ name: "工单数", data: counties.map((c) => t.by_county[c]) }])
    )
  );
  const statuses = Object.keys(t.by_status);
  out.push(
    figure(
      "tickets-by-status",
      "各状态工单数",
      ["状态", "工单数"],
      statuses.map((s) => [s, t.by_status[s]]),
      {
        color: COLORS,
        tooltip: { trigger: "item" },
        legend: { type: "scroll", bottom: 0 },
        series: [{ type: "pie", radius: ["35%", "65%"], data: statuses.map((s) => ({ name: s, value: t.by_status[s] })) }],
      }
    )
  );
  out.push(
    figure(
      "deadlines",
      "受理期限（待受理工单）",
      ["情况", "工单数"],
      [
        ["已逾期", t.overdue],
        ["3 个工作日内到期（至 " + t.due_3_days_until + "）", t.due_3_days],
      ],
      bar(["已逾期", "3 个工作日内到期"], [{ name: "工单数", data: [t.overdue, t.due_3_days] }])
    )
  );
  const median = t.median_days_to_acceptance;
  out.push(
    figure(
      "acceptance",
      "受理用时中位数（自然日）",
      ["指标", "天数"],
      [["收到至受理", median === null ? "—" : median]],
      {
        color: COLORS,
        series: [
          {
            type: "gauge",
            min: 0,
            max: 14,
            detail: { formatter: median === null ? "—" : "{value} 天", fontSize: 18 },
            data: [{ value: median === null ? 0 : median, name: "中位数" }],
          },
        ],
      }
    )
  );
  return out;
}

async function loadStats(event) {
  if (event) event.preventDefault();
  const params = new URLSearchParams();
  if ($("stats-from").value) params.set("from", $("stats-from").value);
  if ($("stats-to").value) params.set("to", $("stats-to").value);
  $("stats-status").textContent = "正在加载…";
  let data;
  try {
    data = await api("/api/staff/stats" + (params.toString() ? "?" + params : ""));
  } catch (e) {
    $("stats-status").textContent = "";
    showError(e.message);
    return;
  }
  showError("");
  while (charts.length) charts.pop().dispose();
  clear($("stats-charts"));
  const figures = [];
  if (data.questions) figures.push(...questionFigures(data.questions));
  if (data.tickets) figures.push(...ticketFigures(data.tickets));
  const summary = [];
  if (data.questions) summary.push("提问 " + data.questions.total + " 条");
  if (data.tickets) summary.push("工单 " + data.tickets.total + " 件");
  $("stats-status").textContent = summary.join("，") + "。";
  let echarts;
  try {
    echarts = await loadEcharts();
  } catch (e) {
    $("stats-status").textContent += " " + e.message + "（下方表格照常可用）";
    return;
  }
  for (const f of figures) {
    const chart = echarts.init(f.chart, null, { renderer: "canvas" });
    chart.setOption(Object.assign({ animation: false, textStyle: { fontFamily: "inherit" } }, f.option));
    charts.push(chart);
  }
  $("stats-charts").dataset.rendered = String(charts.length);
}

window.addEventListener("resize", () => charts.forEach((c) => c.resize()));

// --- 导出 -------------------------------------------------------------------------------

function setUpExport() {
  const admin = me && me.role === "admin";
  $("export-county-label").hidden = !admin;
}

async function download(format) {
  const params = new URLSearchParams();
  if (me.role === "admin" && $("export-county").value) params.set("county", $("export-county").value);
  if ($("export-from").value) params.set("from", $("export-from").value);
  if ($("export-to").value) params.set("to", $("export-to").value);
  const path = "/api/staff/export/tickets." + format + (params.toString() ? "?" + params : "");
  $("export-status").textContent = "正在导出…";
  const response = await fetch(path, {
    headers: { Authorization: "Bearer " + sessionStorage.getItem(TOKEN_KEY) },
  });
  if (!response.ok) {
    let message = "导出失败（" + response.status + "）";
    try {
      const body = await response.json();
      if (typeof body.detail === "string") message = body.detail;
      if (Array.isArray(body.detail)) message = body.detail.map((d) => d.message).join("\n");
    } catch (e) {
      /* keep the generic message */
    }
    $("export-status").textContent = "";
    showError(message);
    return;
  }
  showError("");
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  const disposition = response.headers.get("content-disposition") || "";
  const match = /filename="([^"]+)"/.exec(disposition);
  link.download = match ? match[1] : "tickets." + format;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  $("export-status").textContent = "已导出：" + link.download;
}

// --- wiring -----------------------------------------------------------------------------

document.addEventListener("yiwen:login", (event) => {
  me = event.detail;
  mounted.clear();
  buildTabs();
  selectTab(hashTab() || (visibleTabs()[0] || {}).id, false);
});

document.addEventListener("yiwen:logout", () => {
  me = null;
  clear($("tabs"));
});

window.addEventListener("hashchange", () => {
  const tab = hashTab();
  if (me && tab) selectTab(tab, false);
});

$("review-refresh").addEventListener("click", loadReview);
$("stats-form").addEventListener("submit", loadStats);
$("export-csv").addEventListener("click", () => download("csv"));
$("export-xlsx").addEventListener("click", () => download("xlsx"));
