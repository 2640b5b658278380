// Staff queue page of the 邑问 ticket service.
// Every piece of ticket data is put on the page with textContent, never as HTML, because
// complaints are free text from the public. The token lives in sessionStorage only, so it
// is gone when the tab closes.
"use strict";

(function () {
  const TOKEN_KEY = "yiwen.staffToken";
  const KIND = { complaint: "投诉", report: "举报" };
  const PAGE_SIZE = 20;
  let page = 1;
  let me = null;
  let current = null; // ticket number shown in the detail panel

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
    box.textContent = message;
    box.hidden = !message;
  }

  function fmtTime(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString("zh-CN", { hour12: false });
  }

  async function api(path, options) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const headers = { Authorization: "Bearer " + token };
    const init = Object.assign({ headers: headers }, options || {});
    if (init.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(init.body);
    }
    const response = await fetch(path, init);
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    if (!response.ok) {
      let message = "请求失败（" + response.status + "）";
      if (data && typeof data.detail === "string") message = data.detail;
      if (data && Array.isArray(data.detail)) {
        message = data.detail.map((d) => d.message).join("\n");
      }
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  async function login(event) {
    if (event) event.preventDefault();
    const typed = $("token").value.trim();
    if (typed) sessionStorage.setItem(TOKEN_KEY, typed);
    $("token").value = "";
    if (!sessionStorage.getItem(TOKEN_KEY)) return;
    try {
      me = await api("/api/staff/me");
    } catch (e) {
      sessionStorage.removeItem(TOKEN_KEY);
      $("app").hidden = true;
      showError(e.message);
      return;
    }
    showError("");
    const roleName = { admin: "管理员", editor: "知识编辑" }[me.role] || me.role;
    $("whoami").textContent = "当前：" + me.name + "（" + (me.county || roleName) + "）";
    $("f-county-label").hidden = me.role !== "admin";
    $("d-assign").hidden = true;
    $("app").hidden = false;
    // The console shell (console/shell.js) builds the tabs this role may use.
    document.dispatchEvent(new CustomEvent("yiwen:login", { detail: me }));
    page = 1;
    if (me.role === "admin" || me.role === "county") await loadQueue();
  }

  function logout() {
    sessionStorage.removeItem(TOKEN_KEY);
    me = null;
    current = null;
    $("app").hidden = true;
    $("detail").hidden = true;
    $("whoami").textContent = "";
    clear($("rows"));
    document.dispatchEvent(new CustomEvent("yiwen:logout"));
  }

  async function loadQueue(event) {
    if (event) event.preventDefault();
    const params = new URLSearchParams({ page: String(page), page_size: String(PAGE_SIZE) });
    if ($("f-status").value) params.set("status", $("f-status").value);
    if ($("f-kind").value) params.set("kind", $("f-kind").value);
    if (me && me.role === "admin" && $("f-county").value) params.set("county", $("f-county").value);
    if ($("f-overdue").checked) params.set("overdue", "true");
    let data;
    try {
      data = await api("/api/staff/tickets?" + params.toString());
    } catch (e) {
      showError(e.message);
      return;
    }
    showError("");
    const body = $("rows");
    clear(body);
    for (const t of data.items) {
      const row = el("tr");
      if (t.overdue) row.classList.add("overdue");
      if (t.ticket_no === current) row.classList.add("selected");
      row.appendChild(el("td", t.ticket_no));
      row.appendChild(el("td", KIND[t.kind] || t.kind));
      row.appendChild(el("td", t.status));
      row.appendChild(el("td", t.county));
      let due = t.due_date || "—";
      if (t.due_date && t.deadline_provisional) due += "（暂定）";
      if (t.overdue) due += " 已逾期";
      row.appendChild(el("td", due, "due"));
      row.appendChild(el("td", fmtTime(t.received_at)));
      row.appendChild(el("td", t.respondent_name || ""));
      row.appendChild(el("td", (t.flags || []).map(flagText).join("、")));
      row.addEventListener("click", () => openTicket(t.ticket_no));
      body.appendChild(row);
    }
    const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
    $("page-info").textContent = "第 " + page + " / " + pages + " 页，共 " + data.total + " 条";
    $("prev").disabled = page <= 1;
    $("next").disabled = page >= pages;
  }

  function flagText(flag) {
    return (
      {
        over_3_years: "超过三年",
        unassigned: "待分派",
        deadline_provisional: "期限暂定",
      }[flag] || flag
    );
  }

  function addField(list, label, value) {
    if (value === null || value === undefined || value === "") return;
    list.appendChild(el("dt", label));
    list.appendChild(el("dd", Array.isArray(value) ? value.join("\n") : value));
  }

  function renderDetail(t) {
    current = t.ticket_no;
    $("detail").hidden = false;
    $("d-title").textContent = t.ticket_no + " · " + (KIND[t.kind] || t.kind) + " · " + t.status;
    const fields = $("d-fields");
    clear(fields);
    addField(fields, "县区", t.county);
    addField(fields, "分派说明", t.routing_note);
    addField(fields, "收到时间", fmtTime(t.received_at));
    addField(fields, "受理期限", t.accept_deadline + (t.deadline_provisional ? "（暂定）" : ""));
    addField(fields, "调解期限", t.mediation_deadline);
    addField(fields, "投诉人", t.anonymous ? "匿名" : t.complainant_name);
    addField(fields, "联系电话", t.complainant_phone);
    addField(fields, "通讯地址", t.complainant_address);
    addField(fields, "代他人投诉", t.proxy ? "是（需授权委托书）" : "");
    addField(fields, "被投诉人", t.respondent_name);
    addField(fields, "被投诉人地址", t.respondent_address);
    addField(fields, "电商平台", t.respondent_is_platform ? "是" : "");
    addField(fields, "事发日期", t.incident_date);
    addField(fields, "商品或服务", t.product);
    addField(fields, "订单号", t.order_no);
    addField(fields, "金额（元）", t.amount);
    addField(fields, "投诉请求", t.demand);
    addField(fields, "具体请求", t.demand_detail);
    addField(fields, "事实经过", t.facts);
    addField(fields, "证据", t.evidence);
    addField(fields, "提示", t.warnings);
    addField(fields, "来源", (t.channel || "") + (t.sender_id ? " / " + t.sender_id : ""));

    const history = $("d-history");
    clear(history);
    for (const h of t.history) {
      const text = fmtTime(h.at) + " " + h.status + " · " + h.actor + (h.reason ? " · " + h.reason : "");
      history.appendChild(el("li", text));
    }
    const notes = $("d-notes");
    clear(notes);
    for (const n of t.notes) notes.appendChild(el("li", fmtTime(n.at) + " " + n.author + "：" + n.text));

    const actions = $("d-actions");
    clear(actions);
    if (!t.allowed_actions.length) actions.appendChild(el("span", "无可执行操作", "muted"));
    for (const action of t.allowed_actions) {
      const button = el("button", action);
      button.type = "button";
      button.addEventListener("click", () => runAction(action));
      actions.appendChild(button);
    }
    // Admins assign any open ticket; a county officer may hand one back to 待分派.
    $("d-assign").hidden = t.status === "不予受理" || t.status === "办结";
  }

  async function openTicket(ticketNo) {
    try {
      renderDetail(await api("/api/staff/tickets/" + encodeURIComponent(ticketNo)));
      showError("");
    } catch (e) {
      showError(e.message);
    }
  }

  async function runAction(action) {
    const reason = $("d-reason").value.trim();
    try {
      const t = await api("/api/staff/tickets/" + encodeURIComponent(current) + "/transitions", {
        method: "POST",
        body: { action: action, reason: reason || null },
      });
      $("d-reason").value = "";
      renderDetail(t);
      showError("");
      await loadQueue();
    } catch (e) {
      showError(e.message);
    }
  }

  async function addNote() {
    const text = $("d-note").value.trim();
    if (!text || !current) return;
    try {
      const t = await api("/api/staff/tickets/" + encodeURIComponent(current) + "/notes", {
        method: "POST",
        body: { text: text },
      });
      $("d-note").value = "";
      renderDetail(t);
      showError("");
    } catch (e) {
      showError(e.message);
    }
  }

  async function assign() {
    const reason = $("d-reason").value.trim();
    try {
      const t = await api("/api/staff/tickets/" + encodeURIComponent(current) + "/assign", {
        method: "POST",
        body: { county: $("d-county").value, reason: reason || null },
      });
      $("d-reason").value = "";
      renderDetail(t);
      showError("");
      await loadQueue();
    } catch (e) {
      showError(e.message);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("login").addEventListener("submit", login);
    $("logout").addEventListener("click", logout);
    $("filters").addEventListener("submit", (e) => {
      page = 1;
      loadQueue(e);
    });
    $("prev").addEventListener("click", () => {
      page = Math.max(1, page - 1);
      loadQueue();
    });
    $("next").addEventListener("click", () => {
      page += 1;
      loadQueue();
    });
    $("find").addEventListener("submit", (e) => {
      e.preventDefault();
      const ticketNo = $("find-no").value.trim().toUpperCase();
      if (ticketNo) openTicket(ticketNo);
    });
    $("d-add-note").addEventListener("click", addNote);
    $("d-assign-btn").addEventListener("click", assign);
    if (sessionStorage.getItem(TOKEN_KEY)) login();
  });
})();
