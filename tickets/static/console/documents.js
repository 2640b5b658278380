// 文档: upload with job progress, list, chunk preview, metadata, publish/disable/delete.
import { el, errorBox, fill, followJob } from "./dom.js";

const FIELDS = [
  ["title", "标题", "text"], ["date", "发布日期", "date"], ["issuer", "发布机关", "text"],
  ["region", "地区", "text"], ["effective_from", "施行日期", "date"],
  ["repealed_on", "废止日期", "date"], ["superseded_by", "被取代为", "text"],
];

export function mount(container, api) {
  const errors = errorBox();
  const fileInput = el("input", { type: "file", id: "doc-file", accept: ".docx,.pdf,.txt,.md" });
  const progress = el("progress", { id: "doc-progress", max: "1", value: "0", hidden: true });
  const status = el("p", { id: "doc-status", role: "status", "aria-live": "polite" });
  const list = el("tbody");
  const detail = el("section", { id: "doc-detail", "aria-label": "文档详情" });

  async function refresh() {
    const { items } = await api("/api/staff/documents");
    list.replaceChildren(...items.map((d) => el("tr", {},
      el("td", {}, el("button", { type: "button", onclick: () => show(d.id) }, d.title)),
      el("td", {}, d.state_label), el("td", {}, d.date || "—"),
      el("td", {}, d.repealed_on ? `${d.repealed_on}${d.repealed ? "（已废止）" : ""}` : "—"),
      el("td", {}, String(d.chunk_count)),
    )));
  }

  async function act(path, options) {
    errors.clear();
    try {
      const result = await api(path, options);
      if (result && result.job_id) await followJob(api, result.job_id, showJob);
      await refresh();
      if (result && result.id) await show(result.id);
    } catch (err) { errors.show(err); }
  }

  function showJob(job) {
    progress.hidden = false;
    progress.value = job.progress;
    status.textContent = `${{ queued: "排队中", running: "进行中", done: "已完成", failed: "失败" }[job.state]}：${job.message}`;
  }

  async function show(id) {
    const d = await api(`/api/staff/documents/${id}`);
    const form = el("form", { id: "doc-meta" });
    for (const [key, label, type] of FIELDS) {
      const input = el("input", { type, id: `meta-${key}`, name: key, value: d[key] || "" });
      form.append(el("label", { for: `meta-${key}` }, label), input, el("br"));
    }
    form.append(el("button", { type: "submit" }, "保存信息"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const json = {};
      for (const [key] of FIELDS) json[key] = form.elements[key].value || null;
      if (!json.title) delete json.title;
      act(`/api/staff/documents/${id}`, { method: "PATCH", json });
    });
    const chunks = el("ol", {}, ...d.chunks.map((c) => el("li", {},
      el("strong", {}, c.label || "（无标号）"), " ", c.disabled ? "（已停用）" : "",
      el("p", {}, c.text),
      el("button", { type: "button", onclick: () => act(`/api/staff/documents/${id}/chunks/${c.id}/disable${c.disabled ? "?enable=true" : ""}`, { method: "POST" }) },
        c.disabled ? "恢复此条" : "停用此条"),
    )));
    const repeals = d.repeals.length
      ? el("p", {}, "本文废止：", d.repeals.map((r) => `《${r.title}》${r.article}`).join("、"))
      : null;
    fill(detail,
      el("h3", {}, d.title), el("p", { className: "muted" }, `${d.filename} · 第 ${d.version} 版 · ${d.state_label}`),
      repeals, form,
      el("div", { id: "doc-actions" },
        el("button", { type: "button", onclick: () => act(`/api/staff/documents/${id}/publish`, { method: "POST" }) }, "发布"),
        el("button", { type: "button", onclick: () => act(`/api/staff/documents/${id}/disable`, { method: "POST" }) }, "停用"),
        el("button", { type: "button", onclick: () => { if (confirm("确定删除该文档？")) act(`/api/staff/documents/${id}`, { method: "DELETE" }); } }, "删除"),
      ),
      el("h4", {}, "片段"), chunks,
    );
  }

  const upload = el("form", { id: "doc-upload" },
    el("label", { for: "doc-file" }, "上传文档（.docx .pdf .txt .md）"), fileInput,
    el("button", { type: "submit" }, "上传"));
  upload.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.clear();
    if (!fileInput.files.length) { errors.show("请选择要上传的文件。"); return; }
    const form = new FormData();
    form.append("file", fileInput.files[0]);
    try {
      const { job_id } = await api("/api/staff/documents", { method: "POST", form });
      await followJob(api, job_id, showJob);
      await refresh();
    } catch (err) { errors.show(err); }
  });

  container.replaceChildren(
    el("h2", {}, "文档"), upload, progress, status, errors.node,
    el("table", {}, el("thead", {}, el("tr", {}, ...["标题", "状态", "日期", "废止", "片段"].map((h) => el("th", { scope: "col" }, h)))), list),
    detail,
  );
  refresh().catch((err) => errors.show(err));
}
