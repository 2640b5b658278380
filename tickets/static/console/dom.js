// Small DOM and API helpers for the knowledge pages: all text goes in as text nodes.

/** el("button", {type: "button", onclick: fn}, "发布") */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "className") node.className = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** api(path, {method, json, form}): parsed JSON, or throws an Error carrying the Chinese detail. */
export function makeApi(getToken) {
  return async function api(path, { method = "GET", json, form } = {}) {
    const headers = { Authorization: `Bearer ${getToken()}` };
    let body;
    if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
    if (form !== undefined) body = form;
    const response = await fetch(path, { method, headers, body });
    const type = response.headers.get("content-type") || "";
    const data = type.includes("json") ? await response.json() : await response.blob();
    if (!response.ok) {
      const detail = data && data.detail;
      const text = Array.isArray(detail) ? detail.map((d) => d.message).join("\n") : detail;
      throw new Error(text || `请求失败（${response.status}）`);
    }
    return data;
  };
}

/** node.replaceChildren, skipping null/false (the DOM would print them as "null"). */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

export function errorBox() {
  const box = el("p", { className: "error", role: "alert", hidden: true });
  return {
    node: box,
    show(err) { box.textContent = err instanceof Error ? err.message : String(err); box.hidden = false; },
    clear() { box.textContent = ""; box.hidden = true; },
  };
}

/** Poll a job until done or failed; onUpdate gets each state. */
export async function followJob(api, jobId, onUpdate) {
  for (;;) {
    const job = await api(`/api/staff/jobs/${jobId}`);
    onUpdate(job);
    if (job.state === "done" || job.state === "failed") return job;
    await new Promise((r) => setTimeout(r, 700));
  }
}
