// 问答库: search, edit (a seed entry becomes an override), disable, versions, Excel.
// `#faq?new=<question>` (from 待改进) opens a new entry pre-filled with the question and,
// as a suggested source, the best current article the hit test finds for it.
import { el, errorBox, fill, followJob } from "./dom.js";

export async function mount(container, api) {
  const me = await api("/api/staff/me");
  const errors = errorBox();
  const status = el("p", { id: "faq-status", role: "status", "aria-live": "polite" });
  const search = el("input", { type: "search", id: "faq-q" });
  const list = el("tbody");
  const editor = el("section", { "aria-label": "编辑条目" });

  async function refresh() {
    const { items } = await api(`/api/staff/faq?q=${encodeURIComponent(search.value)}`);
    list.replaceChildren(...items.map((i) => el("tr", {},
      el("td", {}, el("button", { type: "button", onclick: () => edit(i) }, i.id)),
      el("td", {}, i.topic), el("td", {}, i.questions[0] || ""),
      el("td", {}, { seed: "内置", seed_override: "内置（已修改）", console: "后台" }[i.origin]),
      el("td", {}, i.state === "disabled" ? "已停用" : i.state === "pending" ? "待审核（新）" : i.pending ? "启用（有待审核的修改）" : "启用"),
    )));
  }

  async function run(promise) {
    errors.clear();
    try {
      const result = await promise;
      if (result && result.pending) status.textContent = "已提交，等待管理员审核后生效。";
      if (result && result.job_id) await followJob(api, result.job_id, (j) => { status.textContent = j.message; });
      await refresh();
      return result;
    } catch (err) { errors.show(err); return null; }
  }

  function field(id, label, node) { return [el("label", { for: id }, label), node, el("br")]; }

  function edit(item, prefill = null) {
    const isNew = !item;
    item = item || { id: "", topic: "", questions: [], answer: "", sources: [], date: "", ...(prefill || {}) };
    const f = {
      id: el("input", { id: "faq-id", value: item.id, disabled: !isNew }),
      topic: el("input", { id: "faq-topic", value: item.topic }),
      questions: el("textarea", { id: "faq-questions", rows: "4" }),
      answer: el("textarea", { id: "faq-answer", rows: "4" }),
      sources: el("textarea", { id: "faq-sources", rows: "2" }),
      date: el("input", { id: "faq-date", type: "date", value: item.date || "" }),
    };
    f.questions.value = item.questions.join("\n");
    f.answer.value = item.answer;
    f.sources.value = item.sources.map((s) => `${s.doc} ${s.clause}`).join("\n");
    const form = el("form", {},
      ...field("faq-id", "编号", f.id), ...field("faq-topic", "主题", f.topic),
      ...field("faq-questions", "问题（每行一个，至少 3 个）", f.questions),
      ...field("faq-answer", "答案", f.answer),
      ...field("faq-sources", "依据（文档编号 条款，每行一个）", f.sources),
      ...field("faq-date", "日期", f.date),
      el("button", { type: "submit" }, "保存"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const json = {
        id: f.id.value || null, topic: f.topic.value,
        questions: f.questions.value.split("\n").map((q) => q.trim()).filter(Boolean),
        answer: f.answer.value,
        sources: f.sources.value.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => {
          const at = l.lastIndexOf(" "); return { doc: l.slice(0, at), clause: l.slice(at + 1) };
        }),
        date: f.date.value || null,
      };
      run(isNew ? api("/api/staff/faq", { method: "POST", json })
        : api(`/api/staff/faq/${encodeURIComponent(item.id)}`, { method: "PUT", json })).then((r) => {
        if (r && r.id) edit(r);
      });
    });
    const history = el("ol");
    if (!isNew) {
      api(`/api/staff/faq/${item.id}/versions`).then(({ items }) => history.replaceChildren(...items.map((v) =>
        el("li", {}, `第 ${v.version} 版 · ${v.action} · ${v.actor} · ${v.at} `,
          el("button", { type: "button", "data-version": v.version, onclick: () => run(api(`/api/staff/faq/${encodeURIComponent(item.id)}/rollback/${v.version}`, { method: "POST" })).then((r) => { if (r && r.snapshot) edit({ ...r.snapshot, version: r.version }); }) }, "回滚到此版"))))).catch((err) => errors.show(err));
    }
    const pendingNote = item.pending
      ? el("p", { className: "muted", id: "faq-pending" }, `待审核的修改（${item.pending.by}）：${item.pending.answer}`)
      : null;
    const approve = !isNew && item.pending && me.role === "admin"
      ? [el("button", { type: "button", id: "faq-approve", onclick: () => run(api(`/api/staff/faq/${encodeURIComponent(item.id)}/approve`, { method: "POST" })) }, "审核通过"),
        el("button", { type: "button", id: "faq-reject", onclick: () => run(api(`/api/staff/faq/${encodeURIComponent(item.id)}/reject`, { method: "POST" })) }, "退回")]
      : [];
    fill(editor, el("h3", {}, isNew ? "新建条目" : `编辑 ${item.id}`), pendingNote, ...approve, form,
      isNew ? null : el("button", { type: "button", onclick: () => run(api(`/api/staff/faq/${item.id}/disable${item.state === "disabled" ? "?enable=true" : ""}`, { method: "POST" })) }, item.state === "disabled" ? "启用" : "停用"),
      el("h4", {}, "版本历史"), history);
  }

  async function download(path, name) {
    try {
      const blob = await api(path);
      const link = el("a", { href: URL.createObjectURL(blob), download: name });
      link.click();
    } catch (err) { errors.show(err); }
  }

  const importFile = el("input", { type: "file", id: "faq-import", accept: ".xlsx" });
  const report = el("pre", { "aria-live": "polite" });
  const importForm = el("form", {}, el("label", { for: "faq-import" }, "导入 Excel"), importFile, el("button", { type: "submit" }, "导入"));
  importForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!importFile.files.length) return;
    const form = new FormData();
    form.append("file", importFile.files[0]);
    const r = await run(api("/api/staff/faq/import", { method: "POST", form }));
    if (r) report.textContent = [`新增 ${r.created.length}，修改 ${r.changed.length}，未变 ${r.unchanged.length}，失败 ${r.failed.length}`, ...r.failed.map((f) => f.message)].join("\n");
  });
  const searchForm = el("form", { role: "search" }, el("label", { for: "faq-q" }, "搜索"), search, el("button", { type: "submit" }, "搜索"));
  searchForm.addEventListener("submit", (event) => { event.preventDefault(); refresh().catch((e) => errors.show(e)); });

  container.replaceChildren(el("h2", {}, "问答库"), searchForm,
    el("button", { type: "button", onclick: () => edit(null) }, "新建条目"),
    el("button", { type: "button", onclick: () => download("/api/staff/faq/export.xlsx", "faq.xlsx") }, "导出 Excel"),
    el("button", { type: "button", onclick: () => download("/api/staff/faq/template.xlsx", "faq-template.xlsx") }, "下载模板"),
    importForm, report, status, errors.node,
    el("table", {}, el("thead", {}, el("tr", {}, ...["编号", "主题", "问题", "来源", "状态"].map((h) => el("th", { scope: "col" }, h)))), list),
    editor);
  // From 待改进: a new entry with the question, the best current article as its source.
  async function fromHash() {
    const match = /^#faq\?new=(.*)$/.exec(location.hash);
    if (!match) return;
    const question = decodeURIComponent(match[1]);
    history.replaceState(null, "", "#faq");
    const prefill = { questions: [question], topic: "待改进" };
    try {
      const r = await api("/api/staff/hittest", { method: "POST", json: { question } });
      const best = r.hits.find((h) => h.kind !== "faq" && h.clause && !h.superseded_by);
      if (best) prefill.sources = [{ doc: best.doc, clause: best.clause }];
    } catch (err) { /* the clerk types the source */ }
    edit(null, prefill);
    container.querySelector("#faq-answer").focus();
  }

  refresh().catch((err) => errors.show(err));
  fromHash();
  window.addEventListener("hashchange", fromHash);
}
