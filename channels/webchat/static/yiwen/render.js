/*
 * 邑问 widget — render: bot text and the cards of structured replies, as DOM nodes.
 *
 * Structured replies (core/replies.py) arrive as Rasa's `custom` beside their text:
 *   {type: "answer", abstained, lead, explanation, citations: [{citation, title, clause,
 *    date, quote, superseded_by}], message, offers: [{kind, label, value}]}
 *   {type: "complaint_summary", form, title, fields: [{key, label, value}], hint}
 * A card is drawn from the payload; the text is never parsed. Plain text is shown line
 * by line, with links and ticket references (the server's pattern) marked up.
 * Every piece of bot text reaches the page through textContent or createTextNode;
 * nothing from the network is ever parsed as HTML.
 */
(function (M) {
  "use strict";

  var TEXT = M.state.TEXT;
  var fmt = M.state.fmt;

  var LINK_RE = /https?:\/\/[^\s，。；、！？）)》<>"']+/;
  var TOKEN_RE = new RegExp("(" + LINK_RE.source + ")", "g");

  /* Links, plus ticket references once the server's pattern is known. */
  function useTicketPattern(source) {
    if (typeof source !== "string" || !source) return false;
    try {
      TOKEN_RE = new RegExp("(" + LINK_RE.source + ")|(" + source + ")", "g");
      return true;
    } catch (e) {
      return false; // a pattern this browser cannot read: links only
    }
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function str(value) {
    return typeof value === "string" ? value : "";
  }

  /* Append text with links and ticket numbers marked up, as DOM nodes only. */
  function appendInline(parent, text) {
    var last = 0;
    var m;
    TOKEN_RE.lastIndex = 0;
    while ((m = TOKEN_RE.exec(text)) !== null) {
      if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      if (m[1]) {
        var a = el("a", "yw-link", m[1]);
        a.href = m[1];
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        parent.appendChild(a);
      } else {
        parent.appendChild(el("strong", "yw-ticket", m[2]));
      }
      last = m.index + m[0].length;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  /* One paragraph per non-empty line. */
  function renderText(text, cls) {
    var frag = document.createDocumentFragment();
    String(text)
      .split(/\r?\n/)
      .forEach(function (line) {
        var t = line.trim();
        if (!t) return;
        var p = el("p", cls || null);
        appendInline(p, t);
        frag.appendChild(p);
      });
    return frag;
  }

  // ---------------------------------------------------------------- answer card
  function citationItem(c) {
    var li = el("li", "yw-cite");
    var ref = str(c.citation) || "《" + str(c.title) + "》" + str(c.clause);
    li.appendChild(el("cite", "yw-cite-ref", ref));
    if (str(c.date)) li.appendChild(el("span", "yw-cite-date", fmt(TEXT.citationDate, { date: c.date })));
    if (str(c.superseded_by)) {
      li.appendChild(el("p", "yw-cite-note", fmt(TEXT.superseded, { by: c.superseded_by })));
    }
    if (str(c.quote)) {
      var quote = el("blockquote", "yw-cite-quote");
      quote.setAttribute("aria-label", TEXT.quote);
      var p = el("p");
      appendInline(p, c.quote);
      quote.appendChild(p);
      li.appendChild(quote);
    }
    return li;
  }

  /* Offers of an abstention (12315, a person) that the reply's buttons do not already make. */
  function offerList(offers, buttons) {
    var payloads = (buttons || []).map(function (b) {
      return b.payload;
    });
    var list = el("ul", "yw-offers");
    list.setAttribute("aria-label", TEXT.offers);
    (Array.isArray(offers) ? offers : []).forEach(function (o) {
      if (!o || !str(o.label)) return;
      var li = el("li", "yw-offer");
      if (o.kind === "hotline" && /^[0-9-]{3,20}$/.test(str(o.value))) {
        var a = el("a", "yw-link", o.label);
        a.href = "tel:" + o.value;
        li.appendChild(a);
      } else if (payloads.indexOf(o.value) >= 0) {
        return; // the reply already has this button
      } else {
        li.appendChild(document.createTextNode(o.label));
      }
      list.appendChild(li);
    });
    return list.children.length ? list : null;
  }

  /* The bubble of an answer payload; null if the payload is not one we can draw. */
  function answerCard(custom, text, buttons) {
    var bubble = el("div", "yw-bubble yw-answer");
    bubble.appendChild(el("span", "yw-sr", TEXT.botSays));
    if (custom.abstained === true) {
      bubble.appendChild(renderText(str(custom.message) || str(text)));
      var offers = offerList(custom.offers, buttons);
      if (offers) bubble.appendChild(offers);
      return bubble;
    }
    if (!str(custom.lead) || !Array.isArray(custom.citations)) return null;
    bubble.appendChild(renderText(custom.lead, "yw-lead"));
    if (str(custom.explanation)) bubble.appendChild(renderText(custom.explanation, "yw-explanation"));
    var cites = custom.citations.filter(function (c) {
      return c && typeof c === "object" && (str(c.citation) || str(c.title));
    });
    if (cites.length) {
      bubble.appendChild(el("p", "yw-cite-head", TEXT.basis));
      var list = el("ul", "yw-cites");
      list.setAttribute("aria-label", TEXT.basis);
      cites.forEach(function (c) {
        list.appendChild(citationItem(c));
      });
      bubble.appendChild(list);
    }
    return bubble;
  }

  // ---------------------------------------------------------------- summary card
  function summaryFields(custom) {
    var f = custom.fields;
    var out = [];
    if (Array.isArray(f)) {
      f.forEach(function (item) {
        if (!item || typeof item !== "object") return;
        var label = item.label || item.name || item.key;
        if (label === undefined || item.value === undefined || item.value === null) return;
        out.push({ label: String(label), value: String(item.value) });
      });
    } else if (f && typeof f === "object") {
      Object.keys(f).forEach(function (k) {
        if (f[k] !== undefined && f[k] !== null) out.push({ label: k, value: String(f[k]) });
      });
    }
    return out;
  }

  /* The review step of a form: one row per field, then the hint. */
  function summaryCard(custom) {
    var fields = summaryFields(custom);
    if (!fields.length) return null;
    var card = el("section", "yw-card");
    var title = str(custom.title) || TEXT.summaryTitle;
    card.setAttribute("aria-label", title);
    card.appendChild(el("h3", "yw-card-title", title));
    var dl = el("dl", "yw-card-fields");
    fields.forEach(function (f) {
      var row = el("div", "yw-card-row");
      row.appendChild(el("dt", null, f.label));
      var dd = el("dd");
      f.value.split(/\r?\n/).forEach(function (line, i) {
        if (i) dd.appendChild(el("br"));
        appendInline(dd, line);
      });
      row.appendChild(dd);
      dl.appendChild(row);
    });
    card.appendChild(dl);
    if (str(custom.hint)) {
      var hint = el("div", "yw-card-hint");
      hint.appendChild(renderText(custom.hint));
      card.appendChild(hint);
    }
    return card;
  }

  /* The node for a structured reply, or null when it has none (show the text). */
  function card(msg) {
    var custom = msg.custom;
    if (!custom || typeof custom !== "object") return null;
    if (custom.type === "answer") return answerCard(custom, msg.text, msg.buttons);
    if (custom.type === "complaint_summary") return summaryCard(custom);
    return null;
  }

  M.render = {
    el: el,
    useTicketPattern: useTicketPattern,
    renderText: renderText,
    card: card,
  };
})(window.YiwenWidget._modules);
