// 命中测试: the engine's hits, confidence against thresholds, matched FAQ, lead, abstention.
import { el, errorBox } from "./dom.js";

export function mount(container, api, { question = "" } = {}) {
  const errors = errorBox();
  const input = el("input", { id: "ht-question", size: "60", value: question });
  const out = el("section", { "aria-live": "polite" });
  const form = el("form", {}, el("label", { for: "ht-question" }, "问题"), input, el("button", { type: "submit" }, "测试"));

  async function run() {
    errors.clear();
    try {
      const r = await api("/api/staff/hittest", { method: "POST", json: { question: input.value } });
      const c = r.confidence;
      out.replaceChildren(
        el("p", {}, r.abstained ? "机器人将拒答（转人工）。" : `机器人首句：${r.lead}`),
        el("p", { className: "muted" }, `首句出处：${r.lead_citation || "—"} · 问题类型：${r.question_type} · 关键词：${r.key_terms.join("、")}`),
        el("p", {}, `条文相似度 ${c.passage}（阈值 ${c.passage_threshold}），问答相似度 ${c.faq}（阈值 ${c.faq_threshold}）：${c.confident ? "达到" : "未达到"}`),
        r.matched_faq ? el("p", {}, `匹配问答 ${r.matched_faq.id}：相似度 ${r.matched_faq.similarity}，${r.matched_faq.agrees ? "类型与关键词一致" : "类型或关键词不一致"}${r.matched_faq.leads ? "，作为答案" : ""}`) : el("p", {}, "没有匹配的问答条目。"),
        el("table", {}, el("thead", {}, el("tr", {}, ...["名次", "出处", "综合分", "向量", "关键词", "问答", "失效"].map((h) => el("th", { scope: "col" }, h)))),
          el("tbody", {}, ...r.hits.map((h) => el("tr", {}, el("td", {}, h.rank), el("td", {}, h.citation), el("td", {}, h.score), el("td", {}, h.dense), el("td", {}, h.bm25), el("td", {}, h.faq), el("td", {}, h.superseded_by || ""))))),
        el("h4", {}, "完整回答"), el("pre", {}, r.answer),
      );
    } catch (err) { errors.show(err); }
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); run(); });
  container.replaceChildren(el("h2", {}, "命中测试"), form, errors.node, out);
  if (question) run();
}
